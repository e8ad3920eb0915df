// The Volume's side of chunk garbage collection (chunks/gc.ts): which chunks a
// stored record stopped listing, and what the collector asks before it
// deletes one (the record's current chunks, and whether this mount still
// references it).

import path from 'node:path'
import type { VolumeContext } from './context'
import { ChunkCollector, type CurrentChunks } from './chunks/gc'
import type { FileContent } from './file-data'
import { decryptState } from './inode'
import { chunkKeys, type Inode } from './loaded-inode'
import { DEFAULT_GC_GRACE_MS } from './volume-options'

export class ChunkAccounting {
  /** Null when the store cannot delete (then nothing is collected). */
  readonly collector: ChunkCollector | null

  constructor(
    private readonly ctx: VolumeContext,
    gcGraceMs?: number
  ) {
    const store = ctx.store
    this.collector = store.deleteImmutable
      ? new ChunkCollector({
          file: path.join(ctx.home, 'gc-queue'),
          graceMs: gcGraceMs ?? DEFAULT_GC_GRACE_MS,
          current: (id) => this.currentChunks(id),
          referencedHere: (inodeHex, keyHex) => this.referencesChunk(inodeHex, keyHex),
          deleteChunk: (key) => store.deleteImmutable!(key),
          onError: (err) => process.stderr.write(`peerstore: chunk garbage collection: ${err.message}\n`)
        })
      : null
  }

  /** The chunks an inode's current record lists; null for a tombstone (chunks/gc.ts). */
  private async currentChunks(id: Buffer): Promise<CurrentChunks | null> {
    const rec = await this.ctx.table.fetchRecord(id)
    if (!rec || rec.deleted) return null
    const file = decryptState(rec.value, id, this.ctx.keys.inodeKey(id)).file
    return { chunks: new Set(chunkKeys(file).map((k) => k.toString('hex'))), shared: file?.shared ?? false }
  }

  /** True while this mount's state of the inode, stored or in memory, lists the chunk. */
  private referencesChunk(inodeHex: string, keyHex: string): boolean {
    const inode = this.ctx.table.get(inodeHex)
    if (!inode) return false
    const has = (keys: (Buffer | null)[]) => keys.some((k) => k?.toString('hex') === keyHex)
    return has(inode.storedChunks) || (inode.data !== null && (inode.data.shared || has(inode.data.chunks)))
  }

  /**
   * After the store took a new record of a file: the chunks the previous one
   * listed, and those sealed since, that this one does not list wait for
   * collection.
   */
  noteStoredChunks(inode: Inode, file: FileContent, sealed: Buffer[]): void {
    this.dropChunks(inode, chunkKeys(file), sealed, file.shared ?? false)
  }

  /** A file whose tombstone is stored: every chunk it had, stored or only uploaded, waits for collection. */
  noteBuried(inode: Inode): void {
    if (!inode.data) return
    this.dropChunks(inode, [], [...chunkKeys(inode.data), ...inode.data.takeSealedKeys()], inode.data.shared)
  }

  /** Queues the chunks the store held for the inode, and `candidates`, that `kept` does not list; `kept` is stored now. */
  private dropChunks(inode: Inode, kept: Buffer[], candidates: Buffer[], shared: boolean): void {
    const keep = new Set(kept.map((k) => k.toString('hex')))
    const dropped = new Map<string, Buffer>()
    for (const k of [...inode.storedChunks, ...candidates]) {
      const hex = k.toString('hex')
      if (!keep.has(hex)) dropped.set(hex, k)
    }
    this.collector?.enqueue(inode.id, [...dropped.values()], shared)
    inode.storedChunks = kept
  }
}
