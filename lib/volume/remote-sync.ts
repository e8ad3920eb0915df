// Keeps a running mount up to date with changes other devices of the same
// user make: one record as a doorbell, rung by push, with a poller behind it.
//
// Every device, after it has written records to the store, bumps a per-user
// "sync beacon" record (a CAS increment; its name and value are derived from
// the user's master key like the root pointer's). Each tick reads that one
// record; only when its version moved past what this device wrote itself
// does it re-read the records of the watched inodes (WatchSet: recently used
// and open ones). An idle mount so costs one record read per tick, whatever
// it has loaded. A slow full pass re-reads the watched records anyway, in
// case a bump was lost (a device that crashed between its records and its
// bump, or a store that was unreachable then).
//
// Push: where the store can watch a record (ValueStore.watchRecord: the
// machines holding the beacon tell this node of each new version), a beacon
// version above what we know runs a tick at once, so another device's change
// is taken in within a round trip of its bump instead of at the next poll.
// The tick itself is the same either way. While push is live the poller only
// backs it up, every max(intervalMs, pushFallbackMs); while it is not (no
// holder reachable, a node without Watch) it polls every intervalMs as before.
//
// Taking a newer record in is the Volume's job (`refresh`): it never
// replaces an inode with unflushed local changes; those go through the
// compare-and-swap conflict merge when they are flushed, as before.

import { encrypt } from '../crypto/aead'
import { createRecord, recordKey, type SignedRecord, verifyRecord } from '../crypto/record'
import { ReadyResource } from '../common/resource'
import { Mutex, runLimited } from '../common/semaphore'
import { isConflict, type RecordWatch, type ValueStore } from './value-store'
import type { VolumeKeys } from './volume-keys'
import type { WatchSet } from './watch-set'

const MAX_BUMP_RETRIES = 16
/** Watched records re-read at once after a bump. */
const REFRESH_PARALLEL = 8
/**
 * Poll period while push is live: a lost event (a holder that crashed
 * between storing the bump and sending it, a subscription being remade after
 * a ring change) is caught within this long, for one beacon read per period.
 */
export const PUSH_FALLBACK_MS = 10_000

/** What the poller needs of an inode: the beacon version it was last known current at. */
export interface Watched {
  syncedBeacon: number
}

export interface RemoteSyncOptions<T extends Watched> {
  store: ValueStore
  keys: VolumeKeys
  watch: WatchSet<T>
  /** Re-reads one inode's record and takes a newer one in; false when it must wait (local changes). */
  refresh: (item: T) => Promise<boolean>
  intervalMs: number
  /** Poll period while push is live (default PUSH_FALLBACK_MS); never shorter than intervalMs. */
  pushFallbackMs?: number
  /** Re-read every watched record this often even without a bump. */
  fullPassMs: number
  onError: (err: Error) => void
}

export interface SyncStats {
  ticks: number
  beaconReads: number
  beaconBumps: number
  recordReads: number
  /** Inodes that were skipped because they had local changes (retried next tick). */
  deferred: number
  /** Beacon versions pushed to us (events, ours included). */
  pushes: number
  /** Ticks run at once because a push named a version we did not know. */
  pushTicks: number
}

export class RemoteSync<T extends Watched> extends ReadyResource {
  /** The highest beacon version known (read, or written by this device). */
  known = 0
  /** The highest beacon version known to follow a change by another device. */
  foreign = 0
  readonly stats: SyncStats = {
    ticks: 0,
    beaconReads: 0,
    beaconBumps: 0,
    recordReads: 0,
    deferred: 0,
    pushes: 0,
    pushTicks: 0
  }
  private pending = false
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private lastFullPass = Date.now()
  /** When the last tick started, so that the poller can stand back while push is live. */
  private lastTick = 0
  private push: RecordWatch | null = null
  /** A push came during a tick (which may have read the beacon before it): run one more after it. */
  private kicked = false
  /** Set as close() begins: no tick or push starts work from then on. */
  private stopped = false
  private lastError: { message: string; at: number } | null = null
  /** One beacon bump or read at a time: two bumps of ours would conflict with each other. */
  private readonly beaconLock = new Mutex()
  private readonly opts: RemoteSyncOptions<T>

  constructor(opts: RemoteSyncOptions<T>) {
    super()
    this.opts = opts
  }

  get enabled(): boolean {
    return this.opts.intervalMs > 0
  }

  /** Reads the beacon once (ready()), so that what loads next is marked current as of it. */
  protected override async _open(): Promise<void> {
    // Unreachable now: start from 0, so the first tick that reads it re-reads what is watched.
    this.known = this.foreign = await this.readBeacon().catch(() => 0)
  }

  /** True while the store pushes beacon changes to us (the poller then only backs it up). */
  get pushLive(): boolean {
    return this.push?.live ?? false
  }

