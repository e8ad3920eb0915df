// Buffers whose SHA-256 this process has already computed, so that a value
// written by this node to its own store is hashed once, not twice: the ring
// client hashes a value to get its key, and when this node is among the
// key's responsible machines the same Buffer reaches NodeStore.putImmutable
// (PeerNetwork hands directLocal requests over without a copy). Bytes that
// came from the network are fresh Buffers, never in this map, so they are
// always verified. Keyed weakly by the Buffer object: a copy or a view of it
// is a different object and is hashed again.
//
// Whoever notes a hash must not change the bytes afterwards; a value being
// written is also being sent as is, so changing it would be a bug anyway.

const known = new WeakMap<Uint8Array, Buffer>()

export function noteHashed(bytes: Uint8Array, hash: Buffer): void {
  known.set(bytes, hash)
}

/** The hash noted for exactly this Buffer object, if any. */
export function hashedAs(bytes: Uint8Array): Buffer | undefined {
  return known.get(bytes)
}
