// The write-back spool, <home>/cache/spool: ciphertext of chunks not yet
// uploaded, one file per chunk named by its key. A chunk goes there when a
// close() confirmed it before its upload finished (so it survives a crash of
// this process), when the ring is unreachable and memory is full (spilled),
// and when the store closes with uploads left; the next mount uploads what
// it finds there.

import fsp from 'node:fs/promises'
import path from 'node:path'
import { sha256 } from '../../crypto/hash'
import type { ChunkReadCache } from './read-cache'
import { readFileOrNull, writeFileDurable } from '../durable-file'

export class ChunkSpool {
  constructor(
    readonly dir: string,
    /** Gives way on a full disk: it is only a cache. */
    private readonly readCache: ChunkReadCache | null
  ) {}

  async ready(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 })
  }

  /**
   * Chunks a previous mount confirmed to a close() but never uploaded, in
   * the order found; anything else there (a stray or torn file) is removed.
   */
  async *leftovers(): AsyncGenerator<{ hex: string; bytes: Buffer }> {
    for (const name of await fsp.readdir(this.dir)) {
      if (!/^[0-9a-f]{64}$/.test(name)) {
        await fsp.rm(path.join(this.dir, name), { force: true })
        continue
      }
      const bytes = await readFileOrNull(path.join(this.dir, name))
      if (!bytes) continue
      if (sha256(bytes).toString('hex') !== name) {
        await fsp.rm(path.join(this.dir, name), { force: true })
        continue
      }
      yield { hex: name, bytes }
    }
  }

  /**
   * Writes a chunk's ciphertext to the spool. On a full disk the read cache
   * gives way (it is only a cache) and the write is tried once more.
   */
  async write(hex: string, bytes: Buffer, durable: boolean): Promise<void> {
    const file = path.join(this.dir, hex)
    const write = () =>
      durable ? writeFileDurable(file, bytes, { syncDir: false }) : fsp.writeFile(file, bytes, { mode: 0o600 })
    try {
      await write()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC' || !this.readCache || this.readCache.size === 0) throw err
      await this.readCache.shrink(0)
      await write()
    }
  }

  /** A spooled chunk's ciphertext, or null when it is not there. */
  read(hex: string): Promise<Buffer | null> {
    return readFileOrNull(path.join(this.dir, hex))
  }

  /** A spilled chunk read back for its upload: it must be there (it was written before memory let go of it). */
  readSpilled(hex: string): Promise<Buffer> {
    return fsp.readFile(path.join(this.dir, hex))
  }

  async remove(hex: string): Promise<void> {
    await fsp.rm(path.join(this.dir, hex), { force: true })
  }
}
