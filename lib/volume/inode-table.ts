// The inodes a mount holds in memory, by id: loading them from the store
// (one load per inode however many ask), creating new ones, and the dirty
// sets that say what the journal and the store do not have yet.

import { randomBytes } from '../crypto/keys'
import { recordKey, type SignedRecord, verifyRecord } from '../crypto/record'
import type { VolumeContext } from './context'
import { forgedRecord, volumeError } from './errors'
import { FileData } from './file-data'
import { decryptState, type InodeState, type InodeType, linkCount, TYPE_BITS } from './inode'
import type { JournalOp } from './journal'
import { chunkKeys, Inode, typeCode } from './loaded-inode'
import { nowNs, setTime, stamp } from './times'
import type { Owner } from './volume-options'

/**
 * A listed directory's children loaded ahead per listing, at most: the
 * lookups of each that follow (`ls -l`, find, rsync) then find them in
 * memory. Bounds what one listing of a huge directory makes the mount hold.
 */
export const PREFETCH_MAX = 16_384
/** Loads of one prefetch in flight at once: enough to keep the store and the JS thread busy together. */
const PREFETCH_PARALLEL = 16
/** Lookups of inodes behind another device's change within this long share one poll (catchUp)... */
const CATCH_UP_DELAY_MS = 100
/** ...and such polls start at most this often: an inode that must wait (local changes) stays behind. */
const CATCH_UP_PERIOD_MS = 1000

export class InodeTable {
  readonly inodes = new Map<string, Inode>()
  private readonly loading = new Map<string, Promise<Inode>>()
  /** Directories whose children are being loaded ahead (prefetchChildren). */
  private readonly prefetching = new Set<Inode>()
  /** Inodes read from the store, and of those how many a prefetch asked for (status counters). */
  loads = 0
  prefetched = 0
  private catchUpTimer: NodeJS.Timeout | null = null
  private lastCatchUp = 0
  /** Changed and not yet in the store. */
  readonly dirty = new Set<Inode>()
  /** Changed and not yet in the journal. */
  readonly journalDirty = new Set<Inode>()
  /** Plaintext being written, across files (writers seal early above maxDirtyBytes). */
  dirtyBytes = 0

  constructor(private readonly ctx: VolumeContext) {}

  get(hex: string): Inode | undefined {
    return this.inodes.get(hex)
  }

  readonly entryKeyOf = (id: Buffer): Buffer => this.ctx.keys.inodeKey(id)

  recordKeyOf(id: Buffer): Buffer {
    return recordKey(this.ctx.keys.publicKey, id)
  }

  async fetchRecord(id: Buffer): Promise<SignedRecord | null> {
    const key = this.recordKeyOf(id)
    const rec = await this.ctx.store.getRecord(key)
    if (!rec) return null
    if (!verifyRecord(rec, key)) throw forgedRecord(key)
    return rec
  }

  /** The inode with this id, from memory or the store. */
  async getInode(id: Buffer): Promise<Inode> {
    const hex = id.toString('hex')
    const cached = this.inodes.get(hex)
    if (cached) {
      if (cached.syncedBeacon < this.ctx.remote.foreign) this.catchUp()
      return cached
    }
    let p = this.loading.get(hex)
    if (!p) {
      p = this.loadInode(id).finally(() => this.loading.delete(hex))
      this.loading.set(hex, p)
    }
    return p
  }

  /**
   * An inode in memory is used after another device changed the tree since
   * it was last known current: poll soon, so that it is re-read now that the
   * lookup has put it among the watched (watch-set.ts), not at the poller's
   * next period, which is 10 s while push is live. Inodes a listing loaded
   * ahead and nothing looked up yet are the common case; without this a
   * change made elsewhere to one of them showed after 10 s instead of 0.2 s.
   * Without push the poller already ticks every sync interval (1 s).
   */
  private catchUp(): void {
    const { remote } = this.ctx
    if (this.catchUpTimer || this.ctx.closed || !remote.enabled || !remote.pushLive) return
    const wait = Math.max(CATCH_UP_DELAY_MS, this.lastCatchUp + CATCH_UP_PERIOD_MS - Date.now())
    this.catchUpTimer = setTimeout(() => {
      if (this.ctx.closed) return
      this.lastCatchUp = Date.now()
      remote
        .poll()
        .catch(() => {})
        .finally(() => {
          this.catchUpTimer = null
        })
    }, wait)
    this.catchUpTimer.unref()
  }

