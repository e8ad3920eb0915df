// One user's tree of directories, files and symlinks, kept in a ValueStore as
// signed, encrypted inode records and encrypted chunks. Path-based calls for
// the FUSE adapter and the CLI; file handles hold Inode objects, so renamed
// and unlinked open files keep working.
//
// Write-back: changes live in memory and in the local journal first (a close
// or fsync makes them durable there), and a background flusher writes dirty
// records to the store by compare-and-swap. fsync additionally waits until the
// file's chunks and record are in the store. See docs/volume.md.

import fs from 'node:fs'
import path from 'node:path'
import { decrypt, encrypt } from '../crypto/aead'
import { randomBytes } from '../crypto/keys'
import { createRecord, recordKey, type SignedRecord, verifyRecord } from '../crypto/record'
import { ChunkCollector, type CurrentChunks } from './chunk-gc'
import { ChunkStore, type UploadFailure } from './chunk-store'
import { fail, VolumeError } from './errors'
import { type FileContent, FileData } from './file-data'
import { HomeLock } from './home-lock'
import {
  type DirEntry,
  decryptState,
  encryptState,
  type InodeState,
  type InodeType,
  type Stat,
  stateFromWire,
  statOf,
  stateToWire,
  TYPE_BITS
} from './inode'

export type { Stat } from './inode'
import { Journal, type JournalOp } from './journal'
import { conflictName, mergeEntries } from './merge'
import { Mutex } from './mutex'
import { RecordCopy, RecordCopyStore, recordCopyDir } from './record-copy'
import { RemoteSync, type SyncStats } from './remote-sync'
import { settlesWhileProgressing, settlesWithin } from '../common/retry'
import { runLimited } from './run-limited'
import { SHARED_DIR_NAME } from './sharing/names'
import { isConflict, type ValueStore } from './value-store'
import { VolumeKeys } from './volume-keys'
import { type CheckNode, findProblems, placeOrphans, type TreeProblem, type WalkResult } from './tree-check'
import { WatchSet } from './watch-set'

export const DEFAULT_CHUNK_SIZE = 1024 * 1024
const S_IFMT = 0o170000
/** Pending chunks up to this size travel inside the journal entry instead of the spool. */
const INLINE_CHUNK_LIMIT = 64 * 1024
const MAX_CONFLICT_RETRIES = 16
const MAX_NAME_BYTES = 255
export const STATUS_XATTR = 'user.peerstore.status'
/** How long a chunk a file stopped referencing stays in the store (docs/volume.md, "Chunk garbage collection"). */
export const DEFAULT_GC_GRACE_MS = 60 * 60_000

/** How long a mount waits for the root directory's record once it has found the pointer to it. */
const ROOT_RECORD_WAIT_MS = 30_000
/** Backoff of a replay that could not apply or store everything (the ring did not answer). */
const REPLAY_RETRY_MIN_MS = 1000
const REPLAY_RETRY_MAX_MS = 60_000
/** The longest close() waits for a ring that is slow but still storing (docs/volume.md, "Shutdown"). */
const CLOSE_MAX_MS = 10 * 60_000
/** How long a mount waits to store what the journal replayed before it goes on (the flusher keeps trying). */
const REPLAY_FLUSH_MS = 10_000

export interface VolumeOptions {
  home: string
  store: ValueStore
  keys?: VolumeKeys
  chunkSize?: number
  /** On-disk read cache budget; 0 when the store is local anyway. */
  readCacheBytes?: number
  flushIntervalMs?: number
  /** Plaintext being written, across files, before writers seal early. */
  maxDirtyBytes?: number
  capacity?: () => Promise<{ totalBytes: number; freeBytes: number }>
  /** Called with errors of the background flusher and the poller (which retry). */
  onError?: (err: Error) => void
  /** Grace period before unreferenced chunks are deleted (default DEFAULT_GC_GRACE_MS). */
  gcGraceMs?: number
  /** How often to look for changes by other devices (docs/volume.md, "Sync"); 0 turns it off. */
  syncIntervalMs?: number
  /** How often the watched records are re-read even when no device announced a change. */
  syncFullPassMs?: number
  /** How many recently used inodes are watched, and for how long after their last use. */
  watchLimit?: number
  watchWindowMs?: number
  /**
   * The identity came from another computer: never create a root, wait up to
   * this long for the existing one to be found in the store (the ring may
   * still be merging), then fail.
   */
  adoptRootTimeoutMs?: number
  /** One-line progress notices for the user. */
  notice?: (line: string) => void
  /**
   * Keep a durable copy of this user's records in the home (record-copy.ts;
   * default true): what an offline mount shows, and what tells this home that
   * it has a tree.
   */
  recordCopy?: boolean
  /** How long a mount waits for the network to answer for its root before it fails (default 30 s). */
  rootWaitMs?: number
  /**
   * How long a tree problem must last before the check after merges settles
   * it (docs/volume.md, "Concurrent operations"); 0 turns that check off.
   */
  treeSettleMs?: number
  /** How long close() waits with nothing stored before it leaves the rest to the next mount (default 5 s). */
  closeTimeoutMs?: number
}

/** What `peerstore check` prints. */
export interface TreeReport {
  /** Inodes reached from the root. */
  inodes: number
  problems: string[]
  repaired: string[]
  /** What is still wrong after the repairs (peerstore check). */
  remaining?: string[]
}

export const DEFAULT_SYNC_INTERVAL_MS = 1000
/**
 * Longer than one flush pass of another device (its rename is listed in both
 * folders between its two directory writes), short enough that a real
 * problem is settled within seconds.
 */
export const DEFAULT_TREE_SETTLE_MS = 4000
/** The check after a merge waits this long for more merges to come in. */
const TREE_CHECK_DELAY_MS = 500
/** The sweep behind it (Volume.ready). */
const TREE_SWEEP_MS = 30_000

/** Who a new inode belongs to. */
export interface Owner {
  uid: number
  gid: number
}

export interface VolumeStatus {
  inodes: number
  /** Records changed here and not yet in the store (they wait in the journal). */
  dirty: number
  pendingChunks: number
  pendingBytes: number
  uploaded: number
  fromOtherDevices: number
  /** The store did not answer the last time it was asked: the mount works from its record copy and journal. */
  offline: boolean
  offlineSinceMs: number
  /** A crashed session's journal is not all applied and stored yet (it is kept and retried). */
  replayWaiting: boolean
  /** Of its ops, how many wait for their inode to be readable. */
  replayOps: number
  /** Why uploads are failing now (they are retried), or null. */
  uploadFailure: UploadFailure | null
}

export interface ReplicaReport {
  live: number | null
  target: number | null
  pendingUpload: boolean
  pendingChunks: number
  /** The store is not answering: the counts are unknown and the changes wait here. */
  offline?: boolean
  /** The last upload error of one of its pending chunks ("CODE: message"), or null. */
  uploadError: string | null
}

export class Inode {
  readonly id: Buffer
  readonly hex: string
  /** Version of the record in the store; 0 when never stored. */
  version = 0
  /**
   * The highest version this mount has seen of the record. After a conflict
   * whose winner is older than that (a replica that missed updates answered
   * the compare-and-swap), the next write still goes above it, so the older
   * lineage can never beat it later in repair.
   */
  versionFloor = 0
  state: InodeState
  data: FileData | null = null
  /** Directory entries as last stored: the base of a three-way merge. */
  base: Map<string, DirEntry> | null = null
  /** A file's chunk keys as last stored (or loaded): what a write may have dropped. */
  storedChunks: Buffer[] = []
  /** Bumped by every change; the record is clean when flushedGen catches up. */
  gen = 0
  flushedGen = 0
  /** The sync beacon version as of which this inode was last known current (remote-sync.ts). */
  syncedBeacon = 0
  deleted = false
  /**
   * Another device stored this inode's tombstone while it was loaded here
   * (open handles may still hold it). A change made here afterwards brings it
   * back: its record is written again and it is linked into its folder
   * (docs/volume.md, "Concurrent operations on two computers").
   */
  remoteDeleted = false
  /** The store holds this inode's tombstone at `version` (deleted elsewhere; revived here until stored). */
  storedTombstone = false
  parent: Inode | null = null
  name = ''
  readonly flushLock = new Mutex()

  constructor(id: Buffer, state: InodeState) {
    this.id = id
    this.hex = id.toString('hex')
    this.state = state
  }

  get type(): InodeType {
    return this.state.type
  }

  get entries(): Map<string, DirEntry> {
    if (!this.state.entries) throw new VolumeError('ENOTDIR')
    return this.state.entries
  }

  get size(): number {
    if (this.data) return this.data.size
    if (this.type === 'symlink') return Buffer.byteLength(this.state.target ?? '')
    return 4096
  }
}

