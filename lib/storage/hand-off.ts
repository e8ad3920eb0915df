// What anti-entropy and hand-off need of the store: the keys of a ring
// interval in ring order, a digest per key to tell two holders apart, and
// removing the keys this node is no longer responsible for.

import { sha256 } from '../crypto/hash'
import { encodeRow } from './claim-rows'
import { FREES } from './durable-writes'
import { decodeIndexEntry, type EntryKind } from './index-entry'
import { valueView } from './lmdb-layout'
import { type KeyRange, ringIntervalRanges } from './ring-interval'
import { checkKey, type StoreContext } from './store-context'

/** Keys listed per read transaction in scan(), so a slow consumer never pins an old snapshot. */
const SCAN_PAGE = 512

export interface ScanItem {
  key: Buffer
  /** A tombstone is listed too, so anti-entropy carries deletes like values. */
  kind: EntryKind
  size: number
  /** The index entry's version (see IndexEntry), so anti-entropy can compare without fetching. */
  version: number
}

/**
 * Entries in the ring interval (fromExclusive, toInclusive], in ring order.
 * from >= to wraps past the largest key; from == to is the whole ring.
 */
export async function* scanInterval(
  ctx: StoreContext,
  fromExclusive: Buffer,
  toInclusive: Buffer
): AsyncGenerator<ScanItem> {
  checkKey(fromExclusive)
  checkKey(toInclusive)
  for (const range of ringIntervalRanges(fromExclusive, toInclusive)) {
    yield* scanRange(ctx, range)
  }
}

async function* scanRange(ctx: StoreContext, range: KeyRange): AsyncGenerator<ScanItem> {
  let after = range.after
  while (true) {
    const { index } = (await ctx.opened()).dbs
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
    for (const item of page) if (ctx.live(item)) yield item
    if (page.length < SCAN_PAGE) return
    after = page[page.length - 1].key
  }
}

/**
 * A 48-bit digest of what is held at a key beyond its index entry, so that
 * anti-entropy can tell two holders apart when kind and version agree:
 * a record's bytes (two different records of one version are a fork), or
 * an immutable key's set of claims and deletes (merged both ways when they
 * differ). 0 for an immutable key with no claims (stored before claims).
 */
export async function syncDigest(ctx: StoreContext, key: Buffer, kind: EntryKind): Promise<number> {
  const tables = await ctx.opened()
  checkKey(key)
  if (kind === 'record') {
    const view = valueView(tables.dbs.values, key)
    return view ? sha256(view).readUIntBE(0, 6) : 0
  }
  const rows = [...tables.claimRows(key).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  if (rows.length === 0) return 0
  const parts = rows.map(([, r]) => encodeRow(r, r.owner))
  return sha256(...parts).readUIntBE(0, 6) || 1
}

/** Removes whatever is stored at `key`, tombstones too: for keys this node is no longer responsible for. */
export async function removeKey(ctx: StoreContext, key: Buffer): Promise<boolean> {
  checkKey(key)
  return ctx.write(() => {
    const existing = ctx.tables.entry(key)
    if (!existing) return { ok: true, changed: false }
    ctx.tables.remove(key, existing)
    return { ok: true, changed: true }
  }, FREES)
}
