// Write-back: changes live in memory and in the local journal first (a close
// or fsync makes them durable there), and a background flusher writes dirty
// records to the store by compare-and-swap, merging on conflict
// (conflict.ts). See docs/volume.md.

import { createRecord, type SignedRecord } from '../crypto/record'
import type { VolumeContext } from './context'
import type { FileContent } from './file-data'
import { type DirEntry, encryptState, linkCount, stateToWire } from './inode'
import type { JournalOp } from './journal'
import { adoptVersion, type Inode, nextVersion } from './loaded-inode'
import { runLimited } from '../common/semaphore'
import { isConflict } from './value-store'
import type { VolumeOptions } from './volume-options'

/** Pending chunks up to this size travel inside the journal entry instead of the spool. */
const INLINE_CHUNK_LIMIT = 64 * 1024
const MAX_CONFLICT_RETRIES = 16

export class Flusher {
  private readonly intervalMs: number
  private timer: NodeJS.Timeout | null = null
  private flushing: Promise<void> | null = null
  private flushAgain = false

  constructor(
    private readonly ctx: VolumeContext,
    opts: VolumeOptions
  ) {
    this.intervalMs = opts.flushIntervalMs ?? 1000
  }

  /** The background flusher: a pass whenever something is dirty. */
  start(): void {
    if (this.timer) return
    const { table, journal } = this.ctx
    this.timer = setInterval(() => {
      if (table.dirty.size > 0 || journal.hasBuffered) {
        this.flush().then(
          () => this.ctx.backgroundRecovered(),
          (err) => this.ctx.backgroundError(err)
        )
      }
    }, this.intervalMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** Seals every file being written and flushes all records to the store. */
  async sync(): Promise<void> {
    const { table, journal } = this.ctx
    for (const inode of table.inodes.values()) if (inode.data?.hasDirty) await inode.data.seal()
    for (let i = 0; i < 5 && (table.dirty.size > 0 || journal.hasBuffered); i++) await this.flush()
    await this.ctx.chunks.whenAllUploaded()
  }

  /**
   * Makes every change so far durable in the local journal: what close()
   * confirms. Chunks not yet uploaded go to the spool (or, when small, into
   * the journal entry). The background flusher passes `spool: false`: it
   * leaves out files whose chunks are still uploading rather than write them
   * twice, since it puts their records only after the upload anyway.
   */
  async commit(opts: { spool?: boolean; sync?: boolean } = {}): Promise<void> {
    const { table, chunks, journal } = this.ctx
    const spool = opts.spool !== false
    if (spool) {
      const fileKeys: (Buffer | null)[] = []
      for (const inode of table.journalDirty) if (inode.data) fileKeys.push(...inode.data.chunks)
      await chunks.spoolLarge(fileKeys, INLINE_CHUNK_LIMIT)
    }
    // From here to journal.append nothing awaits: the snapshot and the chunk
    // check describe one instant.
    const ops: JournalOp[] = []
    const waits: Promise<void>[] = []
    for (const inode of [...table.journalDirty]) {
      if (inode.deleted) {
        table.journalDirty.delete(inode)
        continue
      }
      const state = table.snapshotState(inode, false)
      if (state.file) {
        const d = chunks.durability(state.file.chunks)
        if (!spool && d.inline.some((b) => b.byteLength > INLINE_CHUNK_LIMIT)) continue
        for (const b of d.inline) ops.push({ o: 'k', b: b.toString('base64') })
        waits.push(...d.waits)
      }
      ops.push({ o: 's', id: inode.hex, w: stateToWire(state, false) })
      table.journalDirty.delete(inode)
    }
    journal.append(ops)
    await Promise.all(waits)
    await journal.commit({ sync: opts.sync })
  }

  /** Writes every dirty record to the store; then the journal before it can go. */
  async flush(): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true
      return this.flushing
    }
    this.flushing = (async () => {
      try {
        do {
          this.flushAgain = false
          await this.flushOnce()
        } while (this.flushAgain)
      } finally {
        this.flushing = null
      }
    })()
    return this.flushing
  }

