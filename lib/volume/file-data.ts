// The contents of one regular file: a list of fixed-size encrypted chunks plus
// the chunks being written (plaintext, in memory, until sealed). A write
// touches only the chunks it overlaps, so a small random write re-uploads one
// chunk. Unwritten ranges are holes and read as zeros; a chunk's plaintext may
// be shorter than the chunk size, and what is missing reads as zeros too.

import { copyRange } from './chunks/bytes'
import type { ChunkStore } from './chunks/chunk-store'
import { volumeError } from './errors'
import { Mutex } from '../common/semaphore'

const MIN_DIRTY_CAPACITY = 64 * 1024
/** A write this large at a chunk's start gets the chunk's whole buffer at once. */
const SEQUENTIAL_WRITE_HINT = 128 * 1024
/** Read-ahead in chunks: a sequential reader's window doubles from the first to the last. */
const READ_AHEAD_MIN = 2
const READ_AHEAD_MAX = 16
/** Seals of one file running at once before a sequential writer waits for the oldest. */
const MAX_SEALING = 4
/** Files up to this size keep their content in the inode record. */
export const INLINE_MAX = 8 * 1024

export interface FileContent {
  /** Binds chunks to this file in their AEAD associated data; kept by conflict copies. */
  fileId: Buffer
  fileKey: Buffer
  chunkSize: number
  size: number
  /** sha256 of each chunk's ciphertext; null is a hole. */
  chunks: (Buffer | null)[]
  /**
   * A small file's whole content, kept inside the (encrypted) inode record
   * instead of as a chunk: one value to store instead of two per small file.
   */
  inline?: Buffer | null
  /**
   * Set on a file and its conflict copies (they start from one chunk list):
   * their chunks are never garbage-collected (chunks/gc.ts).
   */
  shared?: boolean
}

interface DirtyChunk {
  buf: Buffer
  /** Bytes of buf that hold data; the rest of the chunk reads as zeros. */
  len: number
}

/** A full chunk on its way through a crypto worker: still what reads see, no longer writable. */
interface SealingChunk extends DirtyChunk {
  done: Promise<void>
}

export class FileData implements FileContent {
  fileId: Buffer
  fileKey: Buffer
  chunkSize: number
  size: number
  chunks: (Buffer | null)[]
  inline: Buffer | null
  shared: boolean
  /** Keys sealed since the Volume last took them: uploads a later write may replace before any record lists them. */
  private sealedKeys: Buffer[] = []
  private dirty = new Map<number, DirtyChunk>()
  private sealing = new Map<number, SealingChunk>()
  /** A background seal that failed (its chunk went back to `dirty`); seal() reports it. */
  private sealError: Error | null = null
  /** Read-ahead state: the chunk after the last read, and the current window. */
  private nextRead = -1
  private readAhead = READ_AHEAD_MIN
  readonly chunkStore: ChunkStore
  /** Serialises writers (write, truncate, seal); readers never wait for it. */
  readonly lock = new Mutex()
  /** Called with the change in dirty bytes, so the Volume can bound memory across files. */
  onDirty: (delta: number) => void = () => {}

  constructor(content: FileContent, chunkStore: ChunkStore) {
    this.fileId = content.fileId
    this.fileKey = content.fileKey
    this.chunkSize = content.chunkSize
    this.size = content.size
    this.chunks = content.chunks.slice()
    this.inline = content.inline ?? null
    this.shared = content.shared ?? false
    this.chunkStore = chunkStore
  }

  /** Data not yet in `chunks`: being written, or being sealed. */
  get hasDirty(): boolean {
    return this.dirty.size > 0 || this.sealing.size > 0
  }

  /** The lowest chunk index whose data is not in `chunks` yet; Infinity when all are. */
  get firstUnsealed(): number {
    let first = Number.POSITIVE_INFINITY
    for (const i of this.dirty.keys()) first = Math.min(first, i)
    for (const i of this.sealing.keys()) first = Math.min(first, i)
    return first
  }

