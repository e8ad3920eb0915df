// A durable copy, in the home, of the user's own records (inode records, the
// root pointer, the sync beacon): metadata only, never chunks. It is what lets
// a mount whose ring is unreachable show the whole tree it has seen, and what
// stops "the ring did not answer" from ever reading as "there is no tree".
//
// Kept in a store of its own (RecordCopyBacking; lib/app/record-copy-store.ts
// keeps it in a NodeStore at <home>/records), which verifies each record's
// signature at its key and refuses a version that is not above the stored
// one, so the copy only moves forward. RecordCopyStore wraps the
// Volume's ValueStore: every record read or written through it lands here, and
// every read takes the newer of the ring's answer and this copy.

import path from 'node:path'
import { recordKey, type SignedRecord, verifyRecord } from '../crypto/record'
import { isConflict, type RecordWatch, type ValueStore } from './value-store'

/** After the ring failed to answer, how long reads are served from the copy without waiting for it. */
const OFFLINE_HOLD_MS = 3000

/** Where the record copy keeps its records (lib/app/record-copy-store.ts). */
export interface RecordCopyBacking {
  ready(): Promise<void>
  close(): Promise<void>
  /** The record kept at `key`, or null (RecordCopy verifies it). */
  getRecord(key: Buffer): Promise<SignedRecord | null>
  /**
   * Keeps `record` at `key` once it verifies there and is newer than the kept
   * one. Refusals throw with a code: ESTALE (not newer), EBADSIG or EKIND (not
   * a valid record at this key), EFORK (another record of the same version,
   * settled by the rule every store applies).
   */
  putRecord(key: Buffer, record: SignedRecord): Promise<void>
}

/**
 * Not a ReadyResource: close() after a failed ready() must still close the
 * backing store (openParts does, to free what it half-opened), which
 * ready-resource skips; the backing store (a NodeStore) guards its own
 * second ready() and close().
 */
export class RecordCopy {
  /** Copies being written in the background (reads do not wait for them); close() does. */
  private readonly writing = new Set<Promise<void>>()

  constructor(
    private readonly store: RecordCopyBacking,
    private readonly owner: Buffer
  ) {}

  ready(): Promise<void> {
    return this.store.ready()
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.writing])
    await this.store.close()
  }

  /**
   * keep() without waiting: what a read brings in. Awaiting each one made a
   * cold listing of 2,000 files 5× slower (one LMDB commit and fsync per
   * record, in series: 2.3 s → 11.2 s); issued together they share commits.
   * Losing one to a crash costs nothing the ring does not still hold.
   */
  keepLater(key: Buffer, record: SignedRecord): void {
    const p = this.keep(key, record)
      .catch(() => {})
      .finally(() => this.writing.delete(p))
    this.writing.add(p)
  }

  /** The copy at `key`, or null. */
  async get(key: Buffer): Promise<SignedRecord | null> {
    const stored = await this.store.getRecord(key)
    if (!stored || !verifyRecord(stored, key)) return null
    return stored
  }

  /** Keeps `record` if it is this user's and newer than the copy; an older or equal one is ignored. */
  async keep(key: Buffer, record: SignedRecord): Promise<void> {
    if (!record.owner.equals(this.owner)) return
    try {
      await this.store.putRecord(key, record)
    } catch (err) {
      const code = (err as { code?: string }).code
      // Not newer than what is kept (ESTALE), or not a valid record at this key: the copy stays as it is.
      // EFORK: a different record of the same version, settled by the store's own rule (the one every
      // machine applies, where stores settle forks), so the copy agrees with the ring.
      if (code === 'ESTALE' || code === 'EBADSIG' || code === 'EKIND' || code === 'EFORK') return
      throw err
    }
  }
}

export function recordCopyDir(home: string): string {
  return path.join(home, 'records')
}

/** Which of two records is newer (by version); null when both are. */
export function newer(a: SignedRecord | null, b: SignedRecord | null): SignedRecord | null {
  if (!a) return b
  if (!b) return a
  return b.version > a.version ? b : a
}

/**
 * The Volume's ValueStore with the record copy in front of its records.
 * Reads take the newer of the store's answer and the copy; while the store
 * fails to answer (offline), reads that the copy can serve do not wait for
 * it, and one read at a time goes on trying it in the background. Writes go
 * to the store only: a change made offline waits in the Volume's journal
 * (and stays dirty) until the store takes it.
 */
