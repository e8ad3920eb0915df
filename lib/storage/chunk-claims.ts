// Who owns an immutable value: each owner's signed claim or signed delete
// (lib/crypto/chunk-claim.ts), merged per owner (the later wins). The value
// stays while one claim is left; when none is, a tombstone of the deletes
// takes its place, which anti-entropy carries to the other holders.

import { type ChunkClaim, claimSupersedes, verifyChunkClaim } from '../crypto/chunk-claim'
import { ANON_HEX, anonClaim } from './claim-rows'
import { FREES, type TxnOutcome } from './durable-writes'
import { StoreError } from './errors'
import type { EntryKind, IndexEntry } from './index-entry'
import { checkKey, type StoreContext } from './store-context'

/** The ownership of an immutable key as this store holds it. */
export interface ChunkState {
  /** Each owner's latest signed claim or delete. */
  claims: ChunkClaim[]
  /** The value also has the unsigned claim of a value stored before claims (no remote delete removes it). */
  unclaimed: boolean
}

/** The owners' claims and deletes held for an immutable key (none for a record or an unknown key). */
export async function chunkState(ctx: StoreContext, key: Buffer): Promise<ChunkState> {
  const tables = await ctx.opened()
  checkKey(key)
  const rows = tables.claimRows(key)
  const anon = rows.get(ANON_HEX)
  rows.delete(ANON_HEX)
  const entry = tables.entry(key)
  // A value with no row at all was stored before claims: its claim is the unsigned one.
  const legacyValue = entry?.kind === 'immutable' && !anon && rows.size === 0
  return { claims: [...rows.values()], unclaimed: Boolean(anon && !anon.deleted) || legacyValue }
}

/**
 * A repair copy of what another holder has at an immutable key whose value
 * it no longer holds: its owners' claims and signed deletes, no bytes.
 * Merged like any copy; the value here goes if no claim is left.
 */
export async function putChunkDeletes(ctx: StoreContext, key: Buffer, claims: ChunkClaim[]): Promise<boolean> {
  checkKey(key)
  if (claims.length === 0) throw new StoreError('EPERM', 'a tombstone is accepted only as signed deletes')
  checkClaims(ctx, key, claims)
  return ctx.write(() => {
    const existing = ctx.tables.entry(key)
    // Deletes matter only where the value (or its claims) is held: none is
    // kept for a key this store knows nothing of, or for a record's key.
    if (!existing || existing.kind === 'record') return { ok: true, changed: false }
    return mergeChunkInTxn(ctx, key, null, claims, existing, ctx.tables.claimRows(key), {
      fresh: false,
      unclaimedAt: null
    })
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
export async function deleteChunk(ctx: StoreContext, key: Buffer, del: ChunkClaim): Promise<boolean> {
  checkKey(key)
  if (!del.deleted) throw new StoreError('EBADSIG', 'the proof is a claim, not a signed delete')
  checkClaims(ctx, key, [del])
  return ctx.write(() => {
    const existing = ctx.tables.entry(key)
    if (!existing) return { ok: true, changed: false }
    if (existing.kind === 'record') {
      return {
        ok: false,
        error: new StoreError('EKIND', 'a record is stored at this key: it is deleted with a signed record tombstone')
      }
    }
    const rows = ctx.tables.claimRows(key)
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
    return mergeChunkInTxn(ctx, key, null, [del], existing, rows, { fresh: false, unclaimedAt: null })
  }, FREES)
}

/**
 * Merges owners' claims and deletes into what is held at an immutable key
 * (per owner the later entry wins; claimSupersedes), then keeps the value
 * if a claim is left, or replaces it with a tombstone if none is.
 * `unclaimedAt`: the copy also carries the unsigned claim of a value stored
 * before claims, written at that time.
 */
export function mergeChunkInTxn(
  ctx: StoreContext,
  key: Buffer,
  bytes: Buffer | null,
  claims: ChunkClaim[],
  existing: IndexEntry<EntryKind> | null,
  rows: Map<string, ChunkClaim>,
  opts: { fresh: boolean; unclaimedAt: number | null }
): TxnOutcome {
  const tables = ctx.tables
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
  for (const hex of dirty) tables.putClaimRow(key, hex, rows.get(hex)!)
  if (claimedAt >= 0 && existing?.kind === 'immutable') {
    if (claimedAt !== existing.version) {
      tables.setVersion(key, { kind: 'immutable', size: existing.size, version: claimedAt })
    }
  } else if (claimedAt >= 0 && bytes) {
    tables.set(key, bytes, { kind: 'immutable', size: bytes.byteLength, version: claimedAt }, existing)
  } else if (claimedAt < 0 || existing?.kind !== 'tombstone' || existing.version !== deletedAt) {
    // No claim left (or a claim whose bytes are not here: a holder of the
    // value sends them at the next round): a tombstone of the deletes.
    tables.set(key, null, { kind: 'tombstone', size: 0, version: deletedAt }, existing)
  }
  return { ok: true, changed: true }
}

/** Refuses claims that do not verify for `key` or are dated too far ahead. */
export function checkClaims(ctx: StoreContext, key: Buffer, claims: ChunkClaim[]): void {
  for (const c of claims) {
    if (!verifyChunkClaim(c, key)) throw new StoreError('EBADSIG', 'a chunk claim or delete does not verify')
    ctx.checkTime(c.time, c.deleted ? 'delete' : 'claim')
  }
}
