// The databases of one opened store (lmdb-layout.ts) changed together, inside
// a write transaction: a value, its index entry, its expiry row, its claim
// rows and the stats always move as one, so no caller can leave one without
// the others. Reads outside a transaction see the last commit.

import type { ChunkClaim } from '../crypto/chunk-claim'
import { claimRowKey, decodeRow, encodeRow, MAX_OWNER, ZERO_OWNER } from './claim-rows'
import { decodeIndexEntry, type EntryKind, encodeIndexEntry, type IndexEntry } from './index-entry'
import { EMPTY, expiryKey, type StoreDbs } from './lmdb-layout'

export interface StoreStats {
  keys: number
  bytes: number
}

const STATS_KEY = 'stats'

export class StoreTables {
  constructor(readonly dbs: StoreDbs) {}

  /** The entry at `key` in the write transaction; an expired tombstone is there but counts as absent. */
  entry(key: Buffer): IndexEntry<EntryKind> | null {
    const raw = this.dbs.index.getBinary(key)
    return raw ? decodeIndexEntry(raw) : null
  }

  /** Writes a value (or a tombstone: `bytes` null) over whatever `replaced` was. */
  set(key: Buffer, bytes: Buffer | null, entry: IndexEntry<EntryKind>, replaced: IndexEntry<EntryKind> | null): void {
    const { values, index, expiry } = this.dbs
    if (bytes) values.putSync(key, bytes)
    else if (replaced && replaced.kind !== 'tombstone') values.removeSync(key)
    index.putSync(key, encodeIndexEntry(entry))
    if (replaced?.kind === 'tombstone') expiry.removeSync(expiryKey(replaced.version, key))
    if (entry.kind === 'tombstone') expiry.putSync(expiryKey(entry.version, key), EMPTY)
    this.count(replaced, -1)
    this.count(entry, 1)
  }

  /** A new version of the value's index entry alone (the bytes and size stay). */
  setVersion(key: Buffer, entry: IndexEntry<EntryKind>): void {
    this.dbs.index.putSync(key, encodeIndexEntry(entry))
  }

  remove(key: Buffer, existing: IndexEntry<EntryKind>): void {
    const { values, index, expiry, claims } = this.dbs
    if (existing.kind === 'tombstone') expiry.removeSync(expiryKey(existing.version, key))
    else values.removeSync(key)
    if (existing.kind !== 'record')
      for (const hex of this.claimRows(key).keys()) claims.removeSync(claimRowKey(key, hex))
    index.removeSync(key)
    this.count(existing, -1)
  }

  /** Each owner's claim or delete held at `key`, by owner (hex). */
  claimRows(key: Buffer): Map<string, ChunkClaim> {
    const rows = new Map<string, ChunkClaim>()
    const start = Buffer.concat([key, ZERO_OWNER])
    const end = Buffer.concat([key, MAX_OWNER])
    for (const { key: k, value } of this.dbs.claims.getRange({ start, end, inclusiveEnd: true })) {
      const owner = Buffer.from(k.subarray(32, 64))
      rows.set(owner.toString('hex'), decodeRow(owner, value))
    }
    return rows
  }

  putClaimRow(key: Buffer, ownerHex: string, row: ChunkClaim): void {
    this.dbs.claims.putSync(claimRowKey(key, ownerHex), encodeRow(row))
  }

  stats(): StoreStats {
    return decodeStats(this.dbs.meta.getBinary(STATS_KEY))
  }

  /** Stats count values only: a tombstone holds no bytes anyone stored. */
  private count(entry: IndexEntry<EntryKind> | null, sign: 1 | -1): void {
    if (!entry || entry.kind === 'tombstone') return
    const stats = this.stats()
    stats.keys += sign
    stats.bytes += sign * entry.size
    this.dbs.meta.putSync(STATS_KEY, encodeStats(stats))
  }
}

function encodeStats(s: StoreStats): Buffer {
  const b = Buffer.alloc(16)
  b.writeDoubleBE(s.keys, 0)
  b.writeDoubleBE(s.bytes, 8)
  return b
}

function decodeStats(b: Uint8Array | undefined): StoreStats {
  if (!b) return { keys: 0, bytes: 0 }
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength)
  return { keys: buf.readDoubleBE(0), bytes: buf.readDoubleBE(8) }
}
