// Tombstones of deleted immutable values: an index entry with no value,
// dated by its deletion, kept for the time-to-live (store-context.ts) so that
// anti-entropy carries the delete and copies written before it stay out,
// then swept in the order they expire.

import { FREES } from './durable-writes'
import { StoreError } from './errors'
import { expiryKey } from './lmdb-layout'
import { checkKey, type StoreContext } from './store-context'

/** Expired tombstones removed per write transaction of the expiry sweep. */
const EXPIRY_BATCH = 1000

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
export async function putTombstone(
  ctx: StoreContext,
  key: Buffer,
  deletedAt: number,
  opts: { fresh?: boolean } = {}
): Promise<boolean> {
  checkKey(key)
  if (!Number.isSafeInteger(deletedAt) || deletedAt < 0)
    throw new StoreError('ERANGE', `bad deletion time ${deletedAt}`)
  ctx.checkTime(deletedAt, 'deletion time')
  return ctx.write(() => {
    const existing = ctx.tables.entry(key)
    if (ctx.tables.claimRows(key).size > 0) {
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
    ctx.tables.set(key, null, { kind: 'tombstone', size: 0, version: at }, existing)
    return { ok: true, changed: true }
  }, FREES)
}

/**
 * Removes the tombstones older than the time-to-live, so they do not
 * accumulate; resolves to how many. Bounded per call (the expiry index is
 * ordered by deletion time, so this reads only tombstones that are due).
 */
export async function dropExpiredTombstones(ctx: StoreContext, limit = 10 * EXPIRY_BATCH): Promise<number> {
  const { expiry } = (await ctx.opened()).dbs
  const due = expiryKey(Math.max(0, ctx.now() - ctx.tombstoneTtlMs + 1), Buffer.alloc(32))
  let dropped = 0
  while (dropped < limit) {
    const batch: Buffer[] = []
    for (const k of expiry.getKeys({ end: due, limit: Math.min(EXPIRY_BATCH, limit - dropped) })) {
      batch.push(Buffer.from(k))
    }
    if (batch.length === 0) break
    await ctx.write(() => {
      for (const k of batch) {
        const key = k.subarray(8)
        const existing = ctx.tables.entry(key)
        // The entry may have changed since: only the tombstone this row dates goes.
        if (existing?.kind === 'tombstone' && expiryKey(existing.version, key).equals(k)) {
          ctx.tables.remove(key, existing)
        } else {
          ctx.tables.dbs.expiry.removeSync(k)
        }
      }
      return { ok: true, changed: true }
    })
    dropped += batch.length
  }
  return dropped
}
