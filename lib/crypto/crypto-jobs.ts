// Messages between CryptoPool and its worker threads (structured clone).

export interface CryptoJob {
  id: number
  op: 'seal' | 'open'
  /** Plaintext to seal, or nonce ‖ ciphertext to open. */
  data: Uint8Array
  key: Uint8Array
  ad: Uint8Array
  /** open only: the sha256 the ciphertext must have (bytes from an untrusted store). */
  hash?: Uint8Array | null
}

export type CryptoResult =
  | { id: number; ok: true; out: Buffer; hash?: Buffer }
  | { id: number; ok: false; code: 'EBADMSG' | 'EHASH'; message: string }