  get dirtyBytes(): number {
    let n = 0
    for (const d of this.dirty.values()) n += d.buf.byteLength
    for (const d of this.sealing.values()) n += d.buf.byteLength
    return n
  }

  snapshot(): FileContent {
    return {
      fileId: this.fileId,
      fileKey: this.fileKey,
      chunkSize: this.chunkSize,
      size: this.size,
      chunks: this.chunks.slice(),
      inline: this.inline,
      shared: this.shared
    }
  }

  /** Fills `out` from `pos`; returns the byte count (short only at end of file). */
  async read(out: Buffer, len: number, pos: number): Promise<number> {
    const end = Math.min(pos + len, this.size)
    if (end <= pos) return 0
    const cs = this.chunkSize
    const first = Math.floor(pos / cs)
    const last = Math.floor((end - 1) / cs)
    const loads: Promise<void>[] = []
    for (let i = first; i <= last; i++) {
      const chunkStart = i * cs
      const from = Math.max(pos, chunkStart)
      const to = Math.min(end, chunkStart + cs)
      const target = out.subarray(from - pos, to - pos)
      // Decide the source now, so the whole read is one consistent snapshot.
      const d = this.dirty.get(i) ?? this.sealing.get(i)
      if (d) {
        copyRange(target, d.buf, d.len, from - chunkStart)
        continue
      }
      if (i === 0 && this.inline) {
        copyRange(target, this.inline, this.inline.byteLength, from)
        continue
      }
      const key = this.chunks[i]
      if (!key) {
        target.fill(0)
        continue
      }
      loads.push(this.chunkStore.read(this.fileId, this.fileKey, i, key, target, from - chunkStart))
    }
    // Read-ahead: a reader that goes on where it left off (or stays in the
    // chunk; the kernel sends 128 KiB reads, a few at once) will want the next
    // chunks, so open them while it copies this one. The window grows while
    // the reader stays sequential and shrinks back when it jumps.
    const sequential = first === this.nextRead || first === this.nextRead - 1
    this.readAhead = sequential ? Math.min(READ_AHEAD_MAX, this.readAhead * 2) : READ_AHEAD_MIN
    this.nextRead = last + 1
    for (let i = last + 1; i <= last + this.readAhead && i < this.chunks.length; i++) {
      const next = this.chunks[i]
      if (next && !this.dirty.has(i) && !this.sealing.has(i))
        this.chunkStore.prefetch(this.fileId, this.fileKey, i, next)
    }
    await Promise.all(loads)
    return end - pos
  }

  /** Writes `data` at `pos` (a copy: FUSE detaches its buffer after the callback). */
  async write(data: Buffer, pos: number): Promise<number> {
    return this.lock.run(async () => {
      const cs = this.chunkSize
      const length = data.byteLength
      const end = pos + length
      let i = Math.floor(pos / cs)
      while (i * cs < end) {
        const chunkStart = i * cs
        const from = Math.max(pos, chunkStart) - chunkStart
        const to = Math.min(end, chunkStart + cs) - chunkStart
        const d = await this.dirtyChunk(i, from, to)
        grow(d, to, cs, this)
        // Buffers are not zero-filled: a gap between the data so far and this write reads as zeros.
        if (from > d.len) d.buf.fill(0, d.len, from)
        // FUSE's buffer is detached once the op was answered (its deadline, wrap.ts): copy nothing then.
        if (data.byteLength !== length) throw volumeError('EIO', 'the write was answered before its data was copied')
        data.copy(d.buf, from, chunkStart + from - pos, chunkStart + to - pos)
        if (to > d.len) d.len = to
        // A write that ends a chunk is sequential: start sealing it now, so
        // memory stays bounded; the writer goes on while a worker encrypts.
        if (to === cs && d.len === cs) await this.sealChunk(i, false)
        i++
      }
      if (end > this.size) this.size = end
      return length
    })
  }

