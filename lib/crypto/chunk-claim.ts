// Ownership of immutable values (chunks). A chunk's key is the hash of its
// bytes, so anyone who read it can post it again: the bytes prove nothing
// about who stored them. Each upload therefore carries the uploader's signed
// claim over (key, time), and a delete must be the same user's signed
// delete over (key, time). A storage node keeps one entry per owner and key:
// the later of that owner's claim and delete (a delete wins a tie), and it
// drops the value only when no owner's claim is left. So a user can remove
// only its own claim; another member's delete, forged or real, leaves the
// victim's claim and the value in place (docs/trust-model.md).
//
// Claims and deletes are signed over a namespaced hash, so that neither can
// be replayed as the other, nor as a record signature (lib/crypto/record.ts).

import c from 'compact-encoding'
import { namespace, sha256 } from './hash'
import { type KeyPair, SIGNATURE_BYTES, sign, verify } from './keys'

const NS_CLAIM = namespace('chunk-claim')
const NS_DELETE = namespace('chunk-delete')

/**
 * How far ahead of a storage node's clock a claim or delete may be dated.
 * Clocks of real machines disagree by seconds; a date further ahead is a
 * forgery meant to win every later comparison, and is refused.
 */
export const MAX_CLOCK_SKEW_MS = 10 * 60_000

export interface ChunkClaim {
  /** Ed25519 public key of the user who stored (or deleted) the value. */
  owner: Buffer
  /** When (ms since the epoch, the signer's clock). */
  time: number
  /** A signed delete of the owner's claim rather than a claim. */
  deleted: boolean
  signature: Buffer
}

/** Compact encoding of one claim; the key it is about travels beside it. */
export const chunkClaimEncoding = {
  preencode(state: c.State, m: ChunkClaim) {
    c.fixed32.preencode(state, m.owner)
    c.uint.preencode(state, m.time)
    c.uint.preencode(state, m.deleted ? 1 : 0)
    c.fixed64.preencode(state, m.signature)
  },
  encode(state: c.State, m: ChunkClaim) {
    c.fixed32.encode(state, m.owner)
    c.uint.encode(state, m.time)
    c.uint.encode(state, m.deleted ? 1 : 0)
    c.fixed64.encode(state, m.signature)
  },
  decode(state: c.State): ChunkClaim {
    const owner = c.fixed32.decode(state) as Buffer
    const time = c.uint.decode(state)
    const flags = c.uint.decode(state)
    if (flags > 1) throw new Error(`unknown chunk claim flags ${flags}`)
    return { owner, time, deleted: flags === 1, signature: c.fixed64.decode(state) as Buffer }
  }
}

export const chunkClaimsEncoding = c.array(chunkClaimEncoding)

function signable(key: Uint8Array, time: number, deleted: boolean): Buffer {
  const t = Buffer.alloc(8)
  t.writeUInt32BE(Math.floor(time / 2 ** 32), 0)
  t.writeUInt32BE(time >>> 0, 4)
  return sha256(deleted ? NS_DELETE : NS_CLAIM, key, t)
}

let lastTime = 0

/**
 * Milliseconds that never repeat or go back in this process, so that a
 * put, delete and put again of the same bytes within one millisecond are
 * still ordered.
 */
export function claimClock(): number {
  lastTime = Math.max(Date.now(), lastTime + 1)
  return lastTime
}

export function createChunkClaim(keyPair: KeyPair, key: Buffer, time = claimClock(), deleted = false): ChunkClaim {
  if (key.byteLength !== 32) throw new Error('a chunk key is 32 bytes')
  if (!Number.isSafeInteger(time) || time < 0) throw new Error('a claim time is a non-negative integer')
  return { owner: keyPair.publicKey, time, deleted, signature: sign(signable(key, time, deleted), keyPair.secretKey) }
}

export function createChunkDelete(keyPair: KeyPair, key: Buffer, time = claimClock()): ChunkClaim {
  return createChunkClaim(keyPair, key, time, true)
}

/** True when `claim.owner` signed exactly this claim (or delete) of `key`. */
export function verifyChunkClaim(claim: ChunkClaim, key: Uint8Array): boolean {
  if (claim.signature.byteLength !== SIGNATURE_BYTES || claim.owner.byteLength !== 32) return false
  if (!Number.isSafeInteger(claim.time) || claim.time < 0) return false
  return verify(claim.signature, signable(key, claim.time, claim.deleted), claim.owner)
}

/**
 * Whether `a` replaces `b`, two entries of the same owner and key: the later
 * one, and a delete wins a tie, so a claim made before the delete never
 * comes back while a claim made after it (a new upload) stands.
 */
export function claimSupersedes(a: ChunkClaim, b: ChunkClaim): boolean {
  if (a.time !== b.time) return a.time > b.time
  return a.deleted && !b.deleted
}
