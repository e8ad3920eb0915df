// What every part of one node store shares: opening and closing the LMDB
// environment, its tables once open, the write path, and the clock that
// tombstones and future-dated writes are judged by.

import { MAX_CLOCK_SKEW_MS } from '../crypto/chunk-claim'
import { HASH_BYTES } from '../crypto/hash'
import { DurableWrites, type TxnOutcome, type WriteOptions } from './durable-writes'
import { StoreError } from './errors'
import type { EntryKind, IndexEntry } from './index-entry'
import { openLmdb } from './lmdb-layout'
import { StoreTables } from './store-tables'

/** Hard cap on one value; the transport caps RPC bodies at the same 4 MiB. */
export const MAX_VALUE_BYTES = 4 * 1024 * 1024

/**
 * How long the tombstone of a deleted immutable value is kept. A machine away
 * for longer than this that still holds a copy brings it back when it
 * returns (a leak, never a loss; docs/storage.md).
 */
export const TOMBSTONE_TTL_MS = 30 * 24 * 3600_000

/** How long close() waits for lmdb-js once a commit has failed (see close). */
const CLOSE_AFTER_FAILURE_MS = 2000

export interface NodeStoreOptions {
  /** How long a tombstone is kept (default TOMBSTONE_TTL_MS); tests shorten it. */
  tombstoneTtlMs?: number
  /** The clock tombstones expire by; tests move it on. */
  now?: () => number
}

export class StoreContext {
  readonly dir: string
  readonly tombstoneTtlMs: number
  readonly now: () => number
  private readonly writes: DurableWrites
  private open: StoreTables | null = null
  private opening: Promise<void> | null = null
  private closing: Promise<void> | null = null

  constructor(dir: string, opts: NodeStoreOptions = {}) {
    this.dir = dir
    this.tombstoneTtlMs = opts.tombstoneTtlMs ?? TOMBSTONE_TTL_MS
    this.now = opts.now ?? Date.now
    this.writes = new DurableWrites(dir)
  }

  ready(): Promise<void> {
    if (!this.opening) this.opening = this.openStore()
    return this.opening
  }

  private async openStore(): Promise<void> {
    if (this.closing) throw new StoreError('ECLOSED', 'store is closed')
    this.open = new StoreTables(await openLmdb(this.dir))
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        if (this.opening) await this.opening.catch(() => {})
        const root = this.open?.dbs.root
        this.open = null
        if (!root) return
        if (!this.writes.commitFailed) {
          await root.close()
          return
        }
        // After a failed commit lmdb-js never resolves its flush promise, and
        // close() waits for it forever: give it a moment, then leave the
        // environment to the process's exit (LMDB reopens to the last commit).
        let timer: NodeJS.Timeout | undefined
        await Promise.race([
          root.close(),
          new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_AFTER_FAILURE_MS)))
        ])
        clearTimeout(timer)
      })()
    }
    return this.closing
  }

  /** The open store's tables, once it is ready; ECLOSED once it is closing. */
  async opened(): Promise<StoreTables> {
    if (this.closing) throw new StoreError('ECLOSED', 'store is closed')
    await this.ready()
    if (!this.open) throw new StoreError('ECLOSED', 'store is closed')
    return this.open
  }

  /** The tables inside a write transaction (which runs only on an opened store). */
  get tables(): StoreTables {
    if (!this.open) throw new StoreError('ECLOSED', 'store is closed')
    return this.open
  }

  /** Runs `body` in a write transaction and resolves once the commit is on disk. */
  async write(body: () => TxnOutcome, opts?: WriteOptions): Promise<boolean> {
    const { dbs } = await this.opened()
    return this.writes.write(dbs.root, body, opts)
  }

  /** Refuses a write of `size` new bytes while the disk is full (DurableWrites.refuseWhileFull). */
  refuseWhileFull(size: number): Promise<void> {
    return this.writes.refuseWhileFull(size)
  }

  /** The entry, or null for a tombstone past its time-to-live (not yet swept). */
  live<E extends IndexEntry<EntryKind>>(entry: E): E | null {
    return entry.kind === 'tombstone' && entry.version + this.tombstoneTtlMs <= this.now() ? null : entry
  }

  checkTime(time: number, what: string): void {
    if (time > this.now() + MAX_CLOCK_SKEW_MS) {
      throw new StoreError('EFUTURE', `${what} dated ${time}, more than ${MAX_CLOCK_SKEW_MS / 60_000} min ahead`)
    }
  }
}

export function checkKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.byteLength !== HASH_BYTES) {
    throw new StoreError('EBADKEY', `key must be ${HASH_BYTES} bytes`)
  }
}

export function checkSize(bytes: Buffer): void {
  if (bytes.byteLength > MAX_VALUE_BYTES) {
    throw new StoreError('ETOOBIG', `value of ${bytes.byteLength} bytes exceeds ${MAX_VALUE_BYTES}`)
  }
}
