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

export class InodeTable {
  readonly inodes = new Map<string, Inode>()
  private readonly loading = new Map<string, Promise<Inode>>()
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
    if (cached) return cached
    let p = this.loading.get(hex)
    if (!p) {
      p = this.loadInode(id).finally(() => this.loading.delete(hex))
      this.loading.set(hex, p)
    }
    return p
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