  /** Starts ticking (when enabled), and listening for pushed beacon versions where the store has them. */
  start(): void {
    if (!this.enabled || this.stopped || this.timer) return
    this.lastFullPass = Date.now()
    this.push = this.opts.store.watchRecord?.(beaconKey(this.opts.keys), (v) => this.onPush(v)) ?? null
    const fallbackMs = Math.max(this.opts.intervalMs, this.opts.pushFallbackMs ?? PUSH_FALLBACK_MS)
    this.timer = setInterval(() => {
      // A slow tick (a store far away) is not stacked: the next one waits its turn.
      if (this.running || this.stopped) return
      // Push is live: a poll only backs it up. The few ms of slack keep a 10 s period from slipping to 11 s.
      if (this.pushLive && Date.now() - this.lastTick < fallbackMs - 50) {
        // Our own bump still goes out at this pace: records written outside a flush pass (an
        // fsync) are published by a tick, and the other devices' push waits on that bump.
        if (this.pending) this.publish().catch((err: Error) => this.report(err))
        return
      }
      this.runReported()
    }, this.opts.intervalMs)
    // A mount's life is held by its FUSE loop, not by this timer.
    this.timer.unref()
  }

  protected override async _close(): Promise<void> {
    this.stopped = true
    this.push?.close()
    this.push = null
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.running?.catch(() => {})
  }

  private runReported(): void {
    this.run().then(
      () => {
        this.lastError = null
      },
      (err: Error) => this.report(err)
    )
  }

  /**
   * A holder of the beacon stored this version. The event of our own bump
   * can overtake the bump's answer, so it is judged once no bump of ours is
   * running (under the beacon lock): only a version past what we know means
   * another device wrote.
   */
  private onPush(version: number): void {
    this.stats.pushes++
    this.beaconLock
      .run(() => version > this.known)
      .then(
        (newer) => {
          if (!newer || this.stopped) return
          this.stats.pushTicks++
          if (this.running) this.kicked = true
          else this.runReported()
        },
        () => {}
      )
  }

  /**
   * While the ring is unreachable every tick fails the same way: say it once
   * a minute, not once a tick.
   */
  private report(err: Error): void {
    const now = Date.now()
    if (this.lastError && this.lastError.message === err.message && now - this.lastError.at < 60_000) return
    this.lastError = { message: err.message, at: now }
    this.opts.onError(err)
  }

  /** Records were written: the beacon is bumped by the caller's publish() or the next tick. */
  markChanged(): void {
    this.pending = true
  }

  /** Bumps the beacon if records were written since the last bump. */
  publish(): Promise<void> {
    return this.beaconLock.run(() => this.publishLocked())
  }

  private async publishLocked(): Promise<void> {
    if (!this.pending) return
    this.pending = false
    try {
      await this.bump()
    } catch (err) {
      this.pending = true
      throw err
    }
  }

  /** One poll now, after any running one (tests, and callers that know something changed). */
  async poll(): Promise<void> {
    while (this.running) await this.running.catch(() => {})
    await this.run()
  }

  private run(): Promise<void> {
    this.lastTick = Date.now()
    const p = this.tick().finally(() => {
      if (this.running === p) this.running = null
      if (this.kicked && !this.stopped && !this.running) {
        this.kicked = false
        this.runReported()
      }
    })
    this.running = p
    return p
  }

  /** One poll: publish our own bump, read the beacon, re-read what is behind it. */
  private async tick(): Promise<void> {
    this.stats.ticks++
    // Under the lock, a read never sees our own bump before `known` does (it would look foreign).
    const v = await this.beaconLock.run(async () => {
      await this.publishLocked()
      return this.readBeacon()
    })
    if (v > this.known) {
      this.known = v
      this.foreign = v
    }
    const now = Date.now()
    const full = now - this.lastFullPass >= this.opts.fullPassMs
    if (full) this.lastFullPass = now
    const mark = this.known
    const items = this.opts.watch.items(now).filter((i) => full || i.syncedBeacon < this.foreign)
    await runLimited(items, REFRESH_PARALLEL, async (item) => {
      if (this.stopped) return
      this.stats.recordReads++
      if (await this.opts.refresh(item)) item.syncedBeacon = Math.max(item.syncedBeacon, mark)
      else this.stats.deferred++
    })
  }

  private async readBeacon(): Promise<number> {
    this.stats.beaconReads++
    const key = beaconKey(this.opts.keys)
    const rec = await this.opts.store.getRecord(key)
    if (!rec) return 0
    // A forged answer must not make us skip anything: take it as no news.
    if (!verifyRecord(rec, key)) return this.known
    return rec.version
  }

  /**
   * CAS increment from the version we know. Succeeding from exactly that
   * version means no other device bumped in between, so `foreign` stays; a
   * conflict shows another device did, so what we watch is re-read.
   */
  private async bump(): Promise<void> {
    const { keys, store } = this.opts
    const name = keys.syncBeaconName
    for (let attempt = 0; ; attempt++) {
      const expected = this.known
      const value = encrypt(Buffer.from(JSON.stringify({ at: Date.now() })), keys.syncBeaconKey, name)
      try {
        await store.putRecord(createRecord(keys.signer, name, expected + 1, value), expected)
        this.stats.beaconBumps++
        this.known = Math.max(this.known, expected + 1)
        return
      } catch (err) {
        if (!isConflict(err) || attempt >= MAX_BUMP_RETRIES) throw err
        const current = (err as { current: SignedRecord | null }).current
        const v = current?.version ?? 0
        // Above what we knew: another device bumped, so what we watch is re-read.
        // Below (a store that lost it, a replica behind): go on from there; the full pass covers it.
        if (v > this.known) this.foreign = v
        this.known = v
      }
    }
  }
}

function beaconKey(keys: VolumeKeys): Buffer {
  return recordKey(keys.publicKey, keys.syncBeaconName)
}
