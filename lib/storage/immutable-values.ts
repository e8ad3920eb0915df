// Immutable values (chunks): stored under their SHA-256, with their owners'
// claims (chunk-claims.ts), and kept out by a later tombstone.

import type { ChunkClaim } from '../crypto/chunk-claim'
import { sha256 } from '../crypto/hash'
import { isRecordKeyPreimage } from '../crypto/record'
import { FREES, type TxnOutcome } from './durable-writes'
import { StoreError } from './errors'
import type { EntryKind, IndexEntry } from './index-entry'
import { checkClaims, mergeChunkInTxn } from './chunk-claims'
import { checkKey, checkSize, type StoreContext } from './store-context'

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
  /**
   * The SHA-256 of exactly these bytes, as this process has just computed it
   * (the ring client hashing a value for its key, a crypto worker sealing a
   * chunk): it is compared with `key` instead of hashing the bytes a second
   * time (0.5 ms per MiB on the JS thread). Only code that hashed the bytes
   * itself may pass it; bytes that came from the network never have it, so
   * they are always verified (lib/node/file-service.ts).
   */
  knownHash?: Buffer
}

/**
 * Stores an immutable value; idempotent. Refuses unless key = sha256(bytes)
 * (with `knownHash`, unless key = knownHash: the bytes are not hashed again).
 * Over a tombstone, see PutImmutableOptions (a tombstone that wins keeps
 * the value out without an error).
 */
export async function putImmutable(
  ctx: StoreContext,
  key: Buffer,
  bytes: Buffer,
  opts: PutImmutableOptions = {}
): Promise<void> {
  checkKey(key)
  checkSize(bytes)
  const hash = opts.knownHash ?? sha256(bytes)
  if (!hash.equals(key)) throw new StoreError('EBADKEY', 'key is not the sha256 of the value')
  if (isRecordKeyPreimage(bytes)) {
    throw new StoreError('EKIND', 'these bytes hash to a record key: that key belongs to a signed record')
  }
  const claims = opts.claims ?? []
  checkClaims(ctx, key, claims)
  ctx.checkTime(opts.writtenAt ?? 0, 'write time')
  // lmdb 3.5 kills the process (SIGSEGV) writing a value in shared memory: such a value is copied.
  if (bytes.buffer instanceof SharedArrayBuffer) bytes = Buffer.from(bytes)
  const unclaimed = opts.unclaimed ?? claims.length === 0
  await ctx.refuseWhileFull(bytes.byteLength)
  await ctx.write(() => {
    const existing = ctx.tables.entry(key)
    if (existing?.kind === 'record') {
      return { ok: false, error: new StoreError('EKIND', 'a record is stored at this key') }
    }
    const rows = ctx.tables.claimRows(key)
    // Nothing signed on either side: a value stored before claims, by the rules from before them.
    if (claims.length === 0 && rows.size === 0) return putUnclaimedInTxn(ctx, key, bytes, existing, opts)
    return mergeChunkInTxn(ctx, key, bytes, claims, existing, rows, {
      fresh: opts.fresh ?? false,
      unclaimedAt: unclaimed ? (opts.writtenAt ?? 0) : null
    })
  })
}

/** The rules for a value stored with no claim (before claims existed): its write time against a tombstone's. */
function putUnclaimedInTxn(
  ctx: StoreContext,
  key: Buffer,
  bytes: Buffer,
  existing: IndexEntry<EntryKind> | null,
  opts: PutImmutableOptions
): TxnOutcome {
  let writtenAt = opts.writtenAt ?? 0
  if (existing?.kind === 'immutable') return { ok: true, changed: false }
  if (existing?.kind === 'tombstone' && ctx.live(existing)) {
    if (opts.fresh) writtenAt = Math.max(writtenAt, existing.version + 1)
    else if (writtenAt <= existing.version) return { ok: true, changed: false }
  }
  ctx.tables.set(key, bytes, { kind: 'immutable', size: bytes.byteLength, version: writtenAt }, existing)
  return { ok: true, changed: true }
}

/**
 * Removes an immutable value and leaves no tombstone (a store with no
 * other holders to tell). Records are refused: delete those with a tombstone.
 */
export async function deleteImmutable(ctx: StoreContext, key: Buffer): Promise<boolean> {
  checkKey(key)
  return ctx.write(() => {
    const existing = ctx.tables.entry(key)
    if (!existing || existing.kind === 'tombstone') return { ok: true, changed: false }
    if (existing.kind !== 'immutable') {
      return { ok: false, error: new StoreError('EKIND', 'a record is stored at this key; post a tombstone') }
    }
    ctx.tables.remove(key, existing)
    return { ok: true, changed: true }
  }, FREES)
}