export class Volume {
  readonly home: string
  readonly store: ValueStore
  readonly keys: VolumeKeys
  readonly chunks: ChunkStore
  readonly chunkSize: number
  /** Null when the store cannot delete (then nothing is collected). */
  readonly gc: ChunkCollector | null
  private readonly journal: Journal
  private readonly lock: HomeLock
  private readonly flushIntervalMs: number
  private readonly maxDirtyBytes: number
  private readonly capacityFn?: VolumeOptions['capacity']
  private readonly onError: (err: Error) => void
  private readonly adoptRootTimeoutMs: number | undefined
  private readonly closeTimeoutMs: number
  private readonly notice: (line: string) => void
  /** Inodes the poller re-reads when another device announced changes. */
  readonly watch: WatchSet<Inode>
  private readonly remote: RemoteSync<Inode>
  /** The store with the home's copy of this user's records in front (null when turned off). */
  private readonly records: RecordCopyStore | null
  private readonly legacyHome: boolean
  private readonly rootWaitMs: number
  /**
   * Ops of a crashed mount's journal not applied yet, by the inode they change
   * (a directory for entry ops). loadInode applies an inode's ops when it
   * loads it, whoever asks first; replay asks for each until none is left.
   */
  private replayPending = new Map<string, JournalOp[]>()
  /** The crashed mount's journal segments, held until every op in them is applied and stored. */
  private replaySegments: number[] = []
  private replayTimer: NodeJS.Timeout | null = null
  private replayDelayMs = REPLAY_RETRY_MIN_MS
  private replaying: Promise<void> | null = null
  private lastBackgroundError = ''

  private inodes = new Map<string, Inode>()
  private loading = new Map<string, Promise<Inode>>()
  private dirty = new Set<Inode>()
  private journalDirty = new Set<Inode>()
  private dirtyBytes = 0
  private flushing: Promise<void> | null = null
  private flushAgain = false
  private treeTimer: NodeJS.Timeout | null = null
  /** Folders came in from other devices since the last sweep without starting a check (see ready()). */
  private treeStale = false
  private treeSweep: NodeJS.Timeout | null = null
  private treeRunning: Promise<void> | null = null
  /** Tree problems seen, by key, with when each was first seen (checkTree). */
  private readonly treeSuspects = new Map<string, number>()
  private readonly treeSettleMs: number
  /** One namespace change at a time (see "operations"). */
  private readonly ns = new Mutex()
  private timer: NodeJS.Timeout | null = null
  private closed = false
  /** Records taken in from other devices. */
  private remoteChanges = 0
  root!: Inode
  readonly uid = process.getuid?.() ?? 0
  readonly gid = process.getgid?.() ?? 0

  constructor(opts: VolumeOptions) {
    this.home = path.resolve(opts.home)
    this.keys = opts.keys ?? VolumeKeys.fromHome(this.home)
    const copyDir = recordCopyDir(this.home)
    // A home from before the record copy that has mounted (it has a journal directory) may have a tree.
    this.legacyHome = !fs.existsSync(copyDir) && fs.existsSync(path.join(this.home, 'cache', 'journal'))
    this.records =
      opts.recordCopy === false ? null : new RecordCopyStore(opts.store, new RecordCopy(copyDir, this.keys.publicKey))
    this.store = this.records ?? opts.store
    this.rootWaitMs = opts.rootWaitMs ?? ROOT_RECORD_WAIT_MS
    this.chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE
    const cacheDir = path.join(this.home, 'cache')
    // Upload failures and what close() leaves behind are the user's business: they go out as notices.
    this.chunks = new ChunkStore({ store: this.store, cacheDir, readCacheBytes: opts.readCacheBytes, log: opts.notice })
    this.journal = new Journal(path.join(cacheDir, 'journal'), this.keys.journalKey)
    this.lock = new HomeLock(this.home)
    this.flushIntervalMs = opts.flushIntervalMs ?? 1000
    this.maxDirtyBytes = opts.maxDirtyBytes ?? 64 * 1024 * 1024
    this.capacityFn = opts.capacity
    this.onError = opts.onError ?? ((err) => process.stderr.write(`peerstore: background flush: ${err.message}\n`))
    const store = this.store
    this.gc = store.deleteImmutable
      ? new ChunkCollector({
          file: path.join(this.home, 'gc-queue'),
          graceMs: opts.gcGraceMs ?? DEFAULT_GC_GRACE_MS,
          current: (id) => this.currentChunks(id),
          referencedHere: (inodeHex, keyHex) => this.referencesChunk(inodeHex, keyHex),
          deleteChunk: (key) => store.deleteImmutable!(key),
          onError: (err) => process.stderr.write(`peerstore: chunk garbage collection: ${err.message}\n`)
        })
      : null
    this.adoptRootTimeoutMs = opts.adoptRootTimeoutMs
    this.treeSettleMs = opts.treeSettleMs ?? DEFAULT_TREE_SETTLE_MS
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 5000
    this.notice = opts.notice ?? (() => {})
    this.watch = new WatchSet(opts.watchLimit ?? 256, opts.watchWindowMs ?? 60_000)
    this.remote = new RemoteSync<Inode>({
      store: this.store,
      keys: this.keys,
      watch: this.watch,
      refresh: (inode) => this.takeRemote(inode),
      intervalMs: opts.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS,
      fullPassMs: opts.syncFullPassMs ?? 30_000,
      // Offline, every tick fails the same way: said once (backgroundError).
      onError: (err) => this.backgroundError(err)
    })
  }

  async ready(): Promise<void> {
    this.lock.acquire()
    try {
      await this.records?.copy.ready()
      await this.journal.ready()
      await this.chunks.ready()
      // Before any inode loads: each inode the crashed mount changed gets its ops as it loads (the root too).
      await this.readJournal()
      // Before any inode loads: each is marked current as of this beacon version.
      await this.remote.ready()
      this.root = await this.loadRoot()
      // The root is always watched: every path starts there.
      this.watch.opened(this.root)
      await this.replay()
      await this.gc?.ready()
    } catch (err) {
      if (this.replayTimer) clearTimeout(this.replayTimer)
      await this.records?.copy.close().catch(() => {})
      this.lock.release()
      throw err
    }
    this.timer = setInterval(() => {
      if (this.dirty.size > 0 || this.journal.hasBuffered) {
        this.flush().then(
          () => {
            this.lastBackgroundError = ''
          },
          (err) => this.backgroundError(err)
        )
      }
    }, this.flushIntervalMs)
    this.timer.unref()
    // A slow sweep behind the check after merges: any folder taken in since the last one
    // (even one that looked harmless) gets the tree checked, at most once per period.
    this.treeSweep = setInterval(() => {
      if (!this.treeStale) return
      this.treeStale = false
      this.scheduleTreeCheck(0)
    }, TREE_SWEEP_MS)
    this.treeSweep.unref()
    this.remote.start()
  }

  /**
   * Writes everything to the store, then releases the home. Bounded whatever
   * the ring does: once nothing was stored for closeTimeoutMs (or after
   * CLOSE_MAX_MS), what is left stays in the journal and the spool, which
   * the next mount replays and uploads.
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    if (this.replayTimer) clearTimeout(this.replayTimer)
    if (this.treeTimer) clearTimeout(this.treeTimer)
    if (this.treeSweep) clearInterval(this.treeSweep)
    this.treeTimer = null
    const idle = this.closeTimeoutMs
    // Any upload or record stored counts as progress: a slow ring gets the time it needs, a dead one `idle`.
    const progress = () => this.chunks.stats.uploadedBytes - this.dirty.size
    try {
      await settlesWithin(this.remote.close(), idle)
      await settlesWithin(this.replaying ?? Promise.resolve(), idle, this.onError)
      await settlesWithin(this.treeRunning ?? Promise.resolve(), idle, this.onError)
      if (
        await settlesWhileProgressing(this.sync(), {
          idleMs: idle,
          maxMs: CLOSE_MAX_MS,
          progress,
          onError: this.onError
        })
      ) {
        // The other devices learn of the last changes now rather than at their next full pass.
        await settlesWithin(this.remote.publish(), idle, this.onError)
      } else {
        this.chunks.stop()
        for (const inode of this.inodes.values()) if (inode.data?.hasDirty) await inode.data.seal().catch(this.onError)
        await this.commit({ sync: true }).catch(this.onError)
        const s = this.status()
        const why = s.uploadFailure ? `: ${s.uploadFailure.code}: ${s.uploadFailure.message}` : ''
        this.notice(
          `${s.dirty} records and ${s.pendingChunks} chunks not stored yet${why}; kept on this machine, the next mount stores them`
        )
      }
      await settlesWithin(this.gc?.close() ?? Promise.resolve(), idle, this.onError)
      await this.chunks.close()
      // On a full disk the last commit can fail: say so, and still release the home.
      await this.journal.close().catch(this.onError)
    } finally {
      await this.records?.copy.close()
      this.lock.release()
    }
  }

  /**
   * An error of the background flusher: reported once while it repeats (an
   * offline ring fails every pass the same way; the changes wait in the
   * journal, and the status line says so).
   */
  private backgroundError(err: Error): void {
    if (err.message === this.lastBackgroundError) return
    this.lastBackgroundError = err.message
    this.onError(err)
  }

  /** Seals every file being written and flushes all records to the store. */
  async sync(): Promise<void> {
    for (const inode of this.inodes.values()) if (inode.data?.hasDirty) await inode.data.seal()
    for (let i = 0; i < 5 && (this.dirty.size > 0 || this.journal.hasBuffered); i++) await this.flush()
    await this.chunks.whenAllUploaded()
  }

  // ---- records ------------------------------------------------------------

  private readonly entryKeyOf = (id: Buffer): Buffer => this.keys.inodeKey(id)

  /** Writes the inode's record again at the next flush (share.ts: directories written before entries carried keys). */
  republish(inode: Inode): void {
    this.touch(inode)
  }

  private recordKeyOf(id: Buffer): Buffer {
    return recordKey(this.keys.publicKey, id)
  }

  private async fetchRecord(id: Buffer): Promise<SignedRecord | null> {
    const key = this.recordKeyOf(id)
    const rec = await this.store.getRecord(key)
    if (!rec) return null
    if (!verifyRecord(rec, key)) throw new VolumeError('EIO', `record ${key.toString('hex')} does not verify`)
    return rec
  }

