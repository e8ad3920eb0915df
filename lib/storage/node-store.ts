// The durable store of the values one ring node holds: immutable chunks
// (key = sha256(bytes)) and signed mutable records (lib/crypto/record.ts).
// LMDB underneath, laid out as lmdb-layout.ts describes. This class is the
// facade the node uses; each job lives in its own module:
//   store-context.ts     opening, closing, the clock, the shared write path
//   durable-writes.ts    commits acknowledged once on disk; a full disk
//   store-tables.ts      the databases changed together; space accounting
//   value-reads.ts       values, byte ranges, index entries, stats
//   immutable-values.ts  chunks under their hash
//   chunk-claims.ts      owners' signed claims and deletes of chunks
//   tombstones.ts        unsigned tombstones and their expiry
//   signed-records.ts    records: verification, compare-and-swap, forks
//   hand-off.ts          ring-ordered scans, sync digests, dropping keys

import type { ChunkClaim } from '../crypto/chunk-claim'
import { type ChunkState, chunkState, deleteChunk, putChunkDeletes } from './chunk-claims'
import { removeKey, type ScanItem, scanInterval, syncDigest } from './hand-off'
import { deleteImmutable, type PutImmutableOptions, putImmutable } from './immutable-values'
import type { EntryKind, IndexEntry } from './index-entry'
import { putRecord } from './signed-records'
import { type NodeStoreOptions, StoreContext } from './store-context'
import type { StoreStats } from './store-tables'
import { dropExpiredTombstones, putTombstone } from './tombstones'
import {
  getEntry,
  getRecord,
  getStats,
  getValue,
  readRange,
  type StoredRecord,
  type StoredValue,
  statValue
} from './value-reads'

export type { ChunkState } from './chunk-claims'
export type { ScanItem } from './hand-off'
export type { PutImmutableOptions } from './immutable-values'
export { MAX_VALUE_BYTES, type NodeStoreOptions, TOMBSTONE_TTL_MS } from './store-context'
export type { StoreStats } from './store-tables'
export type { StoredRecord, StoredValue } from './value-reads'

export class NodeStore {
  readonly dir: string
  private readonly ctx: StoreContext

  constructor(dir: string, opts: NodeStoreOptions = {}) {
    this.dir = dir
    this.ctx = new StoreContext(dir, opts)
  }

  ready(): Promise<void> {
    return this.ctx.ready()
  }

  close(): Promise<void> {
    return this.ctx.close()
  }

  // ---- reads ---------------------------------------------------------------

  /** The value at `key`, copied out (into `alloc(size)` when given: a caller that reuses its buffers). */
  get(key: Buffer, alloc?: (size: number) => Buffer): Promise<StoredValue | null> {
    return getValue(this.ctx, key, alloc)
  }

  /** The index entry of the value at `key` (kind, size, version) without reading it; null for a tombstone. */
  stat(key: Buffer): Promise<IndexEntry | null> {
    return statValue(this.ctx, key)
  }

  /** The index entry at `key`, tombstones included (an expired one counts as absent). */
  entry(key: Buffer): Promise<IndexEntry<EntryKind> | null> {
    return getEntry(this.ctx, key)
  }

  /** Bytes [start, end) of the value at `key`, `end` clamped to its size; only the range is copied. */
  read(key: Buffer, start: number, end: number): Promise<Buffer | null> {
    return readRange(this.ctx, key, start, end)
  }

  /** The record stored at `key`, decoded, or null (also null for an immutable value). */
  getRecord(key: Buffer): Promise<StoredRecord | null> {
    return getRecord(this.ctx, key)
  }

  /**
   * Entries in the ring interval (fromExclusive, toInclusive], in ring order.
   * from >= to wraps past the largest key; from == to is the whole ring.
   */
  scan(fromExclusive: Buffer, toInclusive: Buffer): AsyncGenerator<ScanItem> {
    return scanInterval(this.ctx, fromExclusive, toInclusive)
  }

  stats(): Promise<StoreStats> {
    return getStats(this.ctx)
  }

  /** The owners' claims and deletes held for an immutable key (none for a record or an unknown key). */
  chunkState(key: Buffer): Promise<ChunkState> {
    return chunkState(this.ctx, key)
  }

  /** What anti-entropy compares beyond the index entry: a record's bytes, or a chunk's claims (hand-off.ts). */
  syncDigest(key: Buffer, kind: EntryKind): Promise<number> {
    return syncDigest(this.ctx, key, kind)
  }

  // ---- writes --------------------------------------------------------------

  /**
   * Stores an immutable value; idempotent. Refuses unless key = sha256(bytes),
   * hashed here unless the caller passes the hash it computed (`knownHash`).
   */
  putImmutable(key: Buffer, bytes: Buffer, opts: PutImmutableOptions = {}): Promise<void> {
    return putImmutable(this.ctx, key, bytes, opts)
  }

  /** A repair copy of an immutable key's signed deletes (no bytes), merged like any copy. */
  putChunkDeletes(key: Buffer, claims: ChunkClaim[]): Promise<boolean> {
    return putChunkDeletes(this.ctx, key, claims)
  }

  /** A user's signed delete of its own claim on the immutable value at `key` (EPERM for anyone else). */
  deleteChunk(key: Buffer, del: ChunkClaim): Promise<boolean> {
    return deleteChunk(this.ctx, key, del)
  }

  /** An unsigned local tombstone, for values stored before claims only (tombstones.ts). */
  putTombstone(key: Buffer, deletedAt: number, opts: { fresh?: boolean } = {}): Promise<boolean> {
    return putTombstone(this.ctx, key, deletedAt, opts)
  }

  /** Removes the tombstones older than the time-to-live; resolves to how many. */
  dropExpiredTombstones(limit?: number): Promise<number> {
    return dropExpiredTombstones(this.ctx, limit)
  }

  /**
   * Stores a signed record (or tombstone) if it verifies for `key` and its
   * version is above the stored one; with `expectedVersion`, compare-and-swap
   * (signed-records.ts: forks, squatted keys, idempotent retries).
   */
  putRecord(key: Buffer, recordBytes: Buffer, expectedVersion?: number): Promise<void> {
    return putRecord(this.ctx, key, recordBytes, expectedVersion)
  }

  /** Removes an immutable value and leaves no tombstone. Records are refused. */
  deleteImmutable(key: Buffer): Promise<boolean> {
    return deleteImmutable(this.ctx, key)
  }

  /** Removes whatever is stored at `key`, tombstones too: for keys this node is no longer responsible for. */
  delete(key: Buffer): Promise<boolean> {
    return removeKey(this.ctx, key)
  }
}
