// The on-disk read cache of a client: ciphertext of chunks fetched from the
// ring, one file per chunk under <home>/cache/chunks, so a re-read needs no
// network. Only checked bytes enter it (hash and AEAD, see reader.ts),
// and it is only a cache: a torn file fails its check and is refetched, a
// full disk makes it give way.
//
// Least recently used entries go first (lru-cache keeps the order; a hit
// counts as a use). Its budget is a ceiling; the free space of its disk can
// make it smaller at any moment (see add()), so it is also shrunk by hand.

import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { LRUCache } from 'lru-cache'
import { ReadyResource } from '../../common/resource'
import { readFileOrNull } from '../durable-file'

/**
 * Free space the on-disk read cache always leaves on its disk, for the
 * journal, the spool and (on a member) the node store: a tenth of the disk,
 * at least 16 MiB, at most 1 GiB.
 */
export function readCacheReserve(totalBytes: number): number {
  return Math.min(1024 * 1024 * 1024, Math.max(16 * 1024 * 1024, Math.floor(totalBytes / 10)))
}

export class ChunkReadCache extends ReadyResource {
  /** hex key → bytes of its file, least recently used first. */
  private readonly entries: LRUCache<string, number>

  constructor(
    readonly dir: string,
    /** Budget in bytes (> 0: a store that needs no read cache has none). */
    private readonly budgetBytes: number
  ) {
    super()
    this.entries = new LRUCache<string, number>({
      maxSize: budgetBytes,
      // lru-cache counts in positive integers: an empty (torn) file counts as one byte.
      sizeCalculation: (size) => Math.max(1, size),
      // Entries leave through drop() (which awaits the file's removal), except
      // when concurrent adds overrun the budget between their shrink and their
      // set: lru-cache evicts then, and the file goes too.
      dispose: (_size, hex, reason) => {
        if (reason === 'evict') void this.removeFile(hex)
      }
    })
  }

  /** Creates the folder and takes in what a previous mount left there (ready()). */
  protected override async _open(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 })
    const names = await fsp.readdir(this.dir)
    for (const name of names) {
      const st = await fsp.stat(path.join(this.dir, name)).catch(() => null)
      if (!st) continue
      this.entries.set(name, st.size)
    }
  }

  /** Bytes held now. */
  get size(): number {
    return this.entries.calculatedSize
  }

  /** The cached ciphertext of a chunk (a use: it becomes the most recent), or null. */
  async read(hex: string): Promise<Buffer | null> {
    if (this.entries.get(hex) === undefined) return null
    const bytes = await readFileOrNull(path.join(this.dir, hex))
    if (!bytes) this.drop(hex)
    return bytes
  }

  /**
   * Keeps a checked chunk in the read cache, within its budget and within
   * the free space of its disk: it always leaves readCacheReserve() free for
   * the journal, the spool and the node store, evicting its least recently
   * used entries (or not caching at all) when the disk fills.
   */
  async add(hex: string, bytes: Buffer): Promise<void> {
    const disk = await fsp.statfs(this.dir).catch(() => null)
    let budget = this.budgetBytes
    if (disk) {
      const free = disk.bavail * disk.bsize
      budget = Math.min(budget, this.size + free - readCacheReserve(disk.blocks * disk.bsize))
    }
    if (bytes.byteLength > budget) {
      await this.shrink(Math.max(0, budget))
      return
    }
    await this.shrink(budget - bytes.byteLength)
    try {
      // A cache needs no fsync: a torn file fails its hash check and is refetched.
      await fsp.writeFile(path.join(this.dir, hex), bytes, { mode: 0o600 })
    } catch {
      await fsp.rm(path.join(this.dir, hex), { force: true }).catch(() => {})
      return
    }
    this.entries.set(hex, bytes.byteLength)
  }

  /** Evicts the least recently used entries until it holds at most `bytes`; resolves once their files are gone. */
  async shrink(bytes: number): Promise<void> {
    const removals: Promise<void>[] = []
    while (this.size > bytes) {
      const oldest = this.entries.rkeys().next()
      if (oldest.done) break
      removals.push(this.drop(oldest.value))
    }
    await Promise.all(removals)
  }

  /** Forgets one entry (a corrupt or vanished copy, or evicted); resolves once its file is gone. */
  drop(hex: string): Promise<void> {
    if (!this.entries.delete(hex)) return Promise.resolve()
    return this.removeFile(hex)
  }

  private removeFile(hex: string): Promise<void> {
    return new Promise((resolve) => fs.rm(path.join(this.dir, hex), { force: true }, () => resolve()))
  }
}
