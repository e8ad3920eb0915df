// Recycled whole-chunk write buffers. A sequential writer fills one chunk
// buffer per MiB; allocating each anew (a zeroed SharedArrayBuffer, its pages
// faulted in on first touch) and leaving it to the GC cost about as much as
// the FUSE copies into it. Buffers are shared memory so that sealing hands
// them to a crypto worker without a copy. A buffer comes back only when
// nothing refers to it any more: after its seal, whose plaintext is then not
// kept in the memory cache.

/** Buffers kept for reuse; beyond this they are left to the GC (bounded memory). */
const MAX_FREE = 8

const free = new Map<number, Buffer[]>()

/** A buffer of `size` bytes, not zeroed: the caller tracks which bytes hold data. */
export function takeChunkBuffer(size: number): Buffer {
  return free.get(size)?.pop() ?? Buffer.from(new SharedArrayBuffer(size))
}

/** Returns a buffer from takeChunkBuffer that nothing refers to any more. */
export function giveChunkBuffer(buf: Buffer): void {
  let list = free.get(buf.byteLength)
  if (!list) {
    list = []
    free.set(buf.byteLength, list)
  }
  if (list.length < MAX_FREE) list.push(buf)
}
