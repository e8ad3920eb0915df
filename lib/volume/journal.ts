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
import { Mutex } from './mutex'

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
  private fd: fsp.FileHandle | null = null
  private buffered: JournalOp[][] = []
  private committing: Promise<void> | null = null
  private again = false
  /** Writing and rotating never overlap: a write must land in the segment it was meant for. */
  private io = new Mutex()

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

  get hasBuffered(): boolean {
    return this.buffered.length > 0
  }

  /** Queues one entry; its ops are applied together on replay. */
  append(ops: JournalOp[]): void {
    if (ops.length > 0) this.buffered.push(ops)
  }

  /** Makes every entry appended so far durable. Concurrent callers share one fsync. */
  async commit(): Promise<void> {
    if (this.committing) {
      this.again = true
      await this.committing
      if (this.buffered.length === 0) return
      return this.commit()
    }
    if (this.buffered.length === 0) return
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
    if (this.buffered.length === 0) return
    const batch = this.buffered
    this.buffered = []
    const seg = this.current
    if (!this.fd) {
      this.fd = await fsp.open(this.file(seg), 'a', 0o600)
      await fsyncDir(this.dir)
    }
    const parts: Buffer[] = []
    for (const ops of batch) {
      const sealed = encrypt(Buffer.from(JSON.stringify(ops)), this.key, adFor(seg))
      const len = Buffer.alloc(4)
      len.writeUInt32BE(sealed.byteLength)
      parts.push(len, sealed)
    }
    await this.fd.write(Buffer.concat(parts))
    await this.fd.sync()
  }

  /**
   * Starts a new segment for everything appended from now on and returns the
   * older ones, which the caller discards once their changes are in the store.
   */
  async rotate(): Promise<number[]> {
    return this.io.run(async () => {
      await this.writeBuffered()
      const old = (await this.segments()).filter((s) => s <= this.current)
      if (this.fd) {
        await this.fd.close()
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
    await this.commit()
    if (this.fd) await this.fd.close()
    this.fd = null
  }
}

function adFor(seg: number): Buffer {
  return Buffer.from(`peerstore-journal/${seg}`)
}
