// The work CryptoPool does, on a worker thread or on this one, and the
// messages between the pool and its workers (structured clone).

import { codedError, type PeerStoreError } from '../common/errors'
import { decrypt, encrypt } from './aead'
import { sha256 } from './hash'

export interface SealResult {
  /** nonce ‖ ciphertext */
  ciphertext: Buffer
  /** sha256 of ciphertext: the chunk's key */
  hash: Buffer
}

/** EBADMSG: tampered or wrong key; EHASH: not the bytes its key names; EWORKER: the worker failed. */
export type CryptoErrorCode = 'EBADMSG' | 'EHASH' | 'EWORKER'
export type CryptoError = PeerStoreError & { code: CryptoErrorCode }

export function cryptoError(code: CryptoErrorCode, message: string): CryptoError {
  return codedError(code, message) as CryptoError
}

export function sealHere(
  plaintext: Uint8Array,
  key: Uint8Array,
  ad: Uint8Array,
  into: Buffer | null = null
): SealResult {
  const ciphertext = encrypt(plaintext, key, ad, into)
  return { ciphertext, hash: sha256(ciphertext) }
}

export function openHere(
  sealed: Uint8Array,
  key: Uint8Array,
  ad: Uint8Array,
  hash: Uint8Array | null,
  into: Buffer | null = null
): Buffer {
  if (hash && !sha256(sealed).equals(hash)) throw cryptoError('EHASH', 'ciphertext does not match its key')
  return decrypt(sealed, key, ad, into)
}

/** Only a buffer that is the whole of a plain ArrayBuffer can move (a pooled small Buffer shares its slab). */
export function ownsWholeBuffer(b: Buffer): boolean {
  return b.byteOffset === 0 && b.buffer.byteLength === b.byteLength && !(b.buffer instanceof SharedArrayBuffer)
}

export interface CryptoJob {
  id: number
  op: 'seal' | 'open'
  /** Plaintext to seal, or nonce ‖ ciphertext to open. */
  data: Uint8Array
  key: Uint8Array
  ad: Uint8Array
  /** open only: the sha256 the ciphertext must have (bytes from an untrusted store). */
  hash?: Uint8Array | null
  /**
   * Where to write the output instead of a fresh buffer: shared memory (the
   * plaintext an open makes), or a buffer moved here with the job and moved
   * back with the result (the ciphertext a seal makes).
   */
  into?: Uint8Array | null
}

export type CryptoResult =
  | { id: number; ok: true; out: Buffer; hash?: Buffer }
  | { id: number; ok: false; code: 'EBADMSG' | 'EHASH'; message: string }
