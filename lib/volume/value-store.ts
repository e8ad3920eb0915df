// The one interface the Volume needs from whatever holds the values: the
// Chord ring client later, a local directory (LocalValueStore) today. Both
// kinds of value are self-certifying, so the Volume trusts no store: an
// immutable value must hash to its key, a record must verify at its key.

import { codedError, type PeerStoreError, UNSURE } from '../common/errors'
import type { SignedRecord } from '../crypto/record'

export interface ValueStore {
  /** Throws code 'ENOENT' if absent; the caller verifies sha256(bytes) == key. */
  getImmutable(key: Buffer): Promise<Buffer>
  /** Returns key = sha256(bytes); resolves once durable on k replicas. */
  putImmutable(bytes: Buffer): Promise<Buffer>
  /**
   * Verified by the caller with verifyRecord(r, key). Null means the store
   * positively holds nothing there; a store that cannot tell (a ring whose
   * responsible machines did not all answer) throws, with code UNSURE or the
   * transport's error, and never returns null for that.
   */
  getRecord(key: Buffer): Promise<SignedRecord | null>
  /**
   * Compare-and-swap: the stored version must equal expectedVersion (0 = none
   * stored), else throws code 'ECONFLICT' with err.current (the stored SignedRecord,
   * or null when nothing is stored and expectedVersion was not 0).
   */
  putRecord(record: SignedRecord, expectedVersion: number): Promise<void>
  /** Optional: stores bytes whose sha256 (`key`) the caller has just computed, without hashing them again. */
  putImmutableKnown?(key: Buffer, bytes: Buffer): Promise<void>
  /**
   * Optional: this machine's own copy of an immutable value, or null; the
   * caller verifies the hash. With `alloc` the bytes are copied into the
   * buffer it returns (a reused one) instead of a fresh one.
   */
  getLocal?(key: Buffer, alloc?: (size: number) => Buffer): Promise<Buffer | null>
  /** Optional garbage collection. */
  deleteImmutable?(key: Buffer): Promise<void>
  replicaStatus?(key: Buffer): Promise<{ live: number; target: number }>
  /**
   * Optional push: calls `onChange` with the version whenever the store
   * learns that a newer version of the record at `key` was written (by
   * anyone). A hint only, never the record: the caller reads and verifies
   * it. Events may be lost or repeated; `live` says whether they can come
   * now, so that the caller polls more often while they cannot.
   */
  watchRecord?(key: Buffer, onChange: (version: number) => void): RecordWatch
}

/** A subscription from watchRecord(). */
export interface RecordWatch {
  /** True while changes are being pushed (a holder of the record has our subscription). */
  readonly live: boolean
  close(): void
}

/** A putRecord that lost to a newer version (code ECONFLICT). */
export type RecordConflict = PeerStoreError & {
  /** What the store holds now; null when it holds nothing at that key. */
  current: SignedRecord | null
}

export function recordConflict(current: SignedRecord | null, message = 'record version conflict'): RecordConflict {
  return codedError('ECONFLICT', message, { current })
}

export function isConflict(err: unknown): err is RecordConflict {
  return (err as { code?: string })?.code === 'ECONFLICT'
}

// The code of a read that could not tell whether a value exists (see RingClient.getRecord).
export { UNSURE }

export function isUnsure(err: unknown): boolean {
  return (err as { code?: string })?.code === UNSURE
}

export function isNotFound(err: unknown): boolean {
  return (err as { code?: string })?.code === 'ENOENT'
}
