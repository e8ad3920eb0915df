// What every part of the chunk path agrees on: the size of a whole chunk
// (plaintext and sealed), the associated data that binds a chunk to its file
// and position, and how a range is copied out of a chunk shorter than asked.

import { AEAD_OVERHEAD } from '../../crypto/aead'

/** A whole chunk's plaintext (file-data.ts DEFAULT_CHUNK_SIZE); other sizes get plain buffers. */
export const CHUNK_BYTES = 1024 * 1024
/** A whole chunk sealed: with nonce and tag. */
export const SEALED_CHUNK_BYTES = CHUNK_BYTES + AEAD_OVERHEAD

/** Associated data binding a chunk to its file and position, so chunks cannot be swapped. */
export function chunkAd(fileId: Buffer, index: number): Buffer {
  const ad = Buffer.alloc(fileId.byteLength + 8)
  fileId.copy(ad)
  ad.writeBigUInt64BE(BigInt(index), fileId.byteLength)
  return ad
}

/** Copies chunk bytes [offset, offset + target.length) into target; bytes past `len` are zeros. */
export function copyRange(target: Buffer, src: Buffer, len: number, offset: number): void {
  const avail = Math.max(0, Math.min(len, offset + target.byteLength) - offset)
  if (avail > 0) src.copy(target, 0, offset, offset + avail)
  if (avail < target.byteLength) target.fill(0, avail)
}
