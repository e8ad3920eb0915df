// One user's tree of directories, files, symlinks and special files (fifos,
// sockets, device nodes), kept in a ValueStore as
// signed, encrypted inode records and encrypted chunks. Path-based calls for
// the FUSE adapter and the CLI; file handles hold Inode objects, so renamed
// and unlinked open files keep working.
//
// Write-back: changes live in memory and in the local journal first (a close
// or fsync makes them durable there), and a background flusher writes dirty
// records to the store by compare-and-swap. fsync additionally waits until the
// file's chunks and record are in the store. See docs/volume.md.
//
// This class is the facade: the work is done by the parts in context.ts
// (inode-table, flusher, replay, conflict, remote-apply, tree-repair,
// namespace), root.ts, file-io.ts, attrs.ts and status.ts. Its lifecycle is
// ready-resource's: a second ready() or close() returns the first one's
// promise, so the journal is replayed and the flusher started once.

import ReadyResource from 'ready-resource'
import * as attrs from './attrs'
import type { ChunkCollector } from './chunks/gc'
import type { ChunkStore } from './chunks/chunk-store'
import { VolumeContext } from './context'
import * as fileIo from './file-io'
import { fail } from './errors'
import { HomeLock } from './home-lock'
import { closeParts, openParts } from './lifecycle'
import { type DirEntry, inodeNumber, ROOT_INO, type Stat, statOf, TYPE_BITS, typeOfMode } from './inode'
import type { Inode } from './loaded-inode'
import type { SyncStats } from './remote-sync'
import {
  type Capacity,
  type DiskSpace,
  type ReplicaReport,
  replicaReport,
  statfs,
  type VolumeStatus,
  volumeStatus
} from './status'
import type { TreeReport } from './tree-repair'
import type { ValueStore } from './value-store'
import type { VolumeKeys } from './volume-keys'
import type { Owner, VolumeOptions } from './volume-options'
import type { WatchSet } from './watch-set'

export { STATUS_XATTR } from './attrs'
export type { Stat } from './inode'

/** One name of a directory listing, as readdir reports it (d_ino, and the type bits for d_type). */
export interface DirListing {
  name: string
  ino: number
  mode: number
}
export { Inode } from './loaded-inode'
export { splitPath } from './namespace'
export type { ReplicaReport, VolumeStatus } from './status'
export type { TreeReport } from './tree-repair'
export {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_GC_GRACE_MS,
  DEFAULT_SYNC_INTERVAL_MS,
  DEFAULT_TREE_SETTLE_MS,
  type Owner,
  type VolumeOptions
} from './volume-options'

export const S_IFMT = 0o170000

export class Volume extends ReadyResource {
  private readonly ctx: VolumeContext
  private readonly lock: HomeLock
  private readonly opts: VolumeOptions
  private readonly maxDirtyBytes: number
  private readonly capacityFn?: Capacity
  private readonly closeTimeoutMs: number

  constructor(opts: VolumeOptions) {
    super()
    this.opts = opts
    this.ctx = new VolumeContext(opts)
    this.lock = new HomeLock(this.ctx.home)
    this.maxDirtyBytes = opts.maxDirtyBytes ?? 64 * 1024 * 1024
    this.capacityFn = opts.capacity
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 5000
  }

  get home(): string {
    return this.ctx.home
  }
  get store(): ValueStore {
    return this.ctx.store
  }
  get keys(): VolumeKeys {
    return this.ctx.keys
  }
  get chunks(): ChunkStore {
    return this.ctx.chunks
  }
  get chunkSize(): number {
    return this.ctx.chunkSize
  }
  /** Null when the store cannot delete (then nothing is collected). */
  get gc(): ChunkCollector | null {
    return this.ctx.gc
  }
  /** Inodes the poller re-reads when another device announced changes. */
  get watch(): WatchSet<Inode> {
    return this.ctx.watch
  }
  get root(): Inode {
    return this.ctx.root
  }
  get uid(): number {
    return this.ctx.uid
  }
  get gid(): number {
    return this.ctx.gid
  }

  protected override _open(): Promise<void> {
    return openParts(this.ctx, this.lock, this.opts)
  }

  /**
   * Writes everything to the store, then releases the home; bounded whatever
   * the ring does (lifecycle.ts).
   */
  protected override _close(): Promise<void> {
    return closeParts(this.ctx, this.lock, this.closeTimeoutMs)
  }