  private async flushOnce(): Promise<void> {
    await this.commit({ spool: false })
    const segments = await this.ctx.journal.rotate()
    const batch = [...this.ctx.table.dirty]
    const settled = { settledOnly: true }
    // Children before parents before tombstones, so a reader of the store never
    // finds an entry whose inode is missing.
    await runLimited(
      batch.filter((i) => !i.deleted && i.type !== 'dir'),
      8,
      (inode) => this.flushInode(inode, settled)
    )
    await this.flushDirs(batch.filter((i) => !i.deleted && i.type === 'dir'))
    await runLimited(
      batch.filter((i) => i.deleted),
      8,
      (inode) => this.flushInode(inode, settled)
    )
    await this.ctx.journal.discard(segments)
    // Tell the other devices; a failure here is retried by the poller's tick.
    await this.ctx.remote.publish().catch((err) => this.ctx.onError(err))
  }

  /**
   * Directories in an order where another device never finds an entry in
   * neither folder: the deepest first (a new folder's record before its
   * parent's), and a folder that moved names out only after the folders they
   * moved into. A folder that both moved names out and got names in is
   * first written with the moved names still listed, then again without:
   * for that moment a moved entry is listed twice, which readers tolerate
   * (the tree check settles only double listings that last).
   */
  private async flushDirs(dirs: Inode[]): Promise<void> {
    const settled = { settledOnly: true }
    const first: { inode: Inode; keep?: Map<string, DirEntry> }[] = []
    const last: Inode[] = []
    for (const dir of dirs) {
      const out = this.movedOut(dir)
      if (out.size === 0) first.push({ inode: dir })
      else {
        last.push(dir)
        if (gainedEntries(dir)) first.push({ inode: dir, keep: out })
      }
    }
    const byDepth = new Map<number, typeof first>()
    for (const f of first) {
      const d = depthOf(f.inode)
      byDepth.set(d, [...(byDepth.get(d) ?? []), f])
    }
    for (const d of [...byDepth.keys()].sort((x, y) => y - x)) {
      await runLimited(byDepth.get(d)!, 8, (f) => this.flushInode(f.inode, { ...settled, keep: f.keep }))
    }
    await runLimited(last, 8, (inode) => this.flushInode(inode, settled))
  }

  /** Names the stored record of `dir` lists whose live inode this mount has moved to another folder. */
  private movedOut(dir: Inode): Map<string, DirEntry> {
    const out = new Map<string, DirEntry>()
    if (!dir.base || !dir.state.entries) return out
    for (const [name, e] of dir.base) {
      if (dir.state.entries.get(name)?.id.equals(e.id)) continue
      const child = this.ctx.table.get(e.id.toString('hex'))
      if (child && !child.deleted && !child.remoteDeleted && child.parent && child.parent !== dir) out.set(name, e)
    }
    return out
  }

