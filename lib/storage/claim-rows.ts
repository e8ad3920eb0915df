// The rows of the `claims` database (lmdb-layout.ts): per immutable key and
// owner, that owner's latest signed claim or delete, as time(8) ‖ flags(1) ‖
// signature(64) under key(32) ‖ owner(32).

import type { ChunkClaim } from '../crypto/chunk-claim'

export const ZERO_OWNER = Buffer.alloc(32)
export const MAX_OWNER = Buffer.alloc(32, 0xff)
/** The owner of the unsigned claim a value stored before claims keeps. */
export const ANON_HEX = ZERO_OWNER.toString('hex')
const ROW_BYTES = 8 + 1 + 64

export function anonClaim(time: number): ChunkClaim {
  return { owner: ZERO_OWNER, time, deleted: false, signature: Buffer.alloc(64) }
}

export function claimRowKey(key: Buffer, ownerHex: string): Buffer {
  return Buffer.concat([key, Buffer.from(ownerHex, 'hex')])
}

/** A row's value; with `owner`, prefixed by it (what syncDigest hashes). */
export function encodeRow(r: ChunkClaim, owner?: Buffer): Buffer {
  const b = Buffer.alloc((owner ? 32 : 0) + ROW_BYTES)
  let at = 0
  if (owner) at += owner.copy(b, 0)
  b.writeUInt32BE(Math.floor(r.time / 2 ** 32), at)
  b.writeUInt32BE(r.time >>> 0, at + 4)
  b[at + 8] = r.deleted ? 1 : 0
  r.signature.copy(b, at + 9)
  return b
}

export function decodeRow(owner: Buffer, raw: Uint8Array): ChunkClaim {
  if (raw.byteLength !== ROW_BYTES) throw new Error(`corrupt claim row of ${raw.byteLength} bytes`)
  const b = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
  return {
    owner,
    time: b.readUInt32BE(0) * 2 ** 32 + b.readUInt32BE(4),
    deleted: b[8] === 1,
    signature: Buffer.from(b.subarray(9))
  }
}
