// The work CryptoPool does, on a worker thread or on this one, and the
// messages between the pool and its workers (structured clone).

import { DecryptError, decrypt, encrypt } from './aead'
import { sha256 } from './hash'

export interface SealResult {
  /** nonce ‖ ciphertext */
  ciphertext: Buffer
  /** sha256 of ciphertext: the chunk's key */
  hash: Buffer
}

export class CryptoError extends Error {
  constructor(
    readonly code: 'EBADMSG' | 'EHASH' | 'EWORKER',
    message: string
  ) {
    super(message)
  }
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
  if (hash && !sha256(sealed).equals(hash)) throw new CryptoError('EHASH', 'ciphertext does not match its key')
  try {
    return decrypt(sealed, key, ad, into)
  } catch (err) {
    if (err instanceof DecryptError) throw new CryptoError('EBADMSG', err.message)
    throw err
  }
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