  /**
   * The root directory, through the root pointer. A new root is created only
   * for a home that never had a tree (its record copy holds no pointer, and it
   * is not a home from before the copy) and only once the store positively
   * answered that no pointer exists: a store that cannot tell (EUNSURE, a
   * timeout) is asked again, never taken for "no tree" (issue 12, items 2
   * and 9: a remount that wrote a second version-1 pointer over the tree).
   * An identity adopted from another computer never creates one.
   */
  private async loadRoot(): Promise<Inode> {
    const name = this.keys.rootPointerName
    const started = Date.now()
    const adoptUntil = this.adoptRootTimeoutMs === undefined ? null : started + this.adoptRootTimeoutMs
    const until = adoptUntil ?? started + this.rootWaitMs
    const hadTree = this.legacyHome || (await this.records?.copy.get(this.recordKeyOf(name))) != null
    let told = ''
    const wait = async (notice: string, err?: unknown): Promise<void> => {
      if (Date.now() >= until) {
        const cause = err ? ` (${(err as Error).message})` : ''
        if (adoptUntil !== null && !err) {
          throw new VolumeError(
            'EHOSTUNREACH',
            'your tree was not found in the network: start a mount (or a storage node) on the computer this identity came from, then try again'
          )
        }
        throw new VolumeError(
          'EHOSTUNREACH',
          `your tree could not be read from the network${cause}: start the machines that hold it (or check the connection), then try again`
        )
      }
      if (told !== notice) this.notice(notice)
      told = notice
      await new Promise((r) => setTimeout(r, 1000))
    }
    for (;;) {
      let pointer: SignedRecord | null
      try {
        pointer = await this.fetchRecord(name)
      } catch (err) {
        // A forged pointer does not get better by asking again.
        if (err instanceof VolumeError) throw err
        await wait('waiting for the network to answer for your tree…', err)
        continue
      }
      if (!pointer && adoptUntil !== null) {
        await wait('looking for your tree on your other computers…')
        continue
      }
      if (!pointer && hadTree) {
        // This home had a tree: the machines holding its pointer are away, not the tree.
        await wait(
          'waiting for the machines that hold your tree…',
          new VolumeError('ENOENT', 'no machine holds your root pointer')
        )
        continue
      }
      if (pointer && !pointer.deleted) {
        const rootId = decrypt(pointer.value, this.keys.rootPointerKey, name)
        try {
          const root = await this.getInode(rootId)
          root.name = '/'
          return root
        } catch (err) {
          // The pointer is stored after the root's record, so the record exists; a ring
          // still merging (or not answering) may not serve it yet (a second device's first mount met this).
          const code = (err as { code?: string }).code
          if (err instanceof VolumeError && code !== 'ENOENT') throw err
          await wait('waiting for your tree to be reachable…', err)
          continue
        }
      }
      // First mount of this identity: a root directory, then the pointer to it.
      const root = this.newInode('dir', 0o755)
      this.inodes.set(root.hex, root)
      await this.flushInode(root)
      const value = encrypt(root.id, this.keys.rootPointerKey, name)
      const version = pointer ? pointer.version + 1 : 1
      try {
        await this.store.putRecord(createRecord(this.keys.keyPair, name, version, value), pointer?.version ?? 0)
        root.name = '/'
        return root
      } catch (err) {
        // Another device created the root at the same time: use theirs.
        if (!isConflict(err)) throw err
        this.inodes.delete(root.hex)
      }
    }
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
    const mark = this.remote.known
    const rec = await this.fetchRecord(id)
    const hex = id.toString('hex')
    const pending = this.replayPending.get(hex)
    let inode: Inode
    if (!rec || rec.deleted) {
      const fresh = pending ? this.fromJournal(id, pending, rec) : null
      if (!fresh) throw new VolumeError('ENOENT', `inode ${hex} is not in the store`)
      inode = fresh
    } else inode = this.inodeFromRecord(id, rec)
    inode.syncedBeacon = mark
    const raced = this.inodes.get(inode.hex)
    if (raced) return raced
    this.inodes.set(inode.hex, inode)
    if (pending && this.replayPending.get(hex) === pending) {
      this.replayPending.delete(hex)
      this.applyJournalOps(inode, pending)
    }
    return inode
  }

  private inodeFromRecord(id: Buffer, rec: SignedRecord): Inode {
    const state = decryptState(rec.value, id, this.keys.inodeKey(id))
    const inode = new Inode(id, state)
    inode.version = rec.version
    this.attachData(inode)
    if (state.entries) inode.base = new Map(state.entries)
    inode.storedChunks = chunkKeys(state.file)
    return inode
  }

  /** The chunks an inode's current record lists; null for a tombstone (chunk-gc.ts). */
  private async currentChunks(id: Buffer): Promise<CurrentChunks | null> {
    const rec = await this.fetchRecord(id)
    if (!rec || rec.deleted) return null
    const file = decryptState(rec.value, id, this.keys.inodeKey(id)).file
    return { chunks: new Set(chunkKeys(file).map((k) => k.toString('hex'))), shared: file?.shared ?? false }
  }

  /** True while this mount's state of the inode, stored or in memory, lists the chunk. */
  private referencesChunk(inodeHex: string, keyHex: string): boolean {
    const inode = this.inodes.get(inodeHex)
    if (!inode) return false
    const has = (keys: (Buffer | null)[]) => keys.some((k) => k?.toString('hex') === keyHex)
    return has(inode.storedChunks) || (inode.data !== null && (inode.data.shared || has(inode.data.chunks)))
  }

  /**
   * After the store took a new record of a file: the chunks the previous one
   * listed, and those sealed since, that this one does not list wait for
   * collection.
   */
  private noteStoredChunks(inode: Inode, file: FileContent, sealed: Buffer[]): void {
    this.dropChunks(inode, chunkKeys(file), sealed, file.shared ?? false)
  }

  /** A file whose tombstone is stored: every chunk it had, stored or only uploaded, waits for collection. */
  private noteBuried(inode: Inode): void {
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
    this.gc?.enqueue(inode.id, [...dropped.values()], shared)
    inode.storedChunks = kept
  }

  private attachData(inode: Inode): void {
    if (inode.state.type !== 'file' || !inode.state.file) return
    inode.data = new FileData(inode.state.file, this.chunks)
    inode.data.onDirty = (delta) => {
      this.dirtyBytes += delta
    }
  }

  /** A new inode owned by `owner` (the FUSE caller), or by this process's user. */
  private newInode(type: InodeType, mode: number, owner?: Owner): Inode {
    const now = Date.now()
    const state: InodeState = {
      type,
      mode: TYPE_BITS[type] | (mode & 0o7777),
      uid: owner?.uid ?? this.uid,
      gid: owner?.gid ?? this.gid,
      atime: now,
      mtime: now,
      ctime: now,
      xattrs: new Map()
    }
    if (type === 'dir') state.entries = new Map()
    if (type === 'file') {
      state.file = { fileId: randomBytes(32), fileKey: randomBytes(32), chunkSize: this.chunkSize, size: 0, chunks: [] }
    }
    const inode = new Inode(randomBytes(32), state)
    inode.syncedBeacon = this.remote.known
    this.attachData(inode)
    return inode
  }

  /** A copy of the inode's state as of now; `withEntries: false` skips copying a directory's entries. */
  private snapshotState(inode: Inode, withEntries = true): InodeState {
    if (inode.data) return { ...inode.state, file: inode.data.snapshot() }
    if (!withEntries) return { ...inode.state, entries: undefined }
    if (inode.state.entries) return { ...inode.state, entries: new Map(inode.state.entries) }
    return { ...inode.state }
  }

  /** Records a change: the inode goes to the journal at the next commit and to the store at the next flush. */
  private touch(inode: Inode): void {
    inode.gen++
    this.dirty.add(inode)
    if (!inode.deleted) this.journalDirty.add(inode)
    // Changed after another device deleted it (through a handle held open here): it comes back now,
    // its name journaled with the change. The flush writes its record before its folder's.
    if (inode.remoteDeleted) this.revive(inode)
  }

  // ---- journal and flush ----------------------------------------------------

