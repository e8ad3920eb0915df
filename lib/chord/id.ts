// Identifiers on the 256-bit Chord ring.
//
// Inside lib/chord every identifier (node id, virtual node id, key) is a
// `bigint` in [0, 2^256). On the wire an id is 32 bytes, big-endian: use
// `idToBuffer` / `idFromBuffer` in the schemas. Keys handed in by the storage
// layer are 32-byte SHA-256 hashes and may be given as Buffer or bigint.

import { createHash } from 'node:crypto'

export type Id = bigint

export const ID_BITS = 256
export const ID_BYTES = 32
export const RING_SIZE: Id = 1n << 256n
export const RING_MASK: Id = RING_SIZE - 1n

/** A key as the storage layer holds it (32-byte hash) or as the ring holds it. */
export type KeyLike = Id | Uint8Array

export function idFromBuffer(buf: Uint8Array): Id {
  if (buf.byteLength !== ID_BYTES) throw new RangeError(`an id is ${ID_BYTES} bytes, got ${buf.byteLength}`)
  return BigInt(`0x${Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('hex')}`)
}

export function idToBuffer(id: Id): Buffer {
  if (id < 0n || id > RING_MASK) throw new RangeError('id outside the 256-bit ring')
  return Buffer.from(id.toString(16).padStart(ID_BYTES * 2, '0'), 'hex')
}

export function toId(key: KeyLike): Id {
  if (typeof key === 'bigint') {
    if (key < 0n || key > RING_MASK) throw new RangeError('key outside the 256-bit ring')
    return key
  }
  return idFromBuffer(key)
}

/** Short hex prefix for logs and human output. */
export function shortId(id: Id): string {
  return id
    .toString(16)
    .padStart(ID_BYTES * 2, '0')
    .slice(0, 8)
}

export function sha256Id(...parts: Uint8Array[]): Id {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return idFromBuffer(h.digest())
}

/**
 * The id of a machine's virtual node `index`. Index 0 is SHA-256(publicKey),
 * the brief's "node id = hash of the public key"; index i > 0 is
 * SHA-256(publicKey || uint32be(i)). Any peer can recompute these from the
 * public key, so a peer cannot place itself at a chosen point of the ring.
 */
export function virtualNodeId(publicKey: Uint8Array, index: number): Id {
  if (index === 0) return sha256Id(publicKey)
  const suffix = Buffer.alloc(4)
  suffix.writeUInt32BE(index)
  return sha256Id(publicKey, suffix)
}

/** Machines whose id sets are memoized by key bytes (beyond those kept by key object). */
const ID_SETS_BY_HEX = 16_384
const idSetsByKey = new WeakMap<Uint8Array, { count: number; ids: ReadonlySet<Id> }>()
const idSetsByHex = new Map<string, ReadonlySet<Id>>()

/**
 * The ids of a machine's virtual nodes 0 … count − 1: the only places on the
 * ring a message may put that machine. Memoized (a check runs for every
 * NodeRef a message names): by key object, which the simulator hands out
 * once per machine, then by key bytes, bounded.
 */
export function virtualNodeIds(publicKey: Uint8Array, count: number): ReadonlySet<Id> {
  const byKey = idSetsByKey.get(publicKey)
  if (byKey && byKey.count === count) return byKey.ids
  const hex = `${count}:${Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('hex')}`
  let ids = idSetsByHex.get(hex)
  if (!ids) {
    const set = new Set<Id>()
    for (let i = 0; i < count; i++) set.add(virtualNodeId(publicKey, i))
    ids = set
    if (idSetsByHex.size >= ID_SETS_BY_HEX) idSetsByHex.delete(idSetsByHex.keys().next().value as string)
    idSetsByHex.set(hex, ids)
  }
  idSetsByKey.set(publicKey, { count, ids })
  return ids
}