  /**
   * Writes one inode's record by compare-and-swap, merging on conflict.
   * `settledOnly` (the background flusher): a file with data not yet sealed
   * is not published with holes where that data is, since other devices
   * would read zeros there and the kernel's page cache could keep them (the
   * later record has the same mtime and size). A stored file waits until its
   * data is sealed (close, fsync, a full chunk); a new one is published as its
   * sealed prefix, so that its directory entry never names a missing record,
   * and stays dirty. `keep`: entries written along with a directory's own
   * (names it moved out, still listed until their new folder is stored: see
   * flushOnce); the directory stays dirty for its real state.
   */
  async flushInode(inode: Inode, opts: { settledOnly?: boolean; keep?: Map<string, DirEntry> } = {}): Promise<void> {
    const { ctx } = this
    const { table, keys, store, remote, conflicts, accounting } = ctx
    await inode.flushLock.run(async () => {
      // Set once the store holds this inode's tombstone (or never held the inode).
      let buried = false
      // Chunks sealed up to the snapshot being stored: any the record does not list are garbage.
      const sealed: Buffer[] = []
      for (let attempt = 0; ; attempt++) {
        const gen = inode.gen
        if (inode.deleted) {
          buried = inode.version === 0
          if (buried) break
          const tomb = createRecord(keys.signer, inode.id, nextVersion(inode), Buffer.alloc(0), true)
          try {
            await store.putRecord(tomb, inode.version)
            remote.markChanged()
            inode.version = tomb.version
            buried = true
            break
          } catch (err) {
            if (!isConflict(err) || attempt >= MAX_CONFLICT_RETRIES) throw err
            const current = (err as { current: SignedRecord | null }).current
            if (current?.deleted) {
              inode.version = current.version
              buried = true
              break
            }
            if (current && current.version > Math.max(inode.version, inode.versionFloor)) {
              // Changed on another device since the version this delete saw: the change wins and
              // the inode comes back (delete vs. modify keeps the modification).
              conflicts.undelete(inode, current)
              break
            }
            adoptVersion(inode, current?.version ?? 0)
            continue
          }
        }
        const state = table.snapshotState(inode)
        if (opts.keep && state.entries)
          for (const [n, e] of opts.keep) if (!state.entries.has(n)) state.entries.set(n, e)
        const unsealed = opts.settledOnly && inode.data?.hasDirty
        // (Over a tombstone, as for a new file, the sealed prefix goes now: the folder lists it again.)
        if (unsealed && inode.version > 0 && !inode.storedTombstone) break
        if (unsealed && state.file) state.file = sealedPrefix(state.file, inode.data!.firstUnsealed)
        // A prefix leaves chunks sealed after it out on purpose: only a whole file's record tells what is garbage.
        if (inode.data && !unsealed) sealed.push(...inode.data.takeSealedKeys())
        if (state.file) await ctx.chunks.whenUploaded(state.file.chunks)
        // Entries carry their children's keys: a share of this directory reaches everything below (share.ts).
        const value = encryptState(state, inode.id, keys.inodeKey(inode.id), table.entryKeyOf)
        const record = createRecord(keys.signer, inode.id, nextVersion(inode), value)
        try {
          await store.putRecord(record, inode.version)
        } catch (err) {
          if (!isConflict(err) || attempt >= MAX_CONFLICT_RETRIES) throw err
          await conflicts.resolve(inode, (err as { current: SignedRecord | null }).current)
          continue
        }
        remote.markChanged()
        inode.version = record.version
        inode.storedTombstone = false
        if (inode.remoteDeleted) conflicts.revive(inode)
        if (state.entries) inode.base = state.entries
        inode.storedLinks = linkCount(state)
        if (state.file) accounting.noteStoredChunks(inode, state.file, sealed)
        if (inode.gen === gen && !unsealed && !opts.keep) inode.flushedGen = gen
        break
      }
      if (inode.deleted) {
        // Deleted while its live state was being written: stays dirty for its tombstone.
        if (buried) {
          accounting.noteBuried(inode)
          table.dirty.delete(inode)
          table.inodes.delete(inode.hex)
        }
      } else if (inode.flushedGen === inode.gen) {
        table.dirty.delete(inode)
      }
    })
  }
}

function gainedEntries(dir: Inode): boolean {
  for (const [name, e] of dir.entries) if (!dir.base?.get(name)?.id.equals(e.id)) return true
  return false
}

/** Distance from the root along the parent links this mount knows (bounded: a cycle ends it). */
function depthOf(inode: Inode): number {
  let d = 0
  for (let x = inode.parent; x && x !== inode && d < 4096; x = x.parent) d++
  return d
}

/** A file's content up to its first chunk not yet sealed: what it holds for sure, without holes for the rest. */
function sealedPrefix(file: FileContent, firstUnsealed: number): FileContent {
  const size = Math.min(file.size, firstUnsealed * file.chunkSize)
  return {
    ...file,
    size,
    chunks: file.chunks.slice(0, Math.ceil(size / file.chunkSize)),
    inline: size === 0 ? null : file.inline
  }
}