  /**
   * Makes every change so far durable in the local journal: what close()
   * confirms. Chunks not yet uploaded go to the spool (or, when small, into
   * the journal entry). The background flusher passes `spool: false`: it
   * leaves out files whose chunks are still uploading rather than write them
   * twice, since it puts their records only after the upload anyway.
   */
  async commit(opts: { spool?: boolean; sync?: boolean } = {}): Promise<void> {
    const spool = opts.spool !== false
    if (spool) {
      const fileKeys: (Buffer | null)[] = []
      for (const inode of this.journalDirty) if (inode.data) fileKeys.push(...inode.data.chunks)
      await this.chunks.spoolLarge(fileKeys, INLINE_CHUNK_LIMIT)
    }
    // From here to journal.append nothing awaits: the snapshot and the chunk
    // check describe one instant.
    const ops: JournalOp[] = []
    const waits: Promise<void>[] = []
    for (const inode of [...this.journalDirty]) {
      if (inode.deleted) {
        this.journalDirty.delete(inode)
        continue
      }
      const state = this.snapshotState(inode, false)
      if (state.file) {
        const d = this.chunks.durability(state.file.chunks)
        if (!spool && d.inline.some((b) => b.byteLength > INLINE_CHUNK_LIMIT)) continue
        for (const b of d.inline) ops.push({ o: 'k', b: b.toString('base64') })
        waits.push(...d.waits)
      }
      ops.push({ o: 's', id: inode.hex, w: stateToWire(state, false) })
      this.journalDirty.delete(inode)
    }
    this.journal.append(ops)
    await Promise.all(waits)
    await this.journal.commit({ sync: opts.sync })
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
    const segments = await this.journal.rotate()
    const batch = [...this.dirty]
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
    await this.journal.discard(segments)
    // Tell the other devices; a failure here is retried by the poller's tick.
    await this.remote.publish().catch((err) => this.onError(err))
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
        if (this.gainedEntries(dir)) first.push({ inode: dir, keep: out })
      }
    }
    const byDepth = new Map<number, typeof first>()
    for (const f of first) {
      const d = this.depthOf(f.inode)
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
      const child = this.inodes.get(e.id.toString('hex'))
      if (child && !child.deleted && !child.remoteDeleted && child.parent && child.parent !== dir) out.set(name, e)
    }
    return out
  }

  private gainedEntries(dir: Inode): boolean {
    for (const [name, e] of dir.entries) if (!dir.base?.get(name)?.id.equals(e.id)) return true
    return false
  }

  /** Distance from the root along the parent links this mount knows (bounded: a cycle ends it). */
  private depthOf(inode: Inode): number {
    let d = 0
    for (let x = inode.parent; x && x !== inode && d < 4096; x = x.parent) d++
    return d
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
          const tomb = createRecord(this.keys.keyPair, inode.id, nextVersion(inode), Buffer.alloc(0), true)
          try {
            await this.store.putRecord(tomb, inode.version)
            this.remote.markChanged()
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
              this.undelete(inode, current)
              break
            }
            adoptVersion(inode, current?.version ?? 0)
            continue
          }
        }
        const state = this.snapshotState(inode)
        if (opts.keep && state.entries)
          for (const [n, e] of opts.keep) if (!state.entries.has(n)) state.entries.set(n, e)
        const unsealed = opts.settledOnly && inode.data?.hasDirty
        // (Over a tombstone, as for a new file, the sealed prefix goes now: the folder lists it again.)
        if (unsealed && inode.version > 0 && !inode.storedTombstone) break
        if (unsealed && state.file) state.file = sealedPrefix(state.file, inode.data!.firstUnsealed)
        // A prefix leaves chunks sealed after it out on purpose: only a whole file's record tells what is garbage.
        if (inode.data && !unsealed) sealed.push(...inode.data.takeSealedKeys())
        if (state.file) await this.chunks.whenUploaded(state.file.chunks)
        // Entries carry their children's keys: a share of this directory reaches everything below (share.ts).
        const value = encryptState(state, inode.id, this.keys.inodeKey(inode.id), this.entryKeyOf)
        const record = createRecord(this.keys.keyPair, inode.id, nextVersion(inode), value)
        try {
          await this.store.putRecord(record, inode.version)
        } catch (err) {
          if (!isConflict(err) || attempt >= MAX_CONFLICT_RETRIES) throw err
          await this.resolveConflict(inode, (err as { current: SignedRecord | null }).current)
          continue
        }
        this.remote.markChanged()
        inode.version = record.version
        inode.storedTombstone = false
        if (inode.remoteDeleted) this.revive(inode)
        if (state.entries) inode.base = state.entries
        if (state.file) this.noteStoredChunks(inode, state.file, sealed)
        if (inode.gen === gen && !unsealed && !opts.keep) inode.flushedGen = gen
        break
      }
      if (inode.deleted) {
        // Deleted while its live state was being written: stays dirty for its tombstone.
        if (buried) {
          this.noteBuried(inode)
          this.dirty.delete(inode)
          this.inodes.delete(inode.hex)
        }
      } else if (inode.flushedGen === inode.gen) {
        this.dirty.delete(inode)
      }
    })
  }

  private async resolveConflict(inode: Inode, current: SignedRecord | null): Promise<void> {
    if (!current || current.deleted) {
      // Deleted (or never stored) elsewhere, changed here: ours stays.
      adoptVersion(inode, current?.version ?? 0)
      if (current?.deleted) {
        inode.storedTombstone = true
        this.relink(inode)
      }
      return
    }
    if (!verifyRecord(current, this.recordKeyOf(inode.id))) throw new VolumeError('EIO', 'conflicting record is forged')
    const theirs = decryptState(current.value, inode.id, this.keys.inodeKey(inode.id))
    if (inode.type === 'dir' && theirs.entries) {
      const merged = mergeEntries(inode.base ?? new Map(), inode.entries, theirs.entries)
      for (const [oldName, newName] of merged.renamed) {
        const e = merged.entries.get(newName)
        const child = e && this.inodes.get(e.id.toString('hex'))
        if (child) child.name = newName
        this.journal.append([{ o: 'e', d: inode.hex, n: newName, c: e!.id.toString('hex'), t: e!.type }])
        void oldName
      }
      if (this.touchesLoaded(inode.entries, merged.entries)) this.scheduleTreeCheck()
      else this.treeStale = true
      inode.state.entries = merged.entries
      inode.base = theirs.entries
      inode.state.mtime = Math.max(inode.state.mtime, theirs.mtime)
    } else if (!inode.data?.hasDirty && sameContent(this.snapshotState(inode), theirs)) {
      // Only metadata differs (a rename here and there each touch ctime, a chmod, a utimens): one
      // inode, no copy; ours is written over theirs with the later times.
      inode.state.mtime = Math.max(inode.state.mtime, theirs.mtime)
      inode.state.ctime = Math.max(inode.state.ctime, theirs.ctime)
      inode.state.atime = Math.max(inode.state.atime, theirs.atime)
    } else {
      // Files and symlinks keep both: ours stays here, theirs becomes a conflict copy beside it.
      // From now on both lists may hold the same chunks: neither is collected.
      if (theirs.file) theirs.file.shared = true
      if (inode.data) inode.data.shared = true
      const copy = new Inode(randomBytes(32), theirs)
      this.attachData(copy)
      this.inodes.set(copy.hex, copy)
      const parent = inode.parent ?? this.root
      const name = conflictName(inode.name || 'file', (n) => parent.entries.has(n))
      this.link(parent, name, copy)
      this.touch(copy)
      this.touch(parent)
    }
    adoptVersion(inode, current.version)
  }

  /**
   * Another device deleted this inode while it changed here, and it is being
   * written back: its name must come back too, or the change would be out of
   * reach. The parent's next flush merges the name in as our addition. When
   * the folder it was in is gone as well, it goes to the nearest folder above
   * that is still there (the root at the latest).
   */
  private relink(inode: Inode): void {
    if (inode === this.root) return
    let parent = inode.parent
    for (let i = 0; parent && parent !== this.root && (parent.deleted || parent.remoteDeleted) && i < 4096; i++) {
      parent = parent.parent
    }
    if (parent?.type !== 'dir' || parent.deleted || parent.remoteDeleted) parent = this.root
    const e = parent.entries.get(inode.name)
    if (e?.id.equals(inode.id)) {
      // Still listed here: our copy of the base must not say it was there, or the merge takes their removal.
      parent.base?.delete(inode.name)
      this.link(parent, inode.name, inode)
    } else {
      for (const x of parent.entries.values()) if (x.id.equals(inode.id)) return
      const wanted = inode.name || 'recovered'
      const name = e ? conflictName(wanted, (n) => parent.entries.has(n)) : wanted
      this.link(parent, name, inode)
    }
    this.touch(parent)
  }

  /**
   * Our tombstone met a newer live record: another device changed the inode
   * after the version this mount deleted. The change wins: the inode takes
   * that record and gets its name back (relink).
   */
  private undelete(inode: Inode, current: SignedRecord): void {
    if (!verifyRecord(current, this.recordKeyOf(inode.id))) throw new VolumeError('EIO', 'conflicting record is forged')
    const state = decryptState(current.value, inode.id, this.keys.inodeKey(inode.id))
    inode.deleted = false
    inode.state = state
    inode.base = state.entries ? new Map(state.entries) : null
    inode.data = null
    this.attachData(inode)
    inode.storedChunks = chunkKeys(state.file)
    adoptVersion(inode, current.version)
    inode.versionFloor = Math.max(inode.versionFloor, current.version)
    inode.flushedGen = inode.gen
    const other = this.inodes.get(inode.hex)
    // A lookup loaded it again meanwhile (a merge listed it): that object is the live one.
    if (other && other !== inode) return
    this.inodes.set(inode.hex, inode)
    this.notice(`kept ${inode.name || inode.hex.slice(0, 12)}: changed on another computer after it was deleted here`)
    this.relink(inode)
    this.scheduleTreeCheck()
  }

  /** An inode deleted elsewhere is changed through a handle here: it is listed again (its record follows). */
  private revive(inode: Inode): void {
    inode.remoteDeleted = false
    const other = this.inodes.get(inode.hex)
    if (other && other !== inode) return
    this.inodes.set(inode.hex, inode)
    this.watch.note(inode)
    this.relink(inode)
    this.scheduleTreeCheck()
  }

  // ---- replay after a crash ------------------------------------------------------

  /**
   * Reads a crashed mount's journal before any inode loads: its ops wait, by
   * inode, until loadInode applies them; its segments are held (never
   * discarded by the flusher) until every op is applied and stored.
   */
  private async readJournal(): Promise<void> {
    const { segments, entries } = await this.journal.readAll()
    if (segments.length === 0) return
    this.journal.hold(segments)
    this.replaySegments = segments
    for (const op of entries.flat()) {
      if (op.o === 'k') {
        this.chunks.adopt(Buffer.from(op.b, 'base64'))
        continue
      }
      // An open-but-unlinked file of the crashed mount: its name is not coming back.
      if (op.o === 'e' && op.n.startsWith('.fuse_hidden')) continue
      const target = op.o === 'e' ? op.d : op.id
      const list = this.replayPending.get(target)
      if (list) list.push(op)
      else this.replayPending.set(target, [op])
    }
  }

  /**
   * Applies one inode's journal ops in their order: its states and deletion
   * first (it ends in its last state), then, for a directory, its entries
   * (a rename is two entry ops, each applied to its directory).
   */
  private applyJournalOps(inode: Inode, ops: JournalOp[]): void {
    for (const op of ops) {
      if (op.o === 's') {
        const state = stateFromWire(op.w as Parameters<typeof stateFromWire>[0])
        if (inode.type === 'dir' && state.type === 'dir') state.entries = inode.state.entries
        else if (state.type === 'dir') state.entries = new Map()
        inode.state = state
        inode.data = null
        this.attachData(inode)
        this.touch(inode)
      } else if (op.o === 'x') {
        inode.deleted = true
        this.touch(inode)
      }
    }
    if (inode.type !== 'dir') return
    for (const op of ops) {
      if (op.o !== 'e') continue
      if (op.c === null) inode.entries.delete(op.n)
      else inode.entries.set(op.n, { id: Buffer.from(op.c, 'hex'), type: codeType(op.t) })
      this.touch(inode)
    }
  }

  /**
   * An inode the store has no live record of, with ops in the crashed
   * mount's journal. A state op means the journal knows it whole: it is
   * created from that (never stored, or deleted elsewhere while it changed
   * here: its flush then meets the tombstone and writes it back). Without
   * one, what the ops did is settled here, or they wait (null):
   * - a tombstone: a deletion is done; names added to a directory deleted
   *   elsewhere are linked into the root under a conflict name, so they are
   *   not lost;
   * - no record at all: a deletion is done (nothing was stored); entry ops
   *   wait, since a directory the journal changed was stored before, and a
   *   store that does not find it now (an offline member asking itself) is
   *   not the last word.
   */
  private fromJournal(id: Buffer, ops: JournalOp[], rec: SignedRecord | null): Inode | null {
    const hex = id.toString('hex')
    let last: JournalOp | null = null
    for (const op of ops) if (op.o === 's') last = op
    if (last?.o === 's') {
      const state = stateFromWire(last.w as Parameters<typeof stateFromWire>[0])
      if (state.type === 'dir') state.entries = new Map()
      const fresh = new Inode(id, state)
      this.attachData(fresh)
      return fresh
    }
    const entryOps = ops.filter((op): op is Extract<JournalOp, { o: 'e' }> => op.o === 'e')
    // Deleted by the crashed mount: whatever else its ops did to it is moot.
    const deletedHere = ops.some((op) => op.o === 'x')
    if (!rec && !deletedHere && entryOps.length > 0) return null
    if (rec?.deleted && !deletedHere && entryOps.length > 0 && this.root && this.root.hex !== hex) {
      const last = new Map<string, Extract<JournalOp, { o: 'e' }>>()
      for (const op of entryOps) last.set(op.n, op)
      for (const op of last.values()) {
        if (op.c === null) continue
        const child = { id: Buffer.from(op.c, 'hex'), type: codeType(op.t) }
        if ([...this.root.entries.values()].some((e) => e.id.equals(child.id))) continue
        const name = conflictName(op.n, (n) => this.root.entries.has(n))
        this.root.entries.set(name, child)
        this.journal.append([{ o: 'e', d: this.root.hex, n: name, c: op.c, t: op.t }])
        this.touch(this.root)
        this.notice(`'${op.n}' was added to a folder deleted on another computer: kept as /${name}`)
      }
    }
    this.replayPending.delete(hex)
    return null
  }

  /**
   * After a crash: every inode the journal changed is loaded (which applies
   * its ops), then everything is flushed, and only then is the journal
   * discarded. What cannot be applied or stored now (the store does not
   * answer) stays in the journal and is tried again with backoff; the mount
   * works meanwhile.
   */
  private async replay(): Promise<void> {
    if (this.replaySegments.length === 0) return
    let ops = 0
    for (const list of this.replayPending.values()) ops += list.length
    this.notice(`replaying ${ops} changes of the last session (it did not end cleanly)…`)
    try {
      await this.replayOnce()
    } catch (err) {
      this.onError(new Error(`replay of the last session's changes: ${(err as Error).message}; trying again`))
    }
    if (this.replaySegments.length > 0) this.scheduleReplay()
  }

  private async replayOnce(): Promise<void> {
    const ids = [...this.replayPending.keys()]
    await runLimited(ids, 8, async (hex) => {
      await this.getInode(Buffer.from(hex, 'hex')).catch(() => {})
    })
    if (this.replayPending.size > 0) {
      throw new VolumeError('EAGAIN', `${this.replayPending.size} changed inodes could not be read yet`)
    }
    // Bounded (main): a store that cannot take it now must not hold the mount up; the segments stay held and replay retries.
    if (!(await settlesWithin(this.flush(), REPLAY_FLUSH_MS, this.onError))) {
      throw new VolumeError('EAGAIN', 'the replayed changes are not stored yet')
    }
    const segments = this.replaySegments
    this.replaySegments = []
    this.journal.release(segments)
    await this.journal.discard(segments)
    this.replayDelayMs = REPLAY_RETRY_MIN_MS
  }

  private scheduleReplay(): void {
    if (this.closed || this.replayTimer) return
    const delay = this.replayDelayMs
    this.replayDelayMs = Math.min(this.replayDelayMs * 2, REPLAY_RETRY_MAX_MS)
    this.replayTimer = setTimeout(() => {
      this.replayTimer = null
      this.replaying = this.replayOnce()
        .catch((err) => this.backgroundError(err))
        .finally(() => {
          this.replaying = null
          if (this.replaySegments.length > 0) this.scheduleReplay()
        })
    }, delay)
    this.replayTimer.unref()
  }

  // ---- paths ----------------------------------------------------------------

  async resolve(p: string): Promise<Inode> {
    let node = this.root
    for (const name of splitPath(p)) node = await this.child(node, name)
    return node
  }

  private async child(dir: Inode, name: string): Promise<Inode> {
    if (dir.type !== 'dir') fail('ENOTDIR')
    const e = dir.entries.get(name)
    if (!e) fail('ENOENT')
    const inode = await this.getInode(e!.id)
    inode.parent = dir
    inode.name = name
    this.watch.note(inode)
    return inode
  }

  /** The path an inode was last seen at here, from its parent links; null when they do not reach the root. */
  pathOf(inode: Inode): string | null {
    const names: string[] = []
    for (let x: Inode | null = inode, n = 0; x !== this.root; x = x.parent, n++) {
      if (!x || n > 4096) return null
      names.push(x.name)
    }
    return `/${names.reverse().join('/')}`
  }

  private async parentOf(p: string): Promise<{ dir: Inode; name: string }> {
    const parts = splitPath(p)
    const name = parts.pop()
    if (name === undefined) fail('EBUSY', 'the root has no parent')
    if (Buffer.byteLength(name!) > MAX_NAME_BYTES) fail('ENAMETOOLONG')
    // The mount shows the shares of other users there (share-view.ts): no entry of one's own may take it.
    if (parts.length === 0 && name === SHARED_DIR_NAME) fail('EPERM', `/${SHARED_DIR_NAME} is reserved for shares`)
    let dir = this.root
    for (const part of parts) dir = await this.child(dir, part)
    if (dir.type !== 'dir') fail('ENOTDIR')
    return { dir, name: name! }
  }

  private link(dir: Inode, name: string, child: Inode): void {
    dir.entries.set(name, { id: child.id, type: child.type })
    child.parent = dir
    child.name = name
    this.journal.append([{ o: 'e', d: dir.hex, n: name, c: child.hex, t: typeCode(child.type) }])
  }

  private changed(inode: Inode, now = Date.now()): void {
    inode.state.mtime = now
    inode.state.ctime = now
    this.touch(inode)
  }

  private deleteInode(inode: Inode): void {
    inode.deleted = true
    this.journalDirty.delete(inode)
    this.journal.append([{ o: 'x', id: inode.hex }])
    this.touch(inode)
  }

  // ---- changes by other devices ------------------------------------------------

  /** A FUSE handle holds this inode: keep it watched until released. */
  noteOpen(inode: Inode): void {
    this.watch.opened(inode)
  }

  noteRelease(inode: Inode): void {
    this.watch.released(inode)
  }

  /** Local changes not yet in the store, or a write or flush in progress: not to be replaced now. */
  private busy(inode: Inode): boolean {
    return (
      inode.gen !== inode.flushedGen ||
      this.dirty.has(inode) ||
      inode.flushLock.locked ||
      (inode.data !== null && (inode.data.hasDirty || inode.data.lock.locked))
    )
  }

  /**
   * Re-reads the inode's record and takes in a newer version written by
   * another device. An inode with local changes is left alone (false: try
   * again later); its flush meets the newer version as a compare-and-swap
   * conflict and merges (directories) or keeps both (files), so local state
   * always wins or is kept.
   */
  private async takeRemote(inode: Inode): Promise<boolean> {
    if (inode.deleted || inode.remoteDeleted) return true
    if (this.busy(inode)) return false
    const rec = await this.fetchRecord(inode.id)
    // Under the namespace lock, and nothing awaits from the check to the swap: no rename or
    // unlink here is between its check and its change while the entries are replaced.
    return this.ns.run(() => this.applyRemote(inode, rec))
  }

  private applyRemote(inode: Inode, rec: SignedRecord | null): boolean {
    if (inode.deleted || inode.remoteDeleted) return true
    if (this.busy(inode)) return false
    if (!rec || rec.version <= Math.max(inode.version, inode.versionFloor)) return true
    if (rec.deleted) {
      // Deleted elsewhere: open handles keep the object (like an unlinked open file) and may still read
      // and write it; lookups no longer find it. A change made through a handle brings it back (revive).
      adoptVersion(inode, rec.version)
      inode.remoteDeleted = true
      inode.storedTombstone = true
      this.inodes.delete(inode.hex)
      this.watch.forget(inode)
      this.remoteChanges++
      return true
    }
    const state = decryptState(rec.value, inode.id, this.keys.inodeKey(inode.id))
    if (state.entries && !this.keepsLocalChildren(inode, state.entries)) return false
    if (state.entries && inode.state.entries) {
      if (this.touchesLoaded(inode.state.entries, state.entries)) this.scheduleTreeCheck()
      else this.treeStale = true
    }
    inode.state = state
    inode.base = state.entries ? new Map(state.entries) : null
    inode.data = null
    this.attachData(inode)
    // The device that wrote it collects what it dropped; ours is now what the store lists.
    inode.storedChunks = chunkKeys(state.file)
    inode.version = rec.version
    inode.versionFloor = Math.max(inode.versionFloor, rec.version)
    this.remoteChanges++
    return true
  }

  /**
   * Fits the newer entries of a directory to what must stay here: the
   * kernel's `.fuse_hidden*` names (never published) are kept. False when
   * they lack a child that has unflushed changes here: the directory waits
   * (still showing it) until that child is flushed, whose compare-and-swap
   * then learns whether it was deleted (it is written back and relinked,
   * see resolveConflict) or moved (both versions are kept).
   */
  private keepsLocalChildren(dir: Inode, theirs: Map<string, DirEntry>): boolean {
    for (const [name, e] of dir.entries) {
      if (theirs.has(name)) continue
      if (name.startsWith('.fuse_hidden')) {
        theirs.set(name, e)
        continue
      }
      const child = this.inodes.get(e.id.toString('hex'))
      if (child && !child.deleted && this.busy(child)) return false
    }
    return true
  }

  /** The poller's counters, for tests and the status line. */
  syncStats(): SyncStats & { watched: number; taken: number; beacon: number } {
    return { ...this.remote.stats, watched: this.watch.size, taken: this.remoteChanges, beacon: this.remote.known }
  }

  /** One poll now (tests; the timer does the same every syncIntervalMs). */
  pollRemote(): Promise<void> {
    return this.remote.poll()
  }

  // ---- the tree invariant (tree-check.ts) ----------------------------------------

  /**
   * True when a folder's entries change by an inode this mount has loaded
   * (listed anew, or no longer listed): only such a change can make a
   * problem the check can see (a second listing, an orphan, a cycle). New
   * files from another device, the usual change, cost no check.
   */
  private touchesLoaded(before: Map<string, DirEntry>, after: Map<string, DirEntry>): boolean {
    const loaded = (e: DirEntry) => {
      const x = this.inodes.get(e.id.toString('hex'))
      return x !== undefined && !x.deleted
    }
    for (const [name, e] of after) if (!before.get(name)?.id.equals(e.id) && loaded(e)) return true
    for (const [name, e] of before) if (!after.get(name)?.id.equals(e.id) && loaded(e)) return true
    return false
  }

  /** A check soon after another device's folder was taken in or merged (debounced). */
  private scheduleTreeCheck(delayMs = TREE_CHECK_DELAY_MS): void {
    if (this.closed || this.treeTimer || this.treeSettleMs === 0) return
    this.treeTimer = setTimeout(() => {
      this.treeTimer = null
      if (this.closed) return
      this.checkTree({ repair: true, settledOnly: true }).catch((err) => this.onError(err))
    }, delayMs)
    this.treeTimer.unref()
  }

  /**
   * Finds listings that break the tree invariant (a second parent, a cycle,
   * an orphan) and, with `repair`, settles them. `settledOnly` (the check
   * after merges): a problem is settled only once it was seen again at least
   * treeSettleMs after it was first seen, after re-reading the records
   * involved, since another device's rename is briefly listed in both
   * folders. `full` (peerstore check): loads the whole tree first, and also
   * reports entries whose inode is deleted (removed on repair) or missing
   * in the store (only reported: the ring may not be answering).
   */
  async checkTree(opts: { repair?: boolean; settledOnly?: boolean; full?: boolean } = {}): Promise<TreeReport> {
    if (this.treeRunning) return this.treeRunning.then(() => this.checkTree(opts))
    const run = this.checkTreeOnce(opts)
    this.treeRunning = run.then(
      () => {},
      () => {}
    )
    try {
      return await run
    } finally {
      this.treeRunning = null
    }
  }

  /**
   * `peerstore check`: the whole tree; with `repair`, passes until nothing
   * more is repaired (a cycle takes two: its orphan goes back, then the
   * listing that closes the cycle goes).
   */
  async checkAll(repair: boolean): Promise<TreeReport> {
    const first = await this.checkTree({ repair, full: true })
    if (!repair) return { ...first, remaining: first.problems }
    const repaired = [...first.repaired]
    let last = first
    for (let i = 0; i < 4 && last.repaired.length > 0; i++) {
      last = await this.checkTree({ repair: true, full: true })
      repaired.push(...last.repaired)
    }
    const after = last.repaired.length > 0 ? await this.checkTree({ full: true }) : last
    return { inodes: after.inodes, problems: first.problems, repaired, remaining: after.problems }
  }

  private async checkTreeOnce(opts: { repair?: boolean; settledOnly?: boolean; full?: boolean }): Promise<TreeReport> {
    const states = new Map<string, 'deleted' | 'missing'>()
    if (opts.full) await this.loadWholeTree(states)
    const state = (h: string) => states.get(h) ?? 'live'
    // First from memory alone: the usual answer, no problem, costs no read.
    const candidates = this.orphanCandidates()
    const first = findProblems(this.root.hex, this.checkNode, candidates, state)
    const unreached = candidates.filter((h) => !first.reached.has(h))
    if (first.problems.length === 0 && unreached.length === 0) {
      this.treeSuspects.clear()
      return this.treeReport([], [], first.reached.size)
    }
    // Re-read what is involved: a problem may only be a view older than the store (an inode
    // deleted elsewhere whose folder came in before its tombstone is not an orphan).
    const involved = new Set<Inode>()
    for (const hex of [
      ...unreached,
      ...first.problems.flatMap((p) => (p.kind === 'orphan' ? [p.id] : [p.dir, p.id]))
    ]) {
      const inode = this.inodes.get(hex)
      if (inode) involved.add(inode)
      if (inode?.parent) involved.add(inode.parent)
    }
    await runLimited([...involved], 8, async (inode) => {
      await this.takeRemote(inode).catch(() => false)
    })
    await this.walkTree(states)
    return this.ns.run(() => {
      // Nothing awaits from here: the walk and the repairs see one state.
      const final = findProblems(this.root.hex, this.checkNode, this.orphanCandidates(), (h) => states.get(h) ?? 'live')
      const now = Date.now()
      const seen = new Set<string>()
      const act: TreeProblem[] = []
      for (const p of final.problems) {
        if (p.kind === 'dangling' && p.state === 'missing') continue
        if (p.kind === 'extra-entry' && p.name.startsWith('.fuse_hidden')) continue
        const key = problemKey(p)
        seen.add(key)
        const first = this.treeSuspects.get(key) ?? now
        this.treeSuspects.set(key, first)
        if (!opts.repair) continue
        if (opts.settledOnly && now - first < this.treeSettleMs) continue
        act.push(p)
      }
      for (const key of this.treeSuspects.keys()) if (!seen.has(key)) this.treeSuspects.delete(key)
      const fixed = this.settle(act, final.reached)
      for (const p of act) this.treeSuspects.delete(problemKey(p))
      if (opts.settledOnly && this.treeSuspects.size > 0) this.scheduleTreeCheck(this.treeSettleMs)
      if (fixed.length > 0) this.notice(`tree check: settled ${fixed.join('; ')}`)
      return this.treeReport(final.problems, fixed, final.reached.size)
    })
  }

  private readonly checkNode = (hex: string): CheckNode | undefined => {
    const inode = this.inodes.get(hex)
    if (!inode || inode.deleted || inode.remoteDeleted) return undefined
    return { hex, type: inode.type, entries: inode.state.entries ?? null }
  }

  /** Live inodes this mount knows that are stored (a new one is listed by its own folder already). */
  private orphanCandidates(): string[] {
    const out: string[] = []
    for (const inode of this.inodes.values()) {
      if (inode === this.root || inode.deleted || inode.remoteDeleted || inode.version === 0) continue
      out.push(inode.hex)
    }
    return out
  }

  /**
   * A walk over the loaded folders; when some inode was not reached and
   * folders were not loaded, those are loaded and the walk runs again (so an
   * inode moved elsewhere by another device is found, not taken for an orphan).
   */
  private async walkTree(states: Map<string, 'deleted' | 'missing'>): Promise<WalkResult> {
    const state = (h: string) => states.get(h) ?? 'live'
    for (let round = 0; ; round++) {
      const candidates = this.orphanCandidates()
      const walk = findProblems(this.root.hex, this.checkNode, candidates, state)
      if (walk.unknown.length === 0 || round > 64) return walk
      if (candidates.every((h) => walk.reached.has(h))) return walk
      let settled = 0
      await runLimited(walk.unknown, 8, async (hex) => {
        const id = Buffer.from(hex, 'hex')
        if (await this.getInode(id).catch(() => null)) settled++
        else if ((await this.fetchRecord(id).catch(() => null))?.deleted) {
          // A folder entry naming a tombstone holds nothing: it does not keep orphans from being judged
          // (a record not found, or a store not answering, does: what is inside is unknown).
          states.set(hex, 'deleted')
          settled++
        }
      })
      if (settled === 0) return walk
    }
  }

  /** Loads every inode listed under the root; records deleted or not found go to `states`. */
  private async loadWholeTree(states: Map<string, 'deleted' | 'missing'>): Promise<void> {
    const seen = new Set<string>([this.root.hex])
    let level: Inode[] = [this.root]
    while (level.length > 0) {
      const next: Inode[] = []
      const ids: { id: Buffer; dir: Inode; name: string }[] = []
      for (const dir of level) {
        for (const [name, e] of dir.state.entries ?? []) {
          const hex = e.id.toString('hex')
          if (seen.has(hex)) continue
          seen.add(hex)
          ids.push({ id: e.id, dir, name })
        }
      }
      await runLimited(ids, 8, async ({ id, dir, name }) => {
        const hex = id.toString('hex')
        const known = this.inodes.get(hex)
        // What this mount holds may be older than the store: re-read it (a busy one keeps its state).
        if (known) await this.takeRemote(known).catch(() => false)
        const inode = this.inodes.get(hex) ?? (await this.getInode(id).catch(() => null))
        if (!inode) {
          const rec = await this.fetchRecord(id).catch(() => null)
          states.set(hex, rec?.deleted ? 'deleted' : 'missing')
          return
        }
        // Where the walk met it first: the names the report uses.
        inode.parent = dir
        inode.name = name
        if (inode.type === 'dir') next.push(inode)
      })
      level = next
    }
  }

  /** Repairs, synchronously (under the namespace lock); returns one line per repair. */
  private settle(problems: TreeProblem[], reached: Map<string, unknown>): string[] {
    const done: string[] = []
    const orphans: string[] = []
    for (const p of problems) {
      if (p.kind === 'orphan') {
        orphans.push(p.id)
        continue
      }
      const dir = this.inodes.get(p.dir)
      if (!dir?.state.entries?.get(p.name)?.id.equals(Buffer.from(p.id, 'hex'))) continue
      dir.entries.delete(p.name)
      this.journal.append([{ o: 'e', d: dir.hex, n: p.name, c: null }])
      this.touch(dir)
      done.push(
        `${p.kind === 'dangling' ? 'removed the entry of a deleted inode' : `removed a ${p.cause} listing`} '${p.name}'`
      )
    }
    if (orphans.length > 0) {
      const place = placeOrphans(
        orphans,
        (h) => this.inodes.get(h)?.parent?.hex ?? null,
        this.checkNode,
        reached,
        this.root.hex
      )
      for (const [hex, dirHex] of place) {
        const inode = this.inodes.get(hex)
        const dir = this.inodes.get(dirHex) ?? this.root
        if (!inode || dir.type !== 'dir') continue
        const wanted = inode.name || 'recovered'
        const name = dir.entries.has(wanted) ? conflictName(wanted, (n) => dir.entries.has(n)) : wanted
        this.link(dir, name, inode)
        this.touch(dir)
        done.push(`put the orphan '${wanted}' back as '${name}'`)
      }
    }
    return done
  }

  private treeReport(problems: TreeProblem[], fixed: string[], reached: number): TreeReport {
    const names = (hex: string) => {
      const inode = this.inodes.get(hex)
      return (inode && this.pathOf(inode)) ?? (inode?.name || hex.slice(0, 12))
    }
    const lines = problems.map((p) => {
      if (p.kind === 'orphan') return `orphan ${p.type} '${names(p.id)}' (${p.id.slice(0, 12)}): in no folder`
      if (p.kind === 'dangling')
        return `entry '${p.name}' in '${names(p.dir)}' names an inode that is ${p.state === 'deleted' ? 'deleted' : 'not found in the store'}`
      if (p.cause === 'cycle') return `cycle: '${names(p.dir)}' lists its own ancestor '${p.name}'`
      return `${p.cause === 'root' ? 'the root' : `'${names(p.id)}'`} listed again as '${p.name}' in '${names(p.dir)}'`
    })
    return { inodes: reached, problems: lines, repaired: fixed }
  }

  // ---- operations -------------------------------------------------------------

  stat(inode: Inode): Stat {
    return statOf(inode.state, inode.size)
  }

  async readdir(p: string): Promise<string[]> {
    const dir = await this.resolve(p)
    if (dir.type !== 'dir') fail('ENOTDIR')
    return [...dir.entries.keys()]
  }

  /** Entries with their inodes, for `peerstore ls` and `get`. */
  async list(p: string): Promise<{ name: string; inode: Inode }[]> {
    const dir = await this.resolve(p)
    if (dir.type !== 'dir') fail('ENOTDIR')
    const out: { name: string; inode: Inode }[] = []
    for (const name of dir.entries.keys()) out.push({ name, inode: await this.child(dir, name) })
    return out
  }

  /*
   * Namespace operations (create, mkdir, symlink, unlink, rmdir, rename) run
   * one at a time under `ns`, as does taking in another device's record
   * (takeRemote) and the tree check's repairs. Each first loads what it needs
   * (awaits), then checks and changes the entries in one synchronous step,
   * so a merge of a directory (resolveConflict, also synchronous) can never
   * fall between its check and its change.
   */

  async create(p: string, mode: number, owner?: Owner): Promise<Inode> {
    return this.ns.run(() => this.makeNode(p, 'file', mode, owner))
  }

  async mkdir(p: string, mode: number, owner?: Owner): Promise<Inode> {
    return this.ns.run(() => this.makeNode(p, 'dir', mode, owner))
  }

  async symlink(target: string, p: string, owner?: Owner): Promise<Inode> {
    return this.ns.run(() => this.makeNode(p, 'symlink', 0o777, owner, target))
  }

  private async makeNode(p: string, type: InodeType, mode: number, owner?: Owner, target?: string): Promise<Inode> {
    const { dir, name } = await this.parentOf(p)
    if (dir.entries.has(name)) fail('EEXIST')
    const inode = this.newInode(type, mode, owner)
    if (type === 'symlink') inode.state.target = target
    this.inodes.set(inode.hex, inode)
    this.link(dir, name, inode)
    this.touch(inode)
    this.changed(dir, inode.state.ctime)
    return inode
  }

  async readlink(p: string): Promise<string> {
    const inode = await this.resolve(p)
    if (inode.type !== 'symlink') fail('EINVAL')
    return inode.state.target ?? ''
  }

  async unlink(p: string): Promise<void> {
    await this.ns.run(async () => {
      const { dir, name, inode } = await this.entryOf(p)
      if (inode.type === 'dir') fail('EISDIR')
      dir.entries.delete(name)
      this.journal.append([{ o: 'e', d: dir.hex, n: name, c: null }])
      this.deleteInode(inode)
      this.changed(dir)
    })
  }

  async rmdir(p: string): Promise<void> {
    await this.ns.run(async () => {
      const { dir, name, inode } = await this.entryOf(p)
      if (inode.type !== 'dir') fail('ENOTDIR')
      if (inode.entries.size > 0) fail('ENOTEMPTY')
      dir.entries.delete(name)
      this.journal.append([{ o: 'e', d: dir.hex, n: name, c: null }])
      this.deleteInode(inode)
      this.changed(dir)
    })
  }

  /**
   * The entry at `p` with its inode loaded, checked once nothing awaits any
   * more: a merge during the load may have rebound or removed the name.
   */
  private async entryOf(p: string): Promise<{ dir: Inode; name: string; inode: Inode }> {
    for (let attempt = 0; ; attempt++) {
      const { dir, name } = await this.parentOf(p)
      const inode = await this.child(dir, name)
      if (dir.entries.get(name)?.id.equals(inode.id)) return { dir, name, inode }
      if (attempt >= 3) fail('ENOENT')
    }
  }

  /**
   * Atomic: one journal entry moves the name, replacing a file or an empty
   * directory at the target. Every check is made after the last await.
   */
  async rename(from: string, to: string): Promise<void> {
    await this.ns.run(async () => {
      for (let attempt = 0; ; attempt++) {
        const src = await this.entryOf(from)
        const dst = await this.parentOf(to)
        const existing = dst.dir.entries.get(dst.name)
        const replaced = existing ? await this.child(dst.dir, dst.name) : null
        // Loads are done: from here on nothing awaits, so the checks below hold when the entries change.
        const stillThere =
          src.dir.entries.get(src.name)?.id.equals(src.inode.id) &&
          (replaced ? dst.dir.entries.get(dst.name)?.id.equals(replaced.id) : !dst.dir.entries.has(dst.name))
        if (!stillThere) {
          if (attempt >= 3) fail('EAGAIN', 'the folders changed during the rename')
          continue
        }
        this.moveEntry(src.dir, src.name, src.inode, dst.dir, dst.name, replaced)
        return
      }
    })
  }

  private moveEntry(
    srcDir: Inode,
    srcName: string,
    inode: Inode,
    dstDir: Inode,
    dstName: string,
    replaced: Inode | null
  ): void {
    if (srcDir === dstDir && srcName === dstName) return
    if (dstDir.deleted || dstDir.remoteDeleted) fail('ENOENT')
    if (inode.type === 'dir') {
      for (let d: Inode | null = dstDir; d; d = d.parent) {
        if (d === inode) fail('EINVAL', 'cannot move a directory into itself')
        if (d === this.root) break
      }
    }
    if (replaced) {
      if (replaced === inode) return
      if (inode.type === 'dir' && replaced.type !== 'dir') fail('ENOTDIR')
      if (inode.type !== 'dir' && replaced.type === 'dir') fail('EISDIR')
      if (replaced.type === 'dir' && replaced.entries.size > 0) fail('ENOTEMPTY')
    }
    srcDir.entries.delete(srcName)
    dstDir.entries.set(dstName, { id: inode.id, type: inode.type })
    inode.parent = dstDir
    inode.name = dstName
    const ops: JournalOp[] = [
      { o: 'e', d: srcDir.hex, n: srcName, c: null },
      { o: 'e', d: dstDir.hex, n: dstName, c: inode.hex, t: typeCode(inode.type) }
    ]
    if (replaced) {
      replaced.deleted = true
      this.journalDirty.delete(replaced)
      ops.push({ o: 'x', id: replaced.hex })
      this.touch(replaced)
    }
    this.journal.append(ops)
    const now = Date.now()
    this.changed(srcDir, now)
    if (dstDir !== srcDir) this.changed(dstDir, now)
    inode.state.ctime = now
    this.touch(inode)
  }

  async read(inode: Inode, out: Buffer, len: number, pos: number): Promise<number> {
    if (!inode.data) fail(inode.type === 'dir' ? 'EISDIR' : 'EINVAL')
    return inode.data!.read(out, len, pos)
  }

  async write(inode: Inode, data: Buffer, pos: number): Promise<number> {
    if (!inode.data) fail(inode.type === 'dir' ? 'EISDIR' : 'EINVAL')
    const n = await inode.data!.write(data, pos)
    this.changed(inode)
    if (this.dirtyBytes > this.maxDirtyBytes) await inode.data!.seal()
    return n
  }

  async truncate(inode: Inode, size: number): Promise<void> {
    if (!inode.data) fail(inode.type === 'dir' ? 'EISDIR' : 'EINVAL')
    if (size < 0 || !Number.isSafeInteger(size)) fail('EINVAL')
    await inode.data!.truncate(size)
    this.changed(inode)
  }

  /**
   * close(): the file's data and all metadata so far are in the local journal
   * and spool, which survive a crash of this process (SIGKILL); the flusher
   * puts them in the store (durable) within about a second.
   */
  async closeFile(inode: Inode): Promise<void> {
    if (inode.data?.hasDirty) await inode.data.seal()
    await this.commit()
  }

  /** fsync(): the file's data and record are durable in the ValueStore, and the journal on disk. */
  async fsync(inode: Inode): Promise<void> {
    if (inode.data?.hasDirty) await inode.data.seal()
    await this.commit({ sync: true })
    if (!inode.deleted && inode.gen !== inode.flushedGen) {
      await this.flushInode(inode)
      // Other devices hear of an fsync'd change now, not at the next flush pass or tick.
      this.remote.publish().catch((err) => this.onError(err))
    } else if (inode.data) await this.chunks.whenUploaded(inode.data.chunks)
  }

  chmod(inode: Inode, mode: number): void {
    inode.state.mode = TYPE_BITS[inode.type] | (mode & 0o7777)
    inode.state.ctime = Date.now()
    this.touch(inode)
  }

  chown(inode: Inode, uid: number, gid: number): void {
    // -1 (as uint32) leaves the id unchanged, as chown(2) does.
    if (uid !== -1 && uid !== 0xffffffff) inode.state.uid = uid
    if (gid !== -1 && gid !== 0xffffffff) inode.state.gid = gid
    inode.state.ctime = Date.now()
    this.touch(inode)
  }

  utimens(inode: Inode, atime: number, mtime: number): void {
    inode.state.atime = atime
    inode.state.mtime = mtime
    inode.state.ctime = Date.now()
    this.touch(inode)
  }

  getxattr(inode: Inode, name: string): Buffer | null {
    return inode.state.xattrs.get(name) ?? null
  }

  listxattr(inode: Inode): string[] {
    return [...inode.state.xattrs.keys()]
  }

  setxattr(inode: Inode, name: string, value: Buffer, flags: number): void {
    if (!name.startsWith('user.') || name === STATUS_XATTR) fail('ENOTSUP')
    const exists = inode.state.xattrs.has(name)
    if (flags & 1 && exists) fail('EEXIST')
    if (flags & 2 && !exists) fail('ENODATA')
    inode.state.xattrs.set(name, Buffer.from(value))
    inode.state.ctime = Date.now()
    this.touch(inode)
  }

  removexattr(inode: Inode, name: string): void {
    if (!inode.state.xattrs.delete(name)) fail('ENODATA')
    inode.state.ctime = Date.now()
    this.touch(inode)
  }

  /** Replicas of the inode's record and data against the target, and whether an upload is pending. */
  async replicaReport(inode: Inode): Promise<ReplicaReport> {
    const chunkKeys = (inode.data?.chunks ?? []).filter((k): k is Buffer => k !== null)
    const pendingChunks = chunkKeys.filter((k) => this.chunks.isPending(k)).length
    const pendingUpload =
      pendingChunks > 0 || (inode.data?.hasDirty ?? false) || inode.gen !== inode.flushedGen || inode.version === 0
    let live: number | null = null
    let target: number | null = null
    // Offline, asking the holders would only wait for their timeouts.
    const offline = this.records?.offline ?? false
    const uploadError = this.chunks.failureOf(chunkKeys)
    if (offline) return { live, target, pendingUpload, pendingChunks, uploadError, offline }
    if (this.store.replicaStatus) {
      const keys = [this.recordKeyOf(inode.id), ...chunkKeys]
      try {
        for (const k of keys) {
          const r = await this.store.replicaStatus(k)
          live = live === null ? r.live : Math.min(live, r.live)
          target = target === null ? r.target : Math.max(target, r.target)
        }
      } catch {
        // The ring cannot be asked (unreachable): the copies are unknown; the rest of the report still stands.
        live = target = null
      }
    }
    return { live, target, pendingUpload, pendingChunks, uploadError }
  }

  async statfs(): Promise<{ totalBytes: number; freeBytes: number; files: number }> {
    const cap = this.capacityFn ? await this.capacityFn() : { totalBytes: 2 ** 50, freeBytes: 2 ** 49 }
    return { ...cap, files: this.inodes.size }
  }

  /** Counters for the status line. */
  status(): VolumeStatus {
    const since = this.records?.offlineSince ?? 0
    let replayOps = 0
    for (const ops of this.replayPending.values()) replayOps += ops.length
    return {
      inodes: this.inodes.size,
      dirty: this.dirty.size,
      pendingChunks: this.chunks.pendingCount,
      pendingBytes: this.chunks.pendingByteCount,
      uploaded: this.chunks.stats.uploaded,
      fromOtherDevices: this.remoteChanges,
      offline: since > 0,
      offlineSinceMs: since > 0 ? Date.now() - since : 0,
      replayWaiting: this.replaySegments.length > 0,
      replayOps,
      uploadFailure: this.chunks.uploadFailure
    }
  }
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

