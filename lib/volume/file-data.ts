// The contents of one regular file: a list of fixed-size encrypted chunks plus
// the chunks being written (plaintext, in memory, until sealed). A write
// touches only the chunks it overlaps, so a small random write re-uploads one
// chunk. Unwritten ranges are holes and read as zeros; a chunk's plaintext may
// be shorter than the chunk size, and what is missing reads as zeros too.

import type { ChunkStore } from './chunk-store'
import { Mutex } from './mutex'

const MIN_DIRTY_CAPACITY = 64 * 1024
const READ_AHEAD_CHUNKS = 4
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
}

interface DirtyChunk {
  buf: Buffer
  /** Bytes of buf that hold data; the rest of the chunk reads as zeros. */
  len: number
}

export class FileData implements FileContent {
  fileId: Buffer
  fileKey: Buffer
  chunkSize: number
  size: number
  chunks: (Buffer | null)[]
  inline: Buffer | null
  private dirty = new Map<number, DirtyChunk>()
  private readonly chunkStore: ChunkStore
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
    this.chunkStore = chunkStore
  }

  get hasDirty(): boolean {
    return this.dirty.size > 0
  }

  get dirtyBytes(): number {
    let n = 0
    for (const d of this.dirty.values()) n += d.buf.byteLength
    return n
  }

  snapshot(): FileContent {
    return {
      fileId: this.fileId,
      fileKey: this.fileKey,
      chunkSize: this.chunkSize,
      size: this.size,
      chunks: this.chunks.slice(),
      inline: this.inline
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
      const d = this.dirty.get(i)
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
      loads.push(
        this.chunkStore.open(this.fileId, this.fileKey, i, key).then((plain) => {
          copyRange(target, plain, plain.byteLength, from - chunkStart)
        })
      )
    }
    // Read-ahead: a sequential reader will want the next chunks; fetch them in parallel now.
    for (let i = last + 1; i <= last + READ_AHEAD_CHUNKS && i < this.chunks.length; i++) {
      const next = this.chunks[i]
      if (next && !this.dirty.has(i)) this.chunkStore.prefetch(this.fileId, this.fileKey, i, next)
    }
    await Promise.all(loads)
    return end - pos
  }

  /** Writes `data` at `pos` (a copy: FUSE detaches its buffer after the callback). */
  async write(data: Buffer, pos: number): Promise<number> {
    return this.lock.run(async () => {
      const cs = this.chunkSize
      const end = pos + data.byteLength
      let i = Math.floor(pos / cs)
      while (i * cs < end) {
        const chunkStart = i * cs
        const from = Math.max(pos, chunkStart) - chunkStart
        const to = Math.min(end, chunkStart + cs) - chunkStart
        const d = await this.dirtyChunk(i, from, to)
        grow(d, to, cs, this)
        // Buffers are not zero-filled: a gap between the data so far and this write reads as zeros.
        if (from > d.len) d.buf.fill(0, d.len, from)
        data.copy(d.buf, from, chunkStart + from - pos, chunkStart + to - pos)
        if (to > d.len) d.len = to
        // A write that ends a chunk is sequential: seal it now, so memory stays bounded.
        if (to === cs && d.len === cs) await this.sealChunk(i)
        i++
      }
      if (end > this.size) this.size = end
      return data.byteLength
    })
  }

  async truncate(size: number): Promise<void> {
    await this.lock.run(async () => {
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
      for (const i of [...this.dirty.keys()].sort((a, b) => a - b)) await this.sealChunk(i)
    })
  }

  /** Seals one chunk if it is still dirty; for the Volume's memory bound. */
  async sealIndex(i: number): Promise<void> {
    await this.lock.run(() => this.sealChunk(i))
  }

  dirtyIndexes(): number[] {
    return [...this.dirty.keys()]
  }

  private async sealChunk(i: number): Promise<void> {
    const d = this.dirty.get(i)
    if (!d) return
    await this.chunkStore.waitForRoom()
    // Re-read: a truncate may have dropped the chunk while we waited (not under
    // this lock? we hold it; but keep the check cheap and explicit).
    if (this.dirty.get(i) !== d) return
    const plain = d.buf.subarray(0, d.len)
    if (i === 0 && this.size <= INLINE_MAX) {
      // Small file: the content goes into the record itself.
      this.inline = d.len > 0 ? Buffer.from(plain) : null
      if (this.chunks.length > 0) this.chunks[0] = null
    } else {
      if (i !== 0) this.materializeInline()
      if (i === 0) this.inline = null
      const key = d.len === 0 ? null : this.chunkStore.seal(this.fileId, this.fileKey, i, plain)
      while (this.chunks.length <= i) this.chunks.push(null)
      this.chunks[i] = key
    }
    this.dirty.delete(i)
    this.onDirty(-d.buf.byteLength)
  }

  /** The file outgrew INLINE_MAX: its inline head becomes chunk 0 like any other. */
  private materializeInline(): void {
    if (!this.inline || this.dirty.has(0)) return
    const key = this.chunkStore.seal(this.fileId, this.fileKey, 0, this.inline)
    if (this.chunks.length === 0) this.chunks.push(null)
    this.chunks[0] = key
    this.inline = null
  }

  /** The dirty buffer of chunk i, loading its stored plaintext unless [from, to) covers all of it. */
  private async dirtyChunk(i: number, from: number, to: number): Promise<DirtyChunk> {
    const existing = this.dirty.get(i)
    if (existing) return existing
    const key = this.chunks[i]
    let base: Buffer | null = null
    if (i === 0 && this.inline) base = this.inline
    else if (key) base = await this.chunkStore.open(this.fileId, this.fileKey, i, key)
    if (base && from === 0 && to >= base.byteLength) base = null
    const d: DirtyChunk = { buf: Buffer.alloc(0), len: 0 }
    grow(d, Math.max(to, base ? base.byteLength : 0), this.chunkSize, this)
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
  const buf = Buffer.allocUnsafeSlow(cap)
  d.buf.copy(buf, 0, 0, d.len)
  file.onDirty(cap - d.buf.byteLength)
  d.buf = buf
}

/** Copies chunk bytes [offset, offset + target.length) into target; bytes past `len` are zeros. */
function copyRange(target: Buffer, src: Buffer, len: number, offset: number): void {
  const avail = Math.max(0, Math.min(len, offset + target.byteLength) - offset)
  if (avail > 0) src.copy(target, 0, offset, offset + avail)
  if (avail < target.byteLength) target.fill(0, avail)
}
