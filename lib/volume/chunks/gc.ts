// Garbage collection of chunks a file no longer references (docs/volume.md,
// "Chunk garbage collection").
//
// Only inodes of one fileId can reference a chunk: the file itself and its
// conflict copies (same fileId and key; each seal draws a fresh nonce, so no
// other file ever produces the same ciphertext). Hard links are names of one
// inode, not inodes: its tombstone, and so this queue, comes with its last
// name (docs/hard-links.md). The Volume hands over the
// chunks a stored write dropped (the old list minus the new one) and, once a
// file's tombstone is stored, all of its chunks. Each waits out a grace
// period, because another device may still read the old chunk list or hold
// unflushed edits on top of it, and is then checked again: it is deleted only
// when the inode's current record is a tombstone or no longer lists it, no
// conflict copy shares the file's chunks, and this mount does not reference
// it either. Anything uncertain keeps the chunk: a leak, never a loss.
//
// The queue is a file in the home (one JSON line per chunk), so a restart
// neither forgets a chunk nor deletes one before its time.

import fs from 'node:fs'
import { writeFileDurable } from '../durable-file'
import { ReadyResource } from '../../common/resource'

export interface GarbageChunk {
  /** Inode id, hex. */
  inode: string
  /** Chunk key, hex. */
  key: string
  /** When it may go (ms since the epoch). */
  due: number
  /** The file had conflict copies when this was queued: keep it (their chunks overlap). */
  shared: boolean
}

/** What the store holds now for an inode: null for a tombstone (or nothing). */
export interface CurrentChunks {
  chunks: Set<string>
  shared: boolean
}

export interface ChunkCollectorOptions {
  /** The queue file. */
  file: string
  graceMs: number
  /** How often due chunks are looked at (default: a tenth of the grace, between 1 s and 60 s). */
  intervalMs?: number
  current(inodeId: Buffer): Promise<CurrentChunks | null>
  /** True while this mount's own state of the inode (stored or not) lists the chunk. */
  referencedHere(inodeHex: string, keyHex: string): boolean
  deleteChunk(key: Buffer): Promise<void>
  onError?: (err: Error) => void
}

export class ChunkCollector extends ReadyResource {
  private queue: GarbageChunk[] = []
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  readonly stats = { queued: 0, deleted: 0, kept: 0 }

  constructor(private readonly opts: ChunkCollectorOptions) {
    super()
  }

  get pending(): number {
    return this.queue.length
  }

  protected override async _open(): Promise<void> {
    this.queue = readQueue(this.opts.file)
    const interval = this.opts.intervalMs ?? Math.min(60_000, Math.max(1000, this.opts.graceMs / 10))
    this.timer = setInterval(() => {
      this.collect().catch((err) => this.opts.onError?.(err))
    }, interval)
    this.timer.unref()
  }

  /** Queues chunks the inode no longer references (or all of a deleted file's). */
  enqueue(inodeId: Buffer, keys: Buffer[], shared: boolean): void {
    if (keys.length === 0 || this.closed) return
    const due = Date.now() + this.opts.graceMs
    const inode = inodeId.toString('hex')
    const added = keys.map((k) => ({ inode, key: k.toString('hex'), due, shared }))
    this.queue.push(...added)
    this.stats.queued += added.length
    // Appended, not rewritten: a lost line is a leaked chunk, never a deleted one.
    fs.appendFileSync(this.opts.file, added.map((g) => `${JSON.stringify(g)}\n`).join(''), { mode: 0o600 })
  }

  /** Deletes what is due and still unreferenced; runs one pass at a time. */
  collect(now = Date.now()): Promise<void> {
    this.running ??= this.collectOnce(now).finally(() => {
      this.running = null
    })
    return this.running
  }

  private async collectOnce(now: number): Promise<void> {
    const due = this.queue.filter((g) => g.due <= now)
    if (due.length === 0) return
    const done = new Set<GarbageChunk>()
    const byInode = new Map<string, GarbageChunk[]>()
    for (const g of due) {
      const list = byInode.get(g.inode)
      if (list) list.push(g)
      else byInode.set(g.inode, [g])
    }
    for (const [inode, chunks] of byInode) {
      if (this.closed) break
      let current: CurrentChunks | null
      try {
        current = await this.opts.current(Buffer.from(inode, 'hex'))
      } catch (err) {
        this.opts.onError?.(err as Error) // unreachable now: try again next pass
        continue
      }
      for (const g of chunks) {
        const keep =
          g.shared ||
          (current !== null && (current.shared || current.chunks.has(g.key))) ||
          this.opts.referencedHere(g.inode, g.key)
        if (!keep) {
          try {
            await this.opts.deleteChunk(Buffer.from(g.key, 'hex'))
            this.stats.deleted++
          } catch (err) {
            this.opts.onError?.(err as Error)
            continue
          }
        } else this.stats.kept++
        done.add(g)
      }
    }
    if (done.size === 0) return
    this.queue = this.queue.filter((g) => !done.has(g))
    // A chunk queued while this is written may miss the file until the next pass: a leak at worst.
    await writeFileDurable(this.opts.file, Buffer.from(this.queue.map((g) => `${JSON.stringify(g)}\n`).join('')), {
      syncDir: false
    })
  }

  protected override async _close(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.running?.catch(() => {})
  }
}

function readQueue(file: string): GarbageChunk[] {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return []
    throw err
  }
  const queue: GarbageChunk[] = []
  for (const line of text.split('\n')) {
    if (!line) continue
    try {
      const g = JSON.parse(line) as GarbageChunk
      if (typeof g.inode === 'string' && typeof g.key === 'string' && typeof g.due === 'number') queue.push(g)
    } catch {
      // A line torn by a crash: that chunk leaks.
    }
  }
  return queue
}