  async truncate(size: number): Promise<void> {
    await this.lock.run(async () => {
      await this.sealed()
      const cs = this.chunkSize
      if (size < this.size) {
        const keep = Math.ceil(size / cs)
        for (const [i, d] of this.dirty) {
          if (i >= keep) {
            this.dirty.delete(i)
            this.onDirty(-d.buf.byteLength)
          }
        }
        if (this.chunks.length > keep) this.chunks.length = keep
        if (keep === 0) this.inline = null
        const tail = size - (keep - 1) * cs
        if (keep > 0 && tail < cs) {
          // The chunk holding the new end keeps only the bytes before it, so
          // that growing the file again shows zeros, not the old bytes.
          const idx = keep - 1
          const d = this.dirty.get(idx)
          if (idx === 0 && !d && this.inline && this.inline.byteLength > tail) {
            this.inline = Buffer.from(this.inline.subarray(0, tail))
          } else if (d) {
            if (d.len > tail) {
              d.buf.fill(0, tail)
              d.len = tail
            }
          } else if (this.chunks[idx]) {
            const plain = await this.chunkStore.open(this.fileId, this.fileKey, idx, this.chunks[idx]!)
            if (plain.byteLength > tail) {
              const nd = await this.dirtyChunk(idx, 0, 0)
              nd.buf.fill(0, tail)
              nd.len = Math.min(nd.len, tail)
            }
          }
        }
      }
      this.size = size
    })
  }

  /** Seals every dirty chunk (before a close, fsync or flush). Returns when all are queued for upload. */
  async seal(): Promise<void> {
    await this.lock.run(async () => {
      this.sealError = null
      for (const i of [...this.dirty.keys()].sort((a, b) => a - b)) await this.sealChunk(i, false)
      await this.sealed()
      if (this.sealError) throw this.sealError
    })
  }

  /** Seals one chunk if it is still dirty; for the Volume's memory bound. */
  async sealIndex(i: number): Promise<void> {
    await this.lock.run(() => this.sealChunk(i, true))
  }

  /** Resolves when no seal of this file is running (all keys are in `chunks`). */
  private async sealed(): Promise<void> {
    while (this.sealing.size > 0) await Promise.all([...this.sealing.values()].map((s) => s.done))
  }

  dirtyIndexes(): number[] {
    return [...this.dirty.keys()]
  }

  /**
   * Seals dirty chunk i. Small files keep their content inline; otherwise the
   * chunk moves to `sealing` (reads still see it) while a crypto worker
   * encrypts it, and its key lands in `chunks` when that is done. With `wait`
   * false only the start is awaited (and the oldest seal when this file has
   * MAX_SEALING running), so a sequential writer overlaps with the crypto.
   */
  private async sealChunk(i: number, wait: boolean): Promise<void> {
    const d = this.dirty.get(i)
    if (!d) return
    await this.chunkStore.waitForRoom()
    // Callers hold the lock, but stay explicit: only seal what is still this chunk's buffer.
    if (this.dirty.get(i) !== d) return
    if (i === 0 && this.size <= INLINE_MAX) {
      // Small file: the content goes into the record itself.
      this.inline = d.len > 0 ? Buffer.from(d.buf.subarray(0, d.len)) : null
      if (this.chunks.length > 0) this.chunks[0] = null
      this.dirty.delete(i)
      this.onDirty(-d.buf.byteLength)
      return
    }
    if (i !== 0) await this.materializeInline()
    if (i === 0) this.inline = null
    this.dirty.delete(i)
    if (d.len === 0) {
      this.setKey(i, null)
      this.onDirty(-d.buf.byteLength)
      return
    }
    const s: SealingChunk = { buf: d.buf, len: d.len, done: Promise.resolve() }
    // A whole-chunk buffer is recycled once sealed, so its plaintext is not
    // kept in the memory cache (a reader of it opens the sealed chunk).
    const recycle = d.buf.byteLength === this.chunkSize && d.buf.buffer instanceof SharedArrayBuffer
    const plain = d.buf.subarray(0, d.len)
    s.done = this.chunkStore.seal(this.fileId, this.fileKey, i, plain, { keepPlaintext: !recycle }).then(
      (key) => {
        if (this.sealing.get(i) !== s) return
        this.setKey(i, key)
        this.sealing.delete(i)
        this.onDirty(-d.buf.byteLength)
        // Nothing refers to it now: reads copy from it synchronously, and the worker is done.
        if (recycle) this.chunkStore.chunkBuffers.give(d.buf)
      },
      (err: Error) => {
        // Nothing is lost: the chunk is dirty again, and the next seal() retries and reports.
        if (this.sealing.get(i) !== s) return
        this.sealing.delete(i)
        this.dirty.set(i, d)
        this.sealError = err
      }
    )
    this.sealing.set(i, s)
    if (wait) await s.done
    else if (this.sealing.size > MAX_SEALING) await this.sealing.values().next().value!.done
  }

