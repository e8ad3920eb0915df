// Errors the node store throws. Each carries a stable `code` so that the RPC
// layer can send it across the wire (protomux-rpc keeps `cause.code`) and map
// it to a reply without parsing messages.

import { codedError, type PeerStoreError } from '../common/errors'
import type { SignedRecord } from '../crypto/record'

export type StoreErrorCode =
  /** Key is not 32 bytes, or an immutable value's key is not sha256(bytes). */
  | 'EBADKEY'
  /** Record bytes are not a canonical encoding of a SignedRecord. */
  | 'EBADRECORD'
  /** Record signature does not verify, or the record does not belong at the key. */
  | 'EBADSIG'
  /** Record version is not above the stored one (a rollback or an equivocation). */
  | 'ESTALE'
  /** Compare-and-swap failed: the stored version is not the expected one. */
  | 'ECONFLICT'
  /** Value larger than MAX_VALUE_BYTES. */
  | 'ETOOBIG'
  /** The operation does not apply to the kind of value stored at the key. */
  | 'EKIND'
  /** Byte range outside the value, or start > end. */
  | 'ERANGE'
  /** The store is closed (or was never opened successfully). */
  | 'ECLOSED'
  /** A delete of an immutable value by someone who holds no claim on it (or of a value stored before claims). */
  | 'EPERM'
  /** A claim, delete or write time dated further ahead than the allowed clock skew. */
  | 'EFUTURE'
  /**
   * An equal-version conflict: a different record of the same version is
   * held here. The store settles it deterministically (see putRecord) and
   * reports it, with the other record as `current`, so the writer merges.
   */
  | 'EFORK'
  /** The disk under the store is full: the write was not committed; what was committed before stays. */
  | 'ENOSPC'
  /** The disk failed a commit with free space left: the write was not committed. */
  | 'EIO'

/** For ESTALE, ECONFLICT and EFORK: the other record (for EFORK, the one held before; null when none). */
export type StoreConflict = { record: SignedRecord; bytes: Buffer } | null

/** A node store error: a PeerStoreError with one of the codes above, and `current` on a conflict. */
export type StoreError = PeerStoreError & { readonly code: StoreErrorCode; readonly current?: StoreConflict }

export function storeError(code: StoreErrorCode, message: string, current?: StoreConflict): StoreError {
  return codedError(code, message, current === undefined ? undefined : { current }) as StoreError
}
