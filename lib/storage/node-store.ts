// The durable store of the values one ring node holds: immutable chunks
// (key = sha256(bytes)) and signed mutable records (lib/crypto/record.ts).
//
// Engine: LMDB (lmdb-js), chosen by measurement (docs/storage.md,
// scripts/bench-storage.ts). Values live inside the engine, not as files: one
// LMDB write transaction updates the value, its index entry and the stats
// together, so a crash can never leave a value without its index entry, an
// index entry without its value, or stats that disagree with either. LMDB is
// copy-on-write with a two-phase meta page switch, so a SIGKILL or power cut
// at any moment reopens to the last committed transaction, never to a half
// written page.
//
// Layout (four named databases in one environment, `<dir>/lmdb/`):
//   values:  key(32) → value bytes
//   index:   key(32) → IndexEntry (kind, size, version), 13 bytes; a
//            tombstone of a deleted immutable value has an entry, no value
//   meta:    'stats' → { keys, bytes } (values only, never tombstones)
//   expiry:  deletedAt(8, big-endian ms) ‖ key(32) → empty: tombstones in
//            the order they expire, so the expiry sweep reads only those due
//   claims:  key(32) ‖ owner(32) → time(8) ‖ flags(1) ‖ signature(64): per
//            immutable key and owner, the later of that owner's signed claim
//            and signed delete (lib/crypto/chunk-claim.ts). The value stays
//            while one claim is left. The all-zero owner is the unsigned
//            claim of a value stored before claims existed, which no remote
//            delete removes (docs/storage.md, "Ownership of chunks").

import fs from 'node:fs'
import path from 'node:path'
import { type Database, open, type RootDatabase } from 'lmdb'
import { type ChunkClaim, claimSupersedes, MAX_CLOCK_SKEW_MS, verifyChunkClaim } from '../crypto/chunk-claim'
import { HASH_BYTES, sha256 } from '../crypto/hash'
import { decodeRecord, encodeRecord, isRecordKeyPreimage, type SignedRecord, verifyRecord } from '../crypto/record'
import { StoreError } from './errors'
import { hashedAs } from './hashed'
import { decodeIndexEntry, type EntryKind, encodeIndexEntry, type IndexEntry, type ValueKind } from './index-entry'
import { type KeyRange, ringIntervalRanges } from './ring-interval'

/** Hard cap on one value; the transport caps RPC bodies at the same 4 MiB. */
export const MAX_VALUE_BYTES = 4 * 1024 * 1024

/** Keys listed per read transaction in scan(), so a slow consumer never pins an old snapshot. */
const SCAN_PAGE = 512

/**
 * How long the tombstone of a deleted immutable value is kept. A machine away
 * for longer than this that still holds a copy brings it back when it
 * returns (a leak, never a loss; docs/storage.md).
 */
export const TOMBSTONE_TTL_MS = 30 * 24 * 3600_000

/** Expired tombstones removed per write transaction of the expiry sweep. */
const EXPIRY_BATCH = 1000

const STATS_KEY = 'stats'
/**
 * A failed commit with less free space than this under the store is a full
 * disk (LMDB reports it as EIO): a few of the largest values, so that a write
 * that needs more than what is left counts too.
 */
const DISK_FULL_BYTES = 16 * 1024 * 1024
/** How long close() waits for lmdb-js once a commit has failed (see close). */
const CLOSE_AFTER_FAILURE_MS = 2000

/** Values at least this large are paged in off the JS thread before they are copied (see get). */
const PREFETCH_MIN_BYTES = 64 * 1024

export interface StoredValue {
  kind: ValueKind
  /** For records: the encoded SignedRecord. */
  bytes: Buffer
}

export interface ScanItem {
  key: Buffer
  /** A tombstone is listed too, so anti-entropy carries deletes like values. */
  kind: EntryKind
  size: number
  /** The index entry's version (see IndexEntry), so anti-entropy can compare without fetching. */
  version: number
}

/** The ownership of an immutable key as this store holds it. */
export interface ChunkState {
  /** Each owner's latest signed claim or delete. */
  claims: ChunkClaim[]
  /** The value also has the unsigned claim of a value stored before claims (no remote delete removes it). */
  unclaimed: boolean
}

export interface NodeStoreOptions {
  /** How long a tombstone is kept (default TOMBSTONE_TTL_MS); tests shorten it. */
  tombstoneTtlMs?: number
  /** The clock tombstones expire by; tests move it on. */
  now?: () => number
}

export interface PutImmutableOptions {
  /** When the value was written (ms): compared with a tombstone's deletion time. */
  writtenAt?: number
  /**
   * A client's write: it replaces any tombstone (a fresh write wins over an
   * older delete, even with a clock behind the deleting machine's). Without
   * it (a repair copy) a tombstone as late as `writtenAt` or later wins.
   * With claims, a fresh claim older than its owner's own delete is refused
   * (ESTALE) rather than silently lost.
   */
  fresh?: boolean
  /** Signed claims (and, in a repair copy, signed deletes) of the value's owners; verified here. */
  claims?: ChunkClaim[]
  /**
   * The value carries the unsigned claim of a value stored before claims
   * (a repair copy of one). Default: true exactly when `claims` is empty.
   */
  unclaimed?: boolean
}