export class RecordCopyStore implements ValueStore {
  /** Until when the store is taken as unreachable (ms since epoch); 0 while it answers. */
  private offlineUntil = 0
  private probing = false
  /** When the store last failed to answer, for the status line; 0 while it answers. */
  offlineSince = 0

  constructor(
    readonly inner: ValueStore,
    readonly copy: RecordCopy
  ) {
    if (inner.putImmutableKnown) this.putImmutableKnown = (key, bytes) => inner.putImmutableKnown!(key, bytes)
    if (inner.getLocal) this.getLocal = (key, alloc) => inner.getLocal!(key, alloc)
    if (inner.deleteImmutable) this.deleteImmutable = (key) => inner.deleteImmutable!(key)
    if (inner.replicaStatus) this.replicaStatus = (key) => inner.replicaStatus!(key)
    if (inner.watchRecord) this.watchRecord = (key, onChange) => inner.watchRecord!(key, onChange)
  }

  putImmutableKnown?: (key: Buffer, bytes: Buffer) => Promise<void>
  getLocal?: (key: Buffer, alloc?: (size: number) => Buffer) => Promise<Buffer | null>
  deleteImmutable?: (key: Buffer) => Promise<void>
  replicaStatus?: (key: Buffer) => Promise<{ live: number; target: number }>
  watchRecord?: (key: Buffer, onChange: (version: number) => void) => RecordWatch

  /** True while the store did not answer the last time it was asked. */
  get offline(): boolean {
    return this.offlineSince > 0
  }

  getImmutable(key: Buffer): Promise<Buffer> {
    return this.inner.getImmutable(key)
  }

  putImmutable(bytes: Buffer): Promise<Buffer> {
    return this.inner.putImmutable(bytes)
  }

  async getRecord(key: Buffer): Promise<SignedRecord | null> {
    // While a probe is out, the store is still taken as away: a read must not wait for the timeout the probe waits for.
    const offline = Date.now() < this.offlineUntil || this.probing
    // Online, the store is asked at once, beside the copy, not after it.
    const asked = offline ? null : this.inner.getRecord(key)
    asked?.catch(() => {})
    const local = await this.copy.get(key)
    if (local && offline) {
      this.probe(key)
      return local
    }
    let remote: SignedRecord | null
    try {
      remote = await (asked ?? this.inner.getRecord(key))
    } catch (err) {
      this.failed()
      // The store could not tell (or did not answer): the copy, never "absent".
      if (local) return local
      throw err
    }
    this.answered()
    // The ring's answer is verified by the caller and by the copy's store (RecordCopyBacking.putRecord) alike.
    if (remote && (!local || remote.version > local.version)) this.copy.keepLater(key, remote)
    return newer(local, remote)
  }

  async putRecord(record: SignedRecord, expectedVersion: number): Promise<void> {
    const key = recordKey(record.owner, record.name)
    try {
      await this.inner.putRecord(record, expectedVersion)
    } catch (err) {
      if (isConflict(err)) {
        this.answered()
        const current = (err as { current: SignedRecord | null }).current
        if (current) await this.keepVerified(key, current)
      } else this.failed()
      throw err
    }
    this.answered()
    await this.copy.keep(key, record)
  }

  /** Only a record that verifies at its key is kept (keep() refuses others too; this says why cheaply). */
  private async keepVerified(key: Buffer, record: SignedRecord): Promise<void> {
    if (verifyRecord(record, key)) await this.copy.keep(key, record)
  }

  private failed(): void {
    const now = Date.now()
    if (this.offlineSince === 0) this.offlineSince = now
    this.offlineUntil = now + OFFLINE_HOLD_MS
  }

  private answered(): void {
    this.offlineSince = 0
    this.offlineUntil = 0
  }

  /** While offline: one background read at a time finds out whether the store is back. */
  private probe(key: Buffer): void {
    if (this.probing) return
    this.probing = true
    this.inner
      .getRecord(key)
      .then(
        async (remote) => {
          this.answered()
          if (remote) this.copy.keepLater(key, remote)
        },
        () => this.failed()
      )
      .catch(() => {})
      .finally(() => {
        this.probing = false
      })
  }
}
