// The write-ahead journal of metadata changes not yet in the ValueStore.
// Every change is appended (in memory) as it happens and made durable by a
// group commit (one write + fsync) when a close, fsync or the background
// flusher needs it. The flusher rotates to a new segment, writes the dirty
// records, then discards the old segments. After a crash the next mount
// replays all segments in order over what the store holds. Every op sets a
// value (never adds to one), so replaying an op twice does no harm.
//
// A segment is a sequence of [u32 length][AEAD(JSON ops)] entries; a torn
// tail fails authentication and ends the segment.

import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { decrypt, encrypt } from '../crypto/aead'
import { fsyncDir } from './durable-file'
import { Mutex } from '../common/semaphore'

export type JournalOp =
  /** Full state of an inode; for a directory without its entries. */
  | { o: 's'; id: string; w: unknown }
  /** Sets (c = child id) or removes (c = null) one directory entry. */
  | { o: 'e'; d: string; n: string; c: string | null; t?: string }
  /** The inode was deleted. */
  | { o: 'x'; id: string }
  /** Ciphertext of a small chunk that was not uploaded yet. */
  | { o: 'k'; b: string }

const SEGMENT_RE = /^(\d{16})\.log$/

export class Journal {
  readonly dir: string
  private readonly key: Buffer
  private current = 0
  private fd: number | null = null
  private dirNeedsSync = false
  private buffered: JournalOp[][] = []
  private committing: Promise<void> | null = null
  private again = false
  private syncWanted = false
  /** Writing and rotating never overlap: a write must land in the segment it was meant for. */
  private io = new Mutex()
  /** Segments of a crashed mount whose ops are not all applied and stored yet: rotate() never hands them out. */
  private held = new Set<number>()

  constructor(dir: string, key: Buffer) {
    this.dir = dir
    this.key = key
  }

  async ready(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 })
    const segs = await this.segments()
    this.current = (segs.length > 0 ? segs[segs.length - 1] : 0) + 1
  }

  private async segments(): Promise<number[]> {
    const names = await fsp.readdir(this.dir)
    return names
      .map((n) => SEGMENT_RE.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b)
  }

  private file(seg: number): string {
    return path.join(this.dir, `${String(seg).padStart(16, '0')}.log`)
  }

  /** All entries of all segments on disk, oldest first (for replay after a crash). */
  async readAll(): Promise<{ segments: number[]; entries: JournalOp[][] }> {
    const segments = (await this.segments()).filter((s) => s < this.current)
    const entries: JournalOp[][] = []
    for (const seg of segments) {
      const bytes = await fsp.readFile(this.file(seg))
      let off = 0
      while (off + 4 <= bytes.byteLength) {
        const len = bytes.readUInt32BE(off)
        if (off + 4 + len > bytes.byteLength) break
        try {
          const plain = decrypt(bytes.subarray(off + 4, off + 4 + len), this.key, adFor(seg))
          entries.push(JSON.parse(plain.toString()))
        } catch {
          break
        }
        off += 4 + len
      }
    }
    return { segments, entries }
  }

  /**
   * Keeps `segments` (read by replay) out of what rotate() returns, so the
   * flusher never discards them: replay holds them until every op in them is
   * applied and stored, and releases them then (volume.ts, replay).
   */
  hold(segments: number[]): void {
    for (const s of segments) this.held.add(s)
  }

  release(segments: number[]): void {
    for (const s of segments) this.held.delete(s)
  }

  get hasBuffered(): boolean {
    return this.buffered.length > 0
  }

  /** Queues one entry; its ops are applied together on replay. */
  append(ops: JournalOp[]): void {
    if (ops.length > 0) this.buffered.push(ops)
  }

  /**
   * Writes every entry appended so far to the segment file. That alone
   * survives a crash of this process (the kernel holds the pages); `sync`
   * also survives a crash of the machine. Concurrent callers share one write.
   */
  async commit(opts: { sync?: boolean } = {}): Promise<void> {
    if (opts.sync) this.syncWanted = true
    if (this.committing) {
      this.again = true
      await this.committing
      if (this.buffered.length === 0 && !(opts.sync && this.syncWanted)) return
      return this.commit(opts)
    }
    if (this.buffered.length === 0 && !this.syncWanted) return
    this.committing = this.io.run(() => this.writeBuffered())
    try {
      await this.committing
    } finally {
      this.committing = null
    }
    if (this.again && this.buffered.length > 0) {
      this.again = false
      return this.commit()
    }
  }

  private async writeBuffered(): Promise<void> {
    const sync = this.syncWanted
    this.syncWanted = false
    if (this.buffered.length > 0) this.writeNow()
    if (sync && this.fd !== null) {
      const fd = this.fd
      await new Promise<void>((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())))
      if (this.dirNeedsSync) {
        this.dirNeedsSync = false
        await fsyncDir(this.dir)
      }
    }
  }

  /**
   * Appends the buffered entries with one synchronous write: a few hundred
   * bytes into the page cache, cheaper than a trip through the thread pool,
   * which is busy with chunk uploads.
   */
  private writeNow(): void {
    const batch = this.buffered
    this.buffered = []
    const seg = this.current
    if (this.fd === null) {
      this.fd = fs.openSync(this.file(seg), 'a', 0o600)
      this.dirNeedsSync = true
    }
    const parts: Buffer[] = []
    for (const ops of batch) {
      const sealed = encrypt(Buffer.from(JSON.stringify(ops)), this.key, adFor(seg))
      const len = Buffer.alloc(4)
      len.writeUInt32BE(sealed.byteLength)
      parts.push(len, sealed)
    }
    const bytes = Buffer.concat(parts)
    for (let off = 0; off < bytes.byteLength; ) off += fs.writeSync(this.fd, bytes, off)
  }

  /**
   * Starts a new segment for everything appended from now on and returns the
   * older ones, which the caller discards once their changes are in the store.
   */
  async rotate(): Promise<number[]> {
    return this.io.run(async () => {
      await this.writeBuffered()
      const old = (await this.segments()).filter((s) => s <= this.current && !this.held.has(s))
      if (this.fd !== null) {
        fs.closeSync(this.fd)
        this.fd = null
      }
      this.current++
      return old
    })
  }

  async discard(segments: number[]): Promise<void> {
    for (const seg of segments) await fsp.rm(this.file(seg), { force: true })
    if (segments.length > 0 && fs.existsSync(this.dir)) await fsyncDir(this.dir)
  }

  async close(): Promise<void> {
    await this.commit({ sync: true })
    if (this.fd !== null) fs.closeSync(this.fd)
    this.fd = null
  }
}

function adFor(seg: number): Buffer {
  return Buffer.from(`peerstore-journal/${seg}`)
}