export interface StoreStats {
  keys: number
  bytes: number
}

export interface StoredRecord {
  record: SignedRecord
  bytes: Buffer
}

/** Outcome of a write transaction body; errors are returned, not thrown, so one
 * caller's refusal never aborts other writes batched into the same transaction. */
type TxnOutcome = { ok: true; changed: boolean } | { ok: false; error: StoreError }

export class NodeStore {
  readonly dir: string
  private root: RootDatabase | null = null
  private values: Database<Buffer, Buffer> | null = null
  private index: Database<Buffer, Buffer> | null = null
  private meta: Database<Buffer, string> | null = null
  private expiry: Database<Buffer, Buffer> | null = null
  private claimsDb: Database<Buffer, Buffer> | null = null
  private readonly tombstoneTtlMs: number
  private readonly now: () => number
  private opening: Promise<void> | null = null
  private closing: Promise<void> | null = null
  /** Why the last commit failed for a full disk; null while there is room. */
  private full: string | null = null
  /** A commit failed since the store was opened (close() cannot wait for lmdb-js then). */
  private commitFailed = false

  constructor(dir: string, opts: NodeStoreOptions = {}) {
    this.dir = dir
    this.tombstoneTtlMs = opts.tombstoneTtlMs ?? TOMBSTONE_TTL_MS
    this.now = opts.now ?? Date.now
  }

  ready(): Promise<void> {
    if (!this.opening) this.opening = this.open()
    return this.opening
  }