  /** Seals every file being written and flushes all records to the store. */
  sync(): Promise<void> {
    return this.ctx.flusher.sync()
  }

  /** Writes the inode's record again at the next flush (share.ts: directories written before entries carried keys). */
  republish(inode: Inode): void {
    this.ctx.table.touch(inode)
  }

  /** The inode with this id, from memory or the store. */
  getInode(id: Buffer): Promise<Inode> {
    return this.ctx.table.getInode(id)
  }

  /** Makes every change so far durable in the local journal (flusher.ts). */
  commit(opts: { spool?: boolean; sync?: boolean } = {}): Promise<void> {
    return this.ctx.flusher.commit(opts)
  }

  /** Writes every dirty record to the store; then the journal before it can go. */
  flush(): Promise<void> {
    return this.ctx.flusher.flush()
  }

  /** Writes one inode's record by compare-and-swap, merging on conflict (flusher.ts). */
  flushInode(inode: Inode, opts: { settledOnly?: boolean; keep?: Map<string, DirEntry> } = {}): Promise<void> {
    return this.ctx.flusher.flushInode(inode, opts)
  }

  // ---- paths (namespace.ts) ----------------------------------------------------

  resolve(p: string): Promise<Inode> {
    return this.ctx.namespace.resolve(p)
  }

  /** The path an inode was last seen at here, from its parent links; null when they do not reach the root. */
  pathOf(inode: Inode): string | null {
    return this.ctx.namespace.pathOf(inode)
  }

  readdir(p: string): Promise<string[]> {
    return this.ctx.namespace.readdir(p)
  }

  /**
   * A directory's names, '.' and '..' first, each with its inode number and
   * type bits: readdir's d_ino and d_type, from the entries alone (no inode
   * is loaded). Without them readdir said "unknown" for both, so d_ino never
   * matched st_ino and `find` or a colouring `ls` had to stat every entry.
   */
  listing(dir: Inode): DirListing[] {
    if (dir.type !== 'dir') fail('ENOTDIR')
    const out: DirListing[] = [
      { name: '.', ino: this.inoOf(dir), mode: TYPE_BITS.dir },
      { name: '..', ino: dir.parent ? this.inoOf(dir.parent) : ROOT_INO, mode: TYPE_BITS.dir }
    ]
    for (const [name, entry] of dir.entries) out.push({ name, ino: inodeNumber(entry.id), mode: TYPE_BITS[entry.type] })
    return out
  }

  /** Starts loading a listed directory's children, which the lookups after a readdir come for (inode-table.ts). */
  prefetchChildren(dir: Inode): void {
    this.ctx.table.prefetchChildren(dir)
  }

  /** Entries with their inodes, for `peerstore ls` and `get`. */
  list(p: string): Promise<{ name: string; inode: Inode }[]> {
    return this.ctx.namespace.list(p)
  }

  create(p: string, mode: number, owner?: Owner): Promise<Inode> {
    return this.ctx.namespace.make(p, 'file', mode, owner)
  }

  mkdir(p: string, mode: number, owner?: Owner): Promise<Inode> {
    return this.ctx.namespace.make(p, 'dir', mode, owner)
  }

  symlink(target: string, p: string, owner?: Owner): Promise<Inode> {
    return this.ctx.namespace.make(p, 'symlink', 0o777, owner, target)
  }

  /**
   * mknod(2): a fifo, a socket or a device node (`rdev` its device number),
   * metadata only; a regular file as create() makes it. EPERM for a type
   * mknod cannot make (a directory or symlink; bits no type has: EINVAL).
   */
  async mknod(p: string, mode: number, rdev: number, owner?: Owner): Promise<Inode> {
    const type = typeOfMode(mode)
    if (type === null) fail('EINVAL', `mknod: no file type has mode ${mode.toString(8)}`)
    if (type === 'dir' || type === 'symlink') fail('EPERM', `mknod cannot make a ${type}`)
    return this.ctx.namespace.make(p, type!, mode, owner, undefined, rdev)
  }

  readlink(p: string): Promise<string> {
    return this.ctx.namespace.readlink(p)
  }

  /** A hard link: `to` becomes another name of the file at `from` (docs/hard-links.md); EPERM for a directory. */
  link(from: string, to: string): Promise<Inode> {
    return this.ctx.namespace.link(from, to)
  }

  unlink(p: string): Promise<void> {
    return this.ctx.namespace.remove(p, false)
  }

