// What the parts of a Volume share: its stores, keys, journal and timers'
// settings, and the parts themselves, so each (inode table, flusher, replay,
// conflicts, tree repair, remote changes, namespace) can reach the others
// without globals. Built once by the Volume (volume.ts).

import fs from 'node:fs'
import path from 'node:path'
import { ChunkAccounting } from './chunk-accounting'
import type { ChunkCollector } from './chunks/gc'
import { ChunkStore } from './chunks/chunk-store'
import { ConflictResolver } from './conflict'
import { Flusher } from './flusher'
import { InodeTable } from './inode-table'
import { Journal } from './journal'
import type { Inode } from './loaded-inode'
import { Mutex } from '../common/semaphore'
import { Namespace } from './namespace'
import { RecordCopy, RecordCopyStore, recordCopyDir } from './record-copy'
import { RemoteApply } from './remote-apply'
import { RemoteSync } from './remote-sync'
import { Replay } from './replay'
import { TreeRepair } from './tree-repair'
import type { ValueStore } from './value-store'
import { VolumeKeys } from './volume-keys'
import { DEFAULT_CHUNK_SIZE, DEFAULT_SYNC_INTERVAL_MS, type VolumeOptions } from './volume-options'
import { WatchSet } from './watch-set'

export class VolumeContext {
  readonly home: string
  readonly keys: VolumeKeys
  /** The store with the home's copy of this user's records in front (null without a copy). */
  readonly records: RecordCopyStore | null
  readonly store: ValueStore
  /** A home from before the record copy that has mounted (it has a journal directory) may have a tree. */
  readonly legacyHome: boolean
  readonly chunkSize: number
  readonly chunks: ChunkStore
  readonly journal: Journal
  /** Inodes the poller re-reads when another device announced changes. */
  readonly watch: WatchSet<Inode>
  readonly remote: RemoteSync<Inode>
  readonly notice: (line: string) => void
  readonly onError: (err: Error) => void
  /** One namespace change at a time (see namespace.ts). */
  readonly ns = new Mutex()
  readonly uid = process.getuid?.() ?? 0
  readonly gid = process.getgid?.() ?? 0

  readonly table: InodeTable
  readonly accounting: ChunkAccounting
  readonly conflicts: ConflictResolver
  readonly flusher: Flusher
  readonly replay: Replay
  readonly tree: TreeRepair
  readonly remoteApply: RemoteApply
  readonly namespace: Namespace

  root!: Inode
  /** Set as close() begins: no timer schedules new work from then on. */
  closed = false
  /** Records taken in from other devices. */
  remoteChanges = 0
  private lastBackgroundError = ''

  constructor(opts: VolumeOptions) {
    this.home = path.resolve(opts.home)
    this.keys = opts.keys ?? VolumeKeys.fromHome(this.home)
    this.legacyHome =
      !fs.existsSync(recordCopyDir(this.home)) && fs.existsSync(path.join(this.home, 'cache', 'journal'))
    this.records = opts.recordCopy
      ? new RecordCopyStore(opts.store, new RecordCopy(opts.recordCopy, this.keys.publicKey))
      : null
    this.store = this.records ?? opts.store
    this.chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE
    const cacheDir = path.join(this.home, 'cache')
    // Upload failures and what close() leaves behind are the user's business: they go out as notices.
    this.chunks = new ChunkStore({ store: this.store, cacheDir, readCacheBytes: opts.readCacheBytes, log: opts.notice })
    this.journal = new Journal(path.join(cacheDir, 'journal'), this.keys.journalKey)
    this.onError = opts.onError ?? ((err) => process.stderr.write(`peerstore: background flush: ${err.message}\n`))
    this.notice = opts.notice ?? (() => {})
    this.watch = new WatchSet(opts.watchLimit ?? 256, opts.watchWindowMs ?? 60_000)
    this.remote = new RemoteSync<Inode>({
      store: this.store,
      keys: this.keys,
      watch: this.watch,
      refresh: (inode) => this.remoteApply.takeRemote(inode),
      intervalMs: opts.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS,
      fullPassMs: opts.syncFullPassMs ?? 30_000,
      // Offline, every tick fails the same way: said once (backgroundError).
      onError: (err) => this.backgroundError(err)
    })
    this.table = new InodeTable(this)
    this.accounting = new ChunkAccounting(this, opts.gcGraceMs)
    this.conflicts = new ConflictResolver(this)
    this.flusher = new Flusher(this, opts)
    this.replay = new Replay(this)
    this.tree = new TreeRepair(this, opts.treeSettleMs)
    this.remoteApply = new RemoteApply(this)
    this.namespace = new Namespace(this)
  }

  /** Null when the store cannot delete (then nothing is collected). */
  get gc(): ChunkCollector | null {
    return this.accounting.collector
  }

  /**
   * An error of the background flusher: reported once while it repeats (an
   * offline ring fails every pass the same way; the changes wait in the
   * journal, and the status line says so).
   */
  readonly backgroundError = (err: Error): void => {
    if (err.message === this.lastBackgroundError) return
    this.lastBackgroundError = err.message
    this.onError(err)
  }

  /** A background pass went through: the next error is said again. */
  backgroundRecovered(): void {
    this.lastBackgroundError = ''
  }
}
