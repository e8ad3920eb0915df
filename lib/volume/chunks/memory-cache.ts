// Opened chunks (plaintext) kept in memory, because FUSE reads 128 KiB at a
// time out of 1 MiB chunks: the next read of the same chunk needs no fetch
// and no decryption. Least recently used go first (lru-cache; a read counts
// as a use, a prefetch's look does not).
//
// An opened chunk's buffer never leaves this cache (readers get copies, see
// ChunkReader.read()), so an evicted one is handed back to the pool of
// whole-chunk buffers and reused, unless a reader is copying out of it right
// now: it is pinned, and handed back when the last reader is done.

import { LRUCache } from 'lru-cache'
import type { BufferPool } from './buffer-pool'

export class ChunkMemoryCache {
  /** hex key → opened plaintext, least recently used first. */
  private readonly entries: LRUCache<string, Buffer>
  /** Readers copying out of an opened chunk, by key: its buffer is not reused under them. */
  private readonly pins = new Map<string, number>()
  /** Evicted buffers of pinned chunks, reused when the last reader is done. */
  private readonly retired = new Map<string, Buffer[]>()

  constructor(
    /** Budget in bytes of plaintext kept. */
    private readonly budgetBytes: number,
    /** Where evicted buffers go back to (ChunkStore.chunkBuffers). */
    private readonly buffers: BufferPool
  ) {
    this.entries = new LRUCache<string, Buffer>({
      // lru-cache counts in positive integers: an empty chunk counts as one byte.
      maxSize: Math.max(1, budgetBytes),
      sizeCalculation: (plain) => Math.max(1, plain.byteLength),
      // Evicted, or replaced by another buffer of the same chunk; not on clear()
      // (close), which leaves the buffers to the GC.
      dispose: (plain, hex, reason) => {
        if (reason === 'evict' || reason === 'set') this.retire(hex, plain)
      }
    })
  }

  /** The opened plaintext of a chunk (a use: it becomes the most recent), or undefined. */
  get(hex: string): Buffer | undefined {
    return this.entries.get(hex)
  }

  /** Whether a chunk is held, without counting as a use. */
  has(hex: string): boolean {
    return this.entries.has(hex)
  }

  /** Keeps an opened (or just sealed) chunk; its buffer is this cache's from now on. */
  remember(hex: string, plaintext: Buffer): void {
    if (plaintext.byteLength > this.budgetBytes) return
    this.entries.set(hex, plaintext)
  }

  /** A reader starts copying out of the chunk: its buffer is not reused until unpin(). */
  pin(hex: string): void {
    this.pins.set(hex, (this.pins.get(hex) ?? 0) + 1)
  }

  unpin(hex: string): void {
    const n = (this.pins.get(hex) ?? 1) - 1
    if (n > 0) {
      this.pins.set(hex, n)
      return
    }
    this.pins.delete(hex)
    for (const buf of this.retired.get(hex) ?? []) this.buffers.give(buf)
    this.retired.delete(hex)
  }

  clear(): void {
    this.entries.clear()
  }

  /** A buffer evicted from the cache: reused at once unless a reader is copying out of it. */
  private retire(hex: string, buf: Buffer): void {
    if (!this.pins.has(hex)) {
      this.buffers.give(buf)
      return
    }
    const list = this.retired.get(hex)
    if (list) list.push(buf)
    else this.retired.set(hex, [buf])
  }
}