/** The version the inode's next record gets: above the store's and above any this mount has seen. */
function nextVersion(inode: Inode): number {
  return Math.max(inode.version, inode.versionFloor) + 1
}

/** Takes the store's version as the compare-and-swap base, remembering the highest seen. */
function adoptVersion(inode: Inode, version: number): void {
  inode.versionFloor = Math.max(inode.versionFloor, inode.version)
  inode.version = version
}

export function splitPath(p: string): string[] {
  return p.split('/').filter((s) => s.length > 0 && s !== '.')
}

function typeCode(t: InodeType): string {
  return t === 'file' ? 'f' : t === 'dir' ? 'd' : 'l'
}

function codeType(c: string | undefined): InodeType {
  return c === 'd' ? 'dir' : c === 'l' ? 'symlink' : 'file'
}

export { S_IFMT }

/** The non-hole chunk keys of a file's content. */
function chunkKeys(file: FileContent | undefined): Buffer[] {
  return file ? file.chunks.filter((k): k is Buffer => k !== null) : []
}

/** The same bytes: a file's chunk list and inline content, or a symlink's target. */
function sameContent(a: InodeState, b: InodeState): boolean {
  if (a.type !== b.type) return false
  if (a.type === 'symlink') return a.target === b.target
  const x = a.file
  const y = b.file
  if (!x || !y) return x === y
  if (!x.fileId.equals(y.fileId) || x.size !== y.size || x.chunks.length !== y.chunks.length) return false
  for (let i = 0; i < x.chunks.length; i++) {
    const p = x.chunks[i]
    const q = y.chunks[i]
    if (p === null || q === null ? p !== q : !p.equals(q)) return false
  }
  const ix = x.inline ?? null
  const iy = y.inline ?? null
  return ix === null || iy === null ? ix === iy : ix.equals(iy)
}

/** One tree problem across checks (the check after merges settles those that last). */
function problemKey(p: TreeProblem): string {
  if (p.kind === 'orphan') return `orphan:${p.id}`
  return `${p.kind}:${p.dir}:${p.name}:${p.id}`
}
