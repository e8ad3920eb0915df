// Reading what one key holds: the value (whole or a byte range), its index
// entry, a record decoded, and the store's totals.

import { decodeRecord, type SignedRecord } from '../crypto/record'
import { StoreError } from './errors'
import { decodeIndexEntry, type EntryKind, type IndexEntry, type ValueKind } from './index-entry'
import { valueView } from './lmdb-layout'
import { checkKey, type StoreContext } from './store-context'
import type { StoreStats } from './store-tables'

/** Values at least this large are paged in off the JS thread before they are copied (see get). */
const PREFETCH_MIN_BYTES = 64 * 1024

export interface StoredValue {
  kind: ValueKind
  /** For records: the encoded SignedRecord. */
  bytes: Buffer
}

export interface StoredRecord {
  record: SignedRecord
  bytes: Buffer
}

/**
 * The value at `key`, copied out of the store: into a fresh Buffer, or into
 * the one `alloc(size)` returns (a caller that reuses its buffers).
 */
export async function getValue(
  ctx: StoreContext,
  key: Buffer,
  alloc?: (size: number) => Buffer
): Promise<StoredValue | null> {
  const { values, index } = (await ctx.opened()).dbs
  checkKey(key)
  let raw = index.getBinary(key)
  if (!raw || isTombstone(raw)) return null
  // getBinary copies out of LMDB's memory map on the JS thread; for a large
  // value not in the page cache (a cold read after a remount) that is disk
  // I/O in page faults, ~1.5 ms per MiB with the event loop stalled.
  // prefetch touches the pages on LMDB's own thread first, so that several
  // read-ahead chunks load in parallel while the JS thread serves FUSE.
  // The index is read again after it: a delete may have run meanwhile, and
  // index and value must be read together, with no await between them.
  if (decodeIndexEntry(raw).size >= PREFETCH_MIN_BYTES) {
    await values.prefetch([key])
    raw = index.getBinary(key)
    if (!raw || isTombstone(raw)) return null
  }
  const entry = decodeIndexEntry(raw) as IndexEntry
  const view = valueView(values, key)
  if (!view) throw new Error(`store corrupt: index entry without value for ${key.toString('hex')}`)
  const bytes = alloc ? alloc(view.byteLength) : Buffer.allocUnsafe(view.byteLength)
  bytes.set(view)
  return { kind: entry.kind, bytes }
}

/** The index entry at `key`, tombstones included (an expired one counts as absent). */
export async function getEntry(ctx: StoreContext, key: Buffer): Promise<IndexEntry<EntryKind> | null> {
  const { index } = (await ctx.opened()).dbs
  checkKey(key)
  const raw = index.getBinary(key)
  return raw ? ctx.live(decodeIndexEntry(raw)) : null
}

/** The index entry of the value at `key` (kind, size, version) without reading it; null for a tombstone. */
export async function statValue(ctx: StoreContext, key: Buffer): Promise<IndexEntry | null> {
  const entry = await getEntry(ctx, key)
  return entry && entry.kind !== 'tombstone' ? (entry as IndexEntry) : null
}

/**
 * Bytes [start, end) of the value at `key`, `end` clamped to its size. Only
 * the range is copied: LMDB hands out large values as a view of its memory
 * map, so a 128 KiB read of a 4 MiB chunk copies 128 KiB.
 */
export async function readRange(ctx: StoreContext, key: Buffer, start: number, end: number): Promise<Buffer | null> {
  const { values } = (await ctx.opened()).dbs
  checkKey(key)
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new StoreError('ERANGE', `bad byte range [${start}, ${end})`)
  }
  const view = valueView(values, key)
  if (!view) return null
  const size = view.byteLength
  return Buffer.from(view.subarray(Math.min(start, size), Math.min(end, size)))
}

/** The record stored at `key`, decoded, or null (also null for an immutable value). */
export async function getRecord(ctx: StoreContext, key: Buffer): Promise<StoredRecord | null> {
  const stored = await getValue(ctx, key)
  if (stored?.kind !== 'record') return null
  return { record: decodeRecord(stored.bytes), bytes: stored.bytes }
}

export async function getStats(ctx: StoreContext): Promise<StoreStats> {
  return (await ctx.opened()).stats()
}

function isTombstone(raw: Uint8Array): boolean {
  return decodeIndexEntry(raw).kind === 'tombstone'
}