  private setKey(i: number, key: Buffer | null): void {
    while (this.chunks.length <= i) this.chunks.push(null)
    this.chunks[i] = key
    if (key) this.sealedKeys.push(key)
  }

  /** The keys sealed since the last call (for chunk garbage collection, chunks/gc.ts). */
  takeSealedKeys(): Buffer[] {
    const keys = this.sealedKeys
    this.sealedKeys = []
    return keys
  }

  /** The file outgrew INLINE_MAX: its inline head becomes chunk 0 like any other. */
  private async materializeInline(): Promise<void> {
    if (!this.inline || this.dirty.has(0) || this.sealing.has(0)) return
    const inline = this.inline
    const key = await this.chunkStore.seal(this.fileId, this.fileKey, 0, inline)
    // Reads saw the inline head until the key was there.
    if (this.inline !== inline) return
    this.setKey(0, key)
    this.inline = null
  }

  /** The dirty buffer of chunk i, loading its stored plaintext unless [from, to) covers all of it. */
  private async dirtyChunk(i: number, from: number, to: number): Promise<DirtyChunk> {
    const existing = this.dirty.get(i)
    if (existing) return existing
    // Written again while it is being sealed: start from the sealed chunk once its key is known.
    const sealing = this.sealing.get(i)
    if (sealing) await sealing.done
    const key = this.chunks[i]
    let base: Buffer | null = null
    if (i === 0 && this.inline) base = this.inline
    else if (key) base = await this.chunkStore.open(this.fileId, this.fileKey, i, key)
    if (base && from === 0 && to >= base.byteLength) base = null
    const d: DirtyChunk = { buf: Buffer.alloc(0), len: 0 }
    // A large write at a chunk's start is most likely a sequential writer:
    // take the whole chunk at once rather than grow (and copy) it four times.
    const whole = from === 0 && to >= SEQUENTIAL_WRITE_HINT
    grow(d, whole ? this.chunkSize : Math.max(to, base ? base.byteLength : 0), this.chunkSize, this)
    if (base) {
      base.copy(d.buf)
      d.len = base.byteLength
    }
    this.dirty.set(i, d)
    return d
  }
}

function grow(d: DirtyChunk, need: number, max: number, file: FileData): void {
  if (d.buf.byteLength >= need) return
  let cap = Math.max(MIN_DIRTY_CAPACITY, d.buf.byteLength * 2)
  while (cap < need) cap *= 2
  cap = Math.min(cap, max)
  // Unzeroed: bytes at and past d.len are never read (see copyRange and the gap fill in write).
  // A whole chunk is recycled shared memory (ChunkStore.chunkBuffers).
  const buf = cap >= max ? file.chunkStore.chunkBuffers.take(cap) : Buffer.allocUnsafeSlow(cap)
  d.buf.copy(buf, 0, 0, d.len)
  file.onDirty(cap - d.buf.byteLength)
  d.buf = buf
}
