// Signed mutable records (lib/crypto/record.ts): stored only if they verify
// for their key and move forward, with compare-and-swap for the writer and
// one deterministic answer to a fork on every machine.

import { sha256 } from '../crypto/hash'
import { decodeRecord, encodeRecord, type SignedRecord, verifyRecord } from '../crypto/record'
import { StoreError } from './errors'
import type { IndexEntry } from './index-entry'
import { checkKey, checkSize, type StoreContext } from './store-context'

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
export async function putRecord(
  ctx: StoreContext,
  key: Buffer,
  recordBytes: Buffer,
  expectedVersion?: number
): Promise<void> {
  checkKey(key)
  checkSize(recordBytes)
  const record = decodeCanonicalRecord(recordBytes)
  if (!verifyRecord(record, key)) throw new StoreError('EBADSIG', 'record signature or key does not verify')
  await ctx.refuseWhileFull(recordBytes.byteLength)
  await ctx.write(() => {
    const tables = ctx.tables
    let existing = tables.entry(key)
    if (existing && existing.kind !== 'record') {
      tables.remove(key, existing)
      existing = null
    }
    const currentBytes = existing ? tables.dbs.values.getBinary(key) : undefined
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
        tables.set(
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
    tables.set(key, recordBytes, entry, existing)
    return { ok: true, changed: true }
  })
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