  private async open(): Promise<void> {
    if (this.closing) throw new StoreError('ECLOSED', 'store is closed')
    await fs.promises.mkdir(path.join(this.dir, 'lmdb'), { recursive: true, mode: 0o700 })
    // overlappingSync (the Linux default) lets the fsync of one commit overlap
    // the next transaction; every write still awaits `flushed` before it
    // resolves, so acknowledged means on disk.
    const root = open({ path: path.join(this.dir, 'lmdb'), maxDbs: 8, overlappingSync: true })
    this.root = root
    this.values = root.openDB<Buffer, Buffer>({ name: 'values', keyEncoding: 'binary', encoding: 'binary' })
    this.index = root.openDB<Buffer, Buffer>({ name: 'index', keyEncoding: 'binary', encoding: 'binary' })
    this.meta = root.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' })
    this.expiry = root.openDB<Buffer, Buffer>({ name: 'expiry', keyEncoding: 'binary', encoding: 'binary' })
    this.claimsDb = root.openDB<Buffer, Buffer>({ name: 'claims', keyEncoding: 'binary', encoding: 'binary' })
  }

  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        if (this.opening) await this.opening.catch(() => {})
        const root = this.root
        this.root = this.values = this.index = this.meta = this.expiry = this.claimsDb = null
        if (!root) return
        if (!this.commitFailed) {
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

  // ---- reads ---------------------------------------------------------------

  /**
   * The value at `key`, copied out of the store: into a fresh Buffer, or into
   * the one `alloc(size)` returns (a caller that reuses its buffers).
   */
  async get(key: Buffer, alloc?: (size: number) => Buffer): Promise<StoredValue | null> {
    const { values, index } = await this.dbs()
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

  /** The index entry of the value at `key` (kind, size, version) without reading it; null for a tombstone. */
  async stat(key: Buffer): Promise<IndexEntry | null> {
    const entry = await this.entry(key)
    return entry && entry.kind !== 'tombstone' ? (entry as IndexEntry) : null
  }

  /** The index entry at `key`, tombstones included (an expired one counts as absent). */
  async entry(key: Buffer): Promise<IndexEntry<EntryKind> | null> {
    const { index } = await this.dbs()
    checkKey(key)
    const raw = index.getBinary(key)
    return raw ? this.live(decodeIndexEntry(raw)) : null
  }

  /**
   * Bytes [start, end) of the value at `key`, `end` clamped to its size. Only
   * the range is copied: LMDB hands out large values as a view of its memory
   * map, so a 128 KiB read of a 4 MiB chunk copies 128 KiB.
   */
  async read(key: Buffer, start: number, end: number): Promise<Buffer | null> {
    const { values } = await this.dbs()
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
  async getRecord(key: Buffer): Promise<StoredRecord | null> {
    const stored = await this.get(key)
    if (stored?.kind !== 'record') return null
    return { record: decodeRecord(stored.bytes), bytes: stored.bytes }
  }

  /**
   * Entries in the ring interval (fromExclusive, toInclusive], in ring order.
   * from >= to wraps past the largest key; from == to is the whole ring.
   */
  async *scan(fromExclusive: Buffer, toInclusive: Buffer): AsyncGenerator<ScanItem> {
    checkKey(fromExclusive)
    checkKey(toInclusive)
    for (const range of ringIntervalRanges(fromExclusive, toInclusive)) {
      yield* this.scanRange(range)
    }
  }

  private async *scanRange(range: KeyRange): AsyncGenerator<ScanItem> {
    let after = range.after
    while (true) {
      const { index } = await this.dbs()
      const page: ScanItem[] = []
      for (const { key, value } of index.getRange({
        start: after,
        exclusiveStart: after !== undefined,
        end: range.upTo,
        inclusiveEnd: true,
        limit: SCAN_PAGE
      })) {
        const entry = decodeIndexEntry(value)
        page.push({ key: Buffer.from(key), ...entry })
      }
      for (const item of page) if (this.live(item)) yield item
      if (page.length < SCAN_PAGE) return
      after = page[page.length - 1].key
    }
  }

  async stats(): Promise<StoreStats> {
    const { meta } = await this.dbs()
    return decodeStats(meta.getBinary(STATS_KEY))
  }

  /** The owners' claims and deletes held for an immutable key (none for a record or an unknown key). */
  async chunkState(key: Buffer): Promise<ChunkState> {
    await this.dbs()
    checkKey(key)
    const rows = this.rowsInTxn(key)
    const anon = rows.get(ANON_HEX)
    rows.delete(ANON_HEX)
    const entry = this.entryInTxn(key)
    // A value with no row at all was stored before claims: its claim is the unsigned one.
    const legacyValue = entry?.kind === 'immutable' && !anon && rows.size === 0
    return { claims: [...rows.values()], unclaimed: Boolean(anon && !anon.deleted) || legacyValue }
  }

  /**
   * A 48-bit digest of what is held at a key beyond its index entry, so that
   * anti-entropy can tell two holders apart when kind and version agree:
   * a record's bytes (two different records of one version are a fork), or
   * an immutable key's set of claims and deletes (merged both ways when they
   * differ). 0 for an immutable key with no claims (stored before claims).
   */
  async syncDigest(key: Buffer, kind: EntryKind): Promise<number> {
    const { values } = await this.dbs()
    checkKey(key)
    if (kind === 'record') {
      const view = valueView(values, key)
      return view ? sha256(view).readUIntBE(0, 6) : 0
    }
    const rows = [...this.rowsInTxn(key).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    if (rows.length === 0) return 0
    const parts = rows.map(([, r]) => encodeRow(r, r.owner))
    return sha256(...parts).readUIntBE(0, 6) || 1
  }

  // ---- writes --------------------------------------------------------------

  /**
   * Stores an immutable value; idempotent. Refuses unless key = sha256(bytes).
   * A Buffer this process already hashed (hashed.ts) is not hashed again.
   * Over a tombstone, see PutImmutableOptions (a tombstone that wins keeps
   * the value out without an error).
   */
  async putImmutable(key: Buffer, bytes: Buffer, opts: PutImmutableOptions = {}): Promise<void> {
    checkKey(key)
    checkSize(bytes)
    const hash = hashedAs(bytes) ?? sha256(bytes)
    if (!hash.equals(key)) throw new StoreError('EBADKEY', 'key is not the sha256 of the value')
    if (isRecordKeyPreimage(bytes)) {
      throw new StoreError('EKIND', 'these bytes hash to a record key: that key belongs to a signed record')
    }
    const claims = opts.claims ?? []
    this.checkClaims(key, claims)
    this.checkTime(opts.writtenAt ?? 0, 'write time')
    // lmdb 3.5 kills the process (SIGSEGV) writing a value in shared memory: such a value is copied.
    if (bytes.buffer instanceof SharedArrayBuffer) bytes = Buffer.from(bytes)
    const unclaimed = opts.unclaimed ?? claims.length === 0
    await this.refuseWhileFull(bytes.byteLength)
    await this.write(() => {
      const existing = this.entryInTxn(key)
      if (existing?.kind === 'record') {
        return { ok: false, error: new StoreError('EKIND', 'a record is stored at this key') }
      }
      const rows = this.rowsInTxn(key)
      // Nothing signed on either side: a value stored before claims, by the rules from before them.
      if (claims.length === 0 && rows.size === 0) return this.putUnclaimedInTxn(key, bytes, existing, opts)
      return this.mergeChunkInTxn(key, bytes, claims, existing, rows, {
        fresh: opts.fresh ?? false,
        unclaimedAt: unclaimed ? (opts.writtenAt ?? 0) : null
      })
    })
  }

  /**
   * A repair copy of what another holder has at an immutable key whose value
   * it no longer holds: its owners' claims and signed deletes, no bytes.
   * Merged like any copy; the value here goes if no claim is left.
   */
  async putChunkDeletes(key: Buffer, claims: ChunkClaim[]): Promise<boolean> {
    checkKey(key)
    if (claims.length === 0) throw new StoreError('EPERM', 'a tombstone is accepted only as signed deletes')
    this.checkClaims(key, claims)
    return this.write(() => {
      const existing = this.entryInTxn(key)
      // Deletes matter only where the value (or its claims) is held: none is
      // kept for a key this store knows nothing of, or for a record's key.
      if (!existing || existing.kind === 'record') return { ok: true, changed: false }
      return this.mergeChunkInTxn(key, null, claims, existing, this.rowsInTxn(key), { fresh: false, unclaimedAt: null })
    }, FREES)
  }

  /**
   * A user's signed delete of its own claim on the immutable value at `key`.
   * Only an owner with a claim here may delete: anyone else is refused
   * (EPERM), and so is every remote delete of a value stored before claims.
   * The value goes when no claim is left (a tombstone of the signed deletes
   * stays, for anti-entropy). A key this store knows nothing of is left
   * alone (false): no tombstone is kept for someone else's key.
   */
  async deleteChunk(key: Buffer, del: ChunkClaim): Promise<boolean> {
    checkKey(key)
    if (!del.deleted) throw new StoreError('EBADSIG', 'the proof is a claim, not a signed delete')
    this.checkClaims(key, [del])
    return this.write(() => {
      const existing = this.entryInTxn(key)
      if (!existing) return { ok: true, changed: false }
      if (existing.kind === 'record') {
        return {
          ok: false,
          error: new StoreError('EKIND', 'a record is stored at this key: it is deleted with a signed record tombstone')
        }
      }
      const rows = this.rowsInTxn(key)
      if (rows.size === 0) {
        if (existing.kind === 'tombstone') return { ok: true, changed: false }
        return {
          ok: false,
          error: new StoreError('EPERM', 'this value was stored before ownership claims: no remote delete removes it')
        }
      }
      if (!rows.has(del.owner.toString('hex'))) {
        return {
          ok: false,
          error: new StoreError('EPERM', 'not an owner of this value: only a user who stored it can delete its claim')
        }
      }
      return this.mergeChunkInTxn(key, null, [del], existing, rows, { fresh: false, unclaimedAt: null })
    }, FREES)
  }

  /** The rules for a value stored with no claim (before claims existed): its write time against a tombstone's. */
  private putUnclaimedInTxn(
    key: Buffer,
    bytes: Buffer,
    existing: IndexEntry<EntryKind> | null,
    opts: PutImmutableOptions
  ): TxnOutcome {
    let writtenAt = opts.writtenAt ?? 0
    if (existing?.kind === 'immutable') return { ok: true, changed: false }
    if (existing?.kind === 'tombstone' && this.live(existing)) {
      if (opts.fresh) writtenAt = Math.max(writtenAt, existing.version + 1)
      else if (writtenAt <= existing.version) return { ok: true, changed: false }
    }
    this.setInTxn(key, bytes, { kind: 'immutable', size: bytes.byteLength, version: writtenAt }, existing)
    return { ok: true, changed: true }
  }

  /**
   * Merges owners' claims and deletes into what is held at an immutable key
   * (per owner the later entry wins; claimSupersedes), then keeps the value
   * if a claim is left, or replaces it with a tombstone if none is.
   * `unclaimedAt`: the copy also carries the unsigned claim of a value stored
   * before claims, written at that time.
   */
  private mergeChunkInTxn(
    key: Buffer,
    bytes: Buffer | null,
    claims: ChunkClaim[],
    existing: IndexEntry<EntryKind> | null,
    rows: Map<string, ChunkClaim>,
    opts: { fresh: boolean; unclaimedAt: number | null }
  ): TxnOutcome {
    const dirty = new Set<string>()
    // A value stored before claims keeps its unsigned claim once signed ones arrive.
    if (existing?.kind === 'immutable' && rows.size === 0) {
      rows.set(ANON_HEX, anonClaim(existing.version))
      dirty.add(ANON_HEX)
    }
    if (bytes && opts.unclaimedAt !== null && !rows.has(ANON_HEX)) {
      const keptOut = existing?.kind === 'tombstone' && rows.size === 0 && opts.unclaimedAt <= existing.version
      if (!keptOut) {
        rows.set(ANON_HEX, anonClaim(opts.unclaimedAt))
        dirty.add(ANON_HEX)
      }
    }
    for (const c of claims) {
      const hex = c.owner.toString('hex')
      if (hex === ANON_HEX) continue
      const cur = rows.get(hex)
      if (!cur || claimSupersedes(c, cur)) {
        rows.set(hex, c)
        dirty.add(hex)
      } else if (opts.fresh && !c.deleted && cur.deleted) {
        return {
          ok: false,
          error: new StoreError(
            'ESTALE',
            `this owner deleted the value at ${cur.time}; a claim dated ${c.time} is not after it: sign a newer claim`
          )
        }
      }
    }
    if (dirty.size === 0) return { ok: true, changed: false }
    let claimedAt = -1
    let deletedAt = 0
    for (const r of rows.values()) {
      if (r.deleted) deletedAt = Math.max(deletedAt, r.time)
      else claimedAt = Math.max(claimedAt, r.time)
    }
    for (const hex of dirty) this.claimsDb!.putSync(claimRowKey(key, hex), encodeRow(rows.get(hex)!))
    if (claimedAt >= 0 && existing?.kind === 'immutable') {
      if (claimedAt !== existing.version) {
        this.index!.putSync(key, encodeIndexEntry({ kind: 'immutable', size: existing.size, version: claimedAt }))
      }
    } else if (claimedAt >= 0 && bytes) {
      this.setInTxn(key, bytes, { kind: 'immutable', size: bytes.byteLength, version: claimedAt }, existing)
    } else if (claimedAt < 0 || existing?.kind !== 'tombstone' || existing.version !== deletedAt) {
      // No claim left (or a claim whose bytes are not here: a holder of the
      // value sends them at the next round): a tombstone of the deletes.
      this.setInTxn(key, null, { kind: 'tombstone', size: 0, version: deletedAt }, existing)
    }
    return { ok: true, changed: true }
  }

  /** Refuses claims that do not verify for `key` or are dated too far ahead. */
  private checkClaims(key: Buffer, claims: ChunkClaim[]): void {
    for (const c of claims) {
      if (!verifyChunkClaim(c, key)) throw new StoreError('EBADSIG', 'a chunk claim or delete does not verify')
      this.checkTime(c.time, c.deleted ? 'delete' : 'claim')
    }
  }

  private checkTime(time: number, what: string): void {
    if (time > this.now() + MAX_CLOCK_SKEW_MS) {
      throw new StoreError('EFUTURE', `${what} dated ${time}, more than ${MAX_CLOCK_SKEW_MS / 60_000} min ahead`)
    }
  }

  /**
   * An unsigned local tombstone, for values stored before claims only (a
   * value with claims is deleted by its owners' signed deletes: EPERM). No
   * remote request reaches this any more; it remains for the store's own
   * tests and local tools. Deletes the immutable value at `key` and leaves a tombstone dated
   * `deletedAt`, which anti-entropy carries to the other holders and which
   * keeps repair copies written before it out. A value written after
   * `deletedAt` stays, unless `fresh` (a client's delete: it wins over
   * whatever is stored, so the tombstone is dated no earlier than the value).
   * Of two tombstones the later stays. Records are refused (EKIND).
   * Resolves to false when nothing changed.
   */
  async putTombstone(key: Buffer, deletedAt: number, opts: { fresh?: boolean } = {}): Promise<boolean> {
    checkKey(key)
    if (!Number.isSafeInteger(deletedAt) || deletedAt < 0)
      throw new StoreError('ERANGE', `bad deletion time ${deletedAt}`)
    this.checkTime(deletedAt, 'deletion time')
    return this.write(() => {
      const existing = this.entryInTxn(key)
      if (this.rowsInTxn(key).size > 0) {
        return {
          ok: false,
          error: new StoreError('EPERM', 'this value has ownership claims: it is deleted by its owners’ signed deletes')
        }
      }
      let at = deletedAt
      if (existing?.kind === 'record') {
        return { ok: false, error: new StoreError('EKIND', 'a record is stored at this key; post a tombstone') }
      }
      if (existing?.kind === 'tombstone' && existing.version >= at) return { ok: true, changed: false }
      if (existing?.kind === 'immutable') {
        if (opts.fresh) at = Math.max(at, existing.version)
        else if (existing.version > at) return { ok: true, changed: false }
      }
      this.setInTxn(key, null, { kind: 'tombstone', size: 0, version: at }, existing)
      return { ok: true, changed: true }
    }, FREES)
  }

  /**
   * Removes the tombstones older than the time-to-live, so they do not
   * accumulate; resolves to how many. Bounded per call (the expiry index is
   * ordered by deletion time, so this reads only tombstones that are due).
   */
  async dropExpiredTombstones(limit = 10 * EXPIRY_BATCH): Promise<number> {
    const { expiry } = await this.dbs()
    const due = expiryKey(Math.max(0, this.now() - this.tombstoneTtlMs + 1), Buffer.alloc(32))
    let dropped = 0
    while (dropped < limit) {
      const batch: Buffer[] = []
      for (const k of expiry.getKeys({ end: due, limit: Math.min(EXPIRY_BATCH, limit - dropped) })) {
        batch.push(Buffer.from(k))
      }
      if (batch.length === 0) break
      await this.write(() => {
        for (const k of batch) {
          const key = k.subarray(8)
          const existing = this.entryInTxn(key)
          // The entry may have changed since: only the tombstone this row dates goes.
          if (existing?.kind === 'tombstone' && expiryKey(existing.version, key).equals(k)) {
            this.removeInTxn(key, existing)
          } else {
            this.expiry!.removeSync(k)
          }
        }
        return { ok: true, changed: true }
      })
      dropped += batch.length
    }
    return dropped
  }

  /**
   * Stores a signed record (or tombstone) if it verifies for `key` and its
   * version is above the stored one. With `expectedVersion`, compare-and-swap:
   * the stored version must equal it (0 meaning "no record yet").
   * Re-storing the identical record succeeds without change, so retries of a
   * write that landed are harmless.
   *
   * A record wins at its key: an immutable value, claim or tombstone held
   * there (someone squatting the key) is replaced, never the record refused.
   * A different record of the same version (a fork: two writers, each sure
   * it was first) is settled the same way on every machine, a tombstone
   * first, else the record whose SHA-256 is lower stays, and reported as
   * EFORK with the other record, so the writer learns its write did not
   * simply land. Against a tombstone of the same version it is ESTALE, as
   * before.
   */
  async putRecord(key: Buffer, recordBytes: Buffer, expectedVersion?: number): Promise<void> {
    checkKey(key)
    checkSize(recordBytes)
    const record = decodeCanonicalRecord(recordBytes)
    if (!verifyRecord(record, key)) throw new StoreError('EBADSIG', 'record signature or key does not verify')
    await this.refuseWhileFull(recordBytes.byteLength)
    await this.write(() => {
      let existing = this.entryInTxn(key)
      if (existing && existing.kind !== 'record') {
        this.removeInTxn(key, existing)
        existing = null
      }
      const currentBytes = existing ? this.values!.getBinary(key) : undefined
      if (currentBytes?.equals(recordBytes)) return { ok: true, changed: false }
      const current = currentBytes ? { record: decodeRecord(currentBytes), bytes: currentBytes } : null
      if (expectedVersion !== undefined && (existing?.version ?? 0) !== expectedVersion) {
        const held = existing ? `version ${existing.version}` : 'no record'
        return {
          ok: false,
          error: new StoreError('ECONFLICT', `expected version ${expectedVersion}, store holds ${held}`, current)
        }
      }
      if (
        existing &&
        current &&
        expectedVersion === undefined &&
        record.version === existing.version &&
        !current.record.deleted
      ) {
        // A tombstone wins a tie (as for chunks); else the lower hash, the same choice on every machine.
        const incomingWins = record.deleted || Buffer.compare(sha256(recordBytes), sha256(current.bytes)) < 0
        if (incomingWins) {
          this.setInTxn(
            key,
            recordBytes,
            { kind: 'record', size: recordBytes.byteLength, version: record.version },
            existing
          )
        }
        const kept = incomingWins ? 'the incoming one' : 'the one held'
        return {
          ok: false,
          error: new StoreError(
            'EFORK',
            `a different record of version ${record.version} is held here; kept ${kept}`,
            current
          )
        }
      }
      if (existing && record.version <= existing.version) {
        return {
          ok: false,
          error: new StoreError('ESTALE', `version ${record.version} is not above ${existing.version}`, current)
        }
      }
      const entry: IndexEntry = { kind: 'record', size: recordBytes.byteLength, version: record.version }
      this.setInTxn(key, recordBytes, entry, existing)
      return { ok: true, changed: true }
    })
  }

  /**
   * Removes an immutable value and leaves no tombstone (a store with no
   * other holders to tell). Records are refused: delete those with a tombstone.
   */
  async deleteImmutable(key: Buffer): Promise<boolean> {
    checkKey(key)
    return this.write(() => {
      const existing = this.entryInTxn(key)
      if (!existing || existing.kind === 'tombstone') return { ok: true, changed: false }
      if (existing.kind !== 'immutable') {
        return { ok: false, error: new StoreError('EKIND', 'a record is stored at this key; post a tombstone') }
      }
      this.removeInTxn(key, existing)
      return { ok: true, changed: true }
    }, FREES)
  }

  /** Removes whatever is stored at `key`, tombstones too: for keys this node is no longer responsible for. */
  async delete(key: Buffer): Promise<boolean> {
    checkKey(key)
    return this.write(() => {
      const existing = this.entryInTxn(key)
      if (!existing) return { ok: true, changed: false }
      this.removeInTxn(key, existing)
      return { ok: true, changed: true }
    }, FREES)
  }

  // ---- transaction plumbing ------------------------------------------------

  /** Runs `body` in a write transaction and resolves once the commit is on disk. */
  private async write(body: () => TxnOutcome, opts: { frees?: boolean } = {}): Promise<boolean> {
    const { root } = await this.dbs()
    let outcome: TxnOutcome
    try {
      outcome = await root.transaction(body)
      // Acknowledge only what is durable. `flushed` covers every commit so far,
      // ours included, and waiting even when nothing changed means an
      // idempotent retry never acks a concurrent write that is not yet synced.
      await root.flushed
    } catch (err) {
      // lmdb-js also rejects the promise of the batch the transaction ran in,
      // which no caller holds: `committed` still points at it here.
      root.committed.then(undefined, () => {})
      throw await this.commitFailure(err)
    }
    if (!outcome.ok) throw outcome.error
    // A delete made room inside LMDB's file, which statfs does not show: try writes again.
    if (opts.frees && outcome.changed) this.full = null
    return outcome.changed
  }

  /**
   * After a commit failed for a full disk, a write that adds a value is
   * refused without reaching LMDB until the disk has room again: each
   * attempt would fail the same way, after LMDB has written what it could
   * (and printed its own errors). Deletes still go through: they make room.
   */
  private async refuseWhileFull(size: number): Promise<void> {
    if (this.full === null) return
    const free = await this.freeBytes()
    if (free !== null && free < DISK_FULL_BYTES + size) {
      throw new StoreError('ENOSPC', `the disk under ${this.dir} is full (${free} bytes free): ${this.full}`)
    }
    this.full = null
  }

  private freeBytes(): Promise<number | null> {
    return fs.promises
      .statfs(this.dir)
      .then((s) => s.bavail * s.bsize)
      .catch(() => null)
  }

  /**
   * A commit LMDB could not write. lmdb-js rejects the transaction with
   * "Commit failed" and keeps the cause in a second promise (`commitError`)
   * that nobody else awaits: left alone, it ends the process as an unhandled
   * rejection. A full disk shows as EIO from the write thread, so the free
   * space decides: ENOSPC when (almost) none is left. The transaction is
   * rolled back; every earlier commit stays readable, and writes work again
   * once space is freed (test/storage/disk-full.test.ts).
   */
  private async commitFailure(err: unknown): Promise<unknown> {
    if (err instanceof StoreError) return err
    const pending = (err as { commitError?: Promise<unknown> })?.commitError
    if (!pending && !/commit failed/i.test(String(err))) return err
    this.commitFailed = true
    const cause = pending
      ? await pending.then(
          () => null,
          (e: unknown) => e
        )
      : null
    const free = await this.freeBytes()
    const why = (cause as Error | null)?.message ?? (err as Error)?.message ?? String(err)
    if (free !== null && free < DISK_FULL_BYTES) {
      this.full = why
      return new StoreError('ENOSPC', `the disk under ${this.dir} is full (${free} bytes free): ${why}`)
    }
    return new StoreError('EIO', `the store could not commit a write: ${why}`)
  }

  /** The entry at `key` in the write transaction; an expired tombstone is there but counts as absent. */
  private entryInTxn(key: Buffer): IndexEntry<EntryKind> | null {
    const raw = this.index!.getBinary(key)
    return raw ? decodeIndexEntry(raw) : null
  }

  /** The entry, or null for a tombstone past its time-to-live (not yet swept). */
  private live<E extends IndexEntry<EntryKind>>(entry: E): E | null {
    return entry.kind === 'tombstone' && entry.version + this.tombstoneTtlMs <= this.now() ? null : entry
  }

  /** Writes a value (or a tombstone: `bytes` null) over whatever `replaced` was. */
  private setInTxn(
    key: Buffer,
    bytes: Buffer | null,
    entry: IndexEntry<EntryKind>,
    replaced: IndexEntry<EntryKind> | null
  ): void {
    if (bytes) this.values!.putSync(key, bytes)
    else if (replaced && replaced.kind !== 'tombstone') this.values!.removeSync(key)
    this.index!.putSync(key, encodeIndexEntry(entry))
    if (replaced?.kind === 'tombstone') this.expiry!.removeSync(expiryKey(replaced.version, key))
    if (entry.kind === 'tombstone') this.expiry!.putSync(expiryKey(entry.version, key), EMPTY)
    this.countInTxn(replaced, -1)
    this.countInTxn(entry, 1)
  }

  private removeInTxn(key: Buffer, existing: IndexEntry<EntryKind>): void {
    if (existing.kind === 'tombstone') this.expiry!.removeSync(expiryKey(existing.version, key))
    else this.values!.removeSync(key)
    if (existing.kind !== 'record')
      for (const hex of this.rowsInTxn(key).keys()) this.claimsDb!.removeSync(claimRowKey(key, hex))
    this.index!.removeSync(key)
    this.countInTxn(existing, -1)
  }

  /** Each owner's claim or delete held at `key`, by owner (hex). */
  private rowsInTxn(key: Buffer): Map<string, ChunkClaim> {
    const rows = new Map<string, ChunkClaim>()
    const start = Buffer.concat([key, ZERO_OWNER])
    const end = Buffer.concat([key, MAX_OWNER])
    for (const { key: k, value } of this.claimsDb!.getRange({ start, end, inclusiveEnd: true })) {
      const owner = Buffer.from(k.subarray(32, 64))
      rows.set(owner.toString('hex'), decodeRow(owner, value))
    }
    return rows
  }

  /** Stats count values only: a tombstone holds no bytes anyone stored. */
  private countInTxn(entry: IndexEntry<EntryKind> | null, sign: 1 | -1): void {
    if (!entry || entry.kind === 'tombstone') return
    const stats = decodeStats(this.meta!.getBinary(STATS_KEY))
    stats.keys += sign
    stats.bytes += sign * entry.size
    this.meta!.putSync(STATS_KEY, encodeStats(stats))
  }

  private async dbs(): Promise<{
    root: RootDatabase
    values: Database<Buffer, Buffer>
    index: Database<Buffer, Buffer>
    meta: Database<Buffer, string>
    expiry: Database<Buffer, Buffer>
  }> {
    if (this.closing) throw new StoreError('ECLOSED', 'store is closed')
    await this.ready()
    if (!this.root || !this.values || !this.index || !this.meta || !this.expiry || !this.claimsDb) {
      throw new StoreError('ECLOSED', 'store is closed')
    }
    return { root: this.root, values: this.values, index: this.index, meta: this.meta, expiry: this.expiry }
  }
}

const EMPTY = Buffer.alloc(0)
const ZERO_OWNER = Buffer.alloc(32)
const MAX_OWNER = Buffer.alloc(32, 0xff)
/** The owner of the unsigned claim a value stored before claims keeps. */
const ANON_HEX = ZERO_OWNER.toString('hex')
const ROW_BYTES = 8 + 1 + 64

function anonClaim(time: number): ChunkClaim {
  return { owner: ZERO_OWNER, time, deleted: false, signature: Buffer.alloc(64) }
}

function claimRowKey(key: Buffer, ownerHex: string): Buffer {
  return Buffer.concat([key, Buffer.from(ownerHex, 'hex')])
}

function encodeRow(r: ChunkClaim, owner?: Buffer): Buffer {
  const b = Buffer.alloc((owner ? 32 : 0) + ROW_BYTES)
  let at = 0
  if (owner) at += owner.copy(b, 0)
  b.writeUInt32BE(Math.floor(r.time / 2 ** 32), at)
  b.writeUInt32BE(r.time >>> 0, at + 4)
  b[at + 8] = r.deleted ? 1 : 0
  r.signature.copy(b, at + 9)
  return b
}

function decodeRow(owner: Buffer, raw: Uint8Array): ChunkClaim {
  if (raw.byteLength !== ROW_BYTES) throw new Error(`corrupt claim row of ${raw.byteLength} bytes`)
  const b = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
  return {
    owner,
    time: b.readUInt32BE(0) * 2 ** 32 + b.readUInt32BE(4),
    deleted: b[8] === 1,
    signature: Buffer.from(b.subarray(9))
  }
}
const FREES = { frees: true }

function isTombstone(raw: Uint8Array): boolean {
  return decodeIndexEntry(raw).kind === 'tombstone'
}

/** The expiry index's key: deletion time first, so a range read finds the tombstones due. */
function expiryKey(deletedAt: number, key: Buffer): Buffer {
  const b = Buffer.alloc(8 + 32)
  b.writeUInt32BE(Math.floor(deletedAt / 2 ** 32), 0)
  b.writeUInt32BE(deletedAt >>> 0, 4)
  key.copy(b, 8)
  return b
}

/**
 * The value at `key` as a view that is valid only until the next read: copy
 * it before any await. lmdb's getBinaryFast returns its reused global buffer
 * (16 MiB, with `length` set to the value's size but `byteLength` not) or a
 * view of the map; either way the value is the first `length` bytes. Copying
 * from it costs half of getBinary, which zero-fills a fresh buffer first.
 */
function valueView(values: Database<Buffer, Buffer>, key: Buffer): Uint8Array | null {
  const view = values.getBinaryFast(key)
  return view ? new Uint8Array(view.buffer, view.byteOffset, view.length) : null
}

function checkKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.byteLength !== HASH_BYTES) {
    throw new StoreError('EBADKEY', `key must be ${HASH_BYTES} bytes`)
  }
}

function checkSize(bytes: Buffer): void {
  if (bytes.byteLength > MAX_VALUE_BYTES) {
    throw new StoreError('ETOOBIG', `value of ${bytes.byteLength} bytes exceeds ${MAX_VALUE_BYTES}`)
  }
}

/** Decodes a record and insists the bytes are its exact encoding, so no trailing junk is ever stored or served. */
function decodeCanonicalRecord(bytes: Buffer): SignedRecord {
  let record: SignedRecord
  try {
    record = decodeRecord(bytes)
  } catch (err) {
    throw new StoreError('EBADRECORD', `record does not decode: ${(err as Error).message}`)
  }
  if (!encodeRecord(record).equals(bytes)) throw new StoreError('EBADRECORD', 'record encoding is not canonical')
  return record
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