  rmdir(p: string): Promise<void> {
    return this.ctx.namespace.remove(p, true)
  }

  /** Atomic: one journal entry moves the name, replacing a file or an empty directory at the target. */
  rename(from: string, to: string): Promise<void> {
    return this.ctx.namespace.rename(from, to)
  }

  // ---- changes by other devices (remote-sync.ts, remote-apply.ts) ---------------

  /** A FUSE handle holds this inode: keep it watched until released. */
  noteOpen(inode: Inode): void {
    this.ctx.watch.opened(inode)
  }

  noteRelease(inode: Inode): void {
    this.ctx.watch.released(inode)
  }

  /** The poller's counters, for tests and the status line. */
  syncStats(): SyncStats & { watched: number; taken: number; beacon: number } {
    const { remote, watch, remoteChanges } = this.ctx
    return { ...remote.stats, watched: watch.size, taken: remoteChanges, beacon: remote.known }
  }

  /** One poll now (tests; the timer does the same every syncIntervalMs). */
  pollRemote(): Promise<void> {
    return this.ctx.remote.poll()
  }

  // ---- the tree invariant (tree-repair.ts) ------------------------------------------

  /** Finds listings that break the tree invariant and, with `repair`, settles them. */
  checkTree(opts: { repair?: boolean; settledOnly?: boolean; full?: boolean } = {}): Promise<TreeReport> {
    return this.ctx.tree.checkTree(opts)
  }

  /** `peerstore check`: the whole tree, repaired until nothing more is. */
  checkAll(repair: boolean): Promise<TreeReport> {
    return this.ctx.tree.checkAll(repair)
  }

  // ---- file data and attributes (file-io.ts, attrs.ts) ---------------------------

  stat(inode: Inode): Stat {
    return { ...statOf(inode.state, inode.size), ino: this.inoOf(inode) }
  }

  /** An inode's number as stat and readdir report it: the root's is ROOT_INO. */
  private inoOf(inode: Inode): number {
    return inode === this.ctx.root ? ROOT_INO : inodeNumber(inode.id)
  }

  read(inode: Inode, out: Buffer, len: number, pos: number): Promise<number> {
    return fileIo.read(inode, out, len, pos)
  }

  write(inode: Inode, data: Buffer, pos: number): Promise<number> {
    return fileIo.write(this.ctx, this.maxDirtyBytes, inode, data, pos)
  }

  truncate(inode: Inode, size: number): Promise<void> {
    return fileIo.truncate(this.ctx, inode, size)
  }

  /** close(): the file's data and all metadata so far are durable in the local journal and spool. */
  closeFile(inode: Inode): Promise<void> {
    return fileIo.closeFile(this.ctx, inode)
  }

  /** fsync(): the file's data and record are durable in the ValueStore, and the journal on disk. */
  fsync(inode: Inode): Promise<void> {
    return fileIo.fsync(this.ctx, inode)
  }

  chmod(inode: Inode, mode: number): void {
    attrs.chmod(this.ctx, inode, mode)
  }

  chown(inode: Inode, uid: number, gid: number): void {
    attrs.chown(this.ctx, inode, uid, gid)
  }

  /** Times as BigInt nanoseconds since the epoch, or as milliseconds (a Number). */
  utimens(inode: Inode, atime: bigint | number, mtime: bigint | number): void {
    attrs.utimens(this.ctx, inode, atime, mtime)
  }

  getxattr(inode: Inode, name: string): Buffer | null {
    return attrs.getxattr(inode, name)
  }

  listxattr(inode: Inode): string[] {
    return attrs.listxattr(inode)
  }

  setxattr(inode: Inode, name: string, value: Buffer, flags: number): void {
    attrs.setxattr(this.ctx, inode, name, value, flags)
  }

  removexattr(inode: Inode, name: string): void {
    attrs.removexattr(this.ctx, inode, name)
  }

  // ---- status (status.ts) ---------------------------------------------------------

  /** Replicas of the inode's record and data against the target, and whether an upload is pending. */
  replicaReport(inode: Inode): Promise<ReplicaReport> {
    return replicaReport(this.ctx, inode)
  }

  statfs(): Promise<DiskSpace> {
    return statfs(this.capacityFn)
  }

  /** Counters for the status line. */
  status(): VolumeStatus {
    return volumeStatus(this.ctx)
  }
}