  /**
   * Starts loading the children of `dir` not in memory yet, in listing
   * order, PREFETCH_PARALLEL at a time, without waiting: the lookups that
   * follow a readdir find each inode loaded or being loaded (getInode shares
   * the load) instead of loading it alone after a round trip through the
   * kernel. Failures are left to the lookup that needs the inode.
   */
  prefetchChildren(dir: Inode): void {
    if (dir.type !== 'dir' || this.prefetching.has(dir) || this.ctx.closed) return
    const ids: Buffer[] = []
    for (const entry of dir.entries.values()) {
      if (ids.length >= PREFETCH_MAX) break
      const hex = entry.id.toString('hex')
      if (!this.inodes.has(hex) && !this.loading.has(hex)) ids.push(entry.id)
    }
    if (ids.length === 0) return
    this.prefetching.add(dir)
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < ids.length && !this.ctx.closed) {
        // A load from this machine's stores never waits on I/O (lmdb reads synchronously), so a
        // loop of them would run as one endless chain of microtasks: FUSE's requests, the readdir
        // reply among them, waited seconds for all 10,000. Each load goes behind the queued I/O.
        await new Promise((resolve) => setImmediate(resolve))
        const id = ids[next++]
        if (this.inodes.has(id.toString('hex'))) continue
        try {
          await this.getInode(id)
          this.prefetched++
        } catch {}
      }
    }
    const workers = Array.from({ length: Math.min(PREFETCH_PARALLEL, ids.length) }, worker)
    void Promise.all(workers).finally(() => this.prefetching.delete(dir))
  }

  private async loadInode(id: Buffer): Promise<Inode> {
    const mark = this.ctx.remote.known
    const rec = await this.fetchRecord(id)
    const hex = id.toString('hex')
    const replay = this.ctx.replay
    const pending = replay.pendingOf(hex)
    let inode: Inode
    if (!rec || rec.deleted) {
      const fresh = pending ? replay.fromJournal(id, pending, rec) : null
      if (!fresh) throw volumeError('ENOENT', `inode ${hex} is not in the store`)
      inode = fresh
    } else inode = this.inodeFromRecord(id, rec)
    this.loads++
    inode.syncedBeacon = mark
    const raced = this.inodes.get(inode.hex)
    if (raced) return raced
    this.inodes.set(inode.hex, inode)
    if (pending) replay.applyPending(inode, pending)
    return inode
  }

  private inodeFromRecord(id: Buffer, rec: SignedRecord): Inode {
    const state = decryptState(rec.value, id, this.ctx.keys.inodeKey(id))
    const inode = new Inode(id, state)
    inode.version = rec.version
    this.attachData(inode)
    if (state.entries) inode.base = new Map(state.entries)
    inode.storedChunks = chunkKeys(state.file)
    inode.storedLinks = linkCount(state)
    return inode
  }

  attachData(inode: Inode): void {
    if (inode.state.type !== 'file' || !inode.state.file) return
    inode.data = new FileData(inode.state.file, this.ctx.chunks)
    inode.data.onDirty = (delta) => {
      this.dirtyBytes += delta
    }
  }

  /** A new inode owned by `owner` (the FUSE caller), or by this process's user. */
  newInode(type: InodeType, mode: number, owner?: Owner): Inode {
    const state: InodeState = {
      type,
      mode: TYPE_BITS[type] | (mode & 0o7777),
      uid: owner?.uid ?? this.ctx.uid,
      gid: owner?.gid ?? this.ctx.gid,
      atime: 0,
      mtime: 0,
      ctime: 0,
      xattrs: new Map()
    }
    stamp(state, ['atime', 'mtime', 'ctime'])
    if (type === 'dir') state.entries = new Map()
    if (type === 'file') {
      state.file = {
        fileId: randomBytes(32),
        fileKey: randomBytes(32),
        chunkSize: this.ctx.chunkSize,
        size: 0,
        chunks: []
      }
    }
    const inode = new Inode(randomBytes(32), state)
    inode.syncedBeacon = this.ctx.remote.known
    this.attachData(inode)
    return inode
  }

  /** A copy of the inode's state as of now; `withEntries: false` skips copying a directory's entries. */
  snapshotState(inode: Inode, withEntries = true): InodeState {
    if (inode.data) return { ...inode.state, file: inode.data.snapshot() }
    if (!withEntries) return { ...inode.state, entries: undefined }
    if (inode.state.entries) return { ...inode.state, entries: new Map(inode.state.entries) }
    return { ...inode.state }
  }

  /** Records a change: the inode goes to the journal at the next commit and to the store at the next flush. */
  touch(inode: Inode): void {
    inode.gen++
    this.dirty.add(inode)
    if (!inode.deleted) this.journalDirty.add(inode)
    // Changed after another device deleted it (through a handle held open here): it comes back now,
    // its name journaled with the change. The flush writes its record before its folder's.
    if (inode.remoteDeleted) this.ctx.conflicts.revive(inode)
  }

  link(dir: Inode, name: string, child: Inode): void {
    dir.entries.set(name, { id: child.id, type: child.type })
    child.parent = dir
    child.name = name
    this.ctx.journal.append([{ o: 'e', d: dir.hex, n: name, c: child.hex, t: typeCode(child.type) }])
  }

  /** Content changed at `now`: BigInt nanoseconds since the epoch, or milliseconds (a Number). */
  changed(inode: Inode, now: bigint | number = nowNs()): void {
    setTime(inode.state, 'mtime', now)
    setTime(inode.state, 'ctime', now)
    this.touch(inode)
  }

  /** `entry`: the journal entry of the change that deletes it (one entry, applied together on replay). */
  deleteInode(inode: Inode, entry?: JournalOp[]): void {
    inode.deleted = true
    this.journalDirty.delete(inode)
    if (entry) entry.push({ o: 'x', id: inode.hex })
    else this.ctx.journal.append([{ o: 'x', id: inode.hex }])
    this.touch(inode)
  }

  /** Local changes not yet in the store, or a write or flush in progress: not to be replaced now. */
  busy(inode: Inode): boolean {
    return (
      inode.gen !== inode.flushedGen ||
      this.dirty.has(inode) ||
      inode.flushLock.locked ||
      (inode.data !== null && (inode.data.hasDirty || inode.data.lock.locked))
    )
  }
}
