// A user's share identity: the X25519 key pair that one Ed25519 user key also
// gives (libsodium's birational map), so one seed serves signing records and
// receiving shares. Keys are wrapped to it with sealed boxes (anonymous: the
// sender is authenticated by the signed record or token that carries the box).

import sodium from 'sodium-native'
import type { KeyPair } from './keys'
import { codedError } from '../common/errors'

export const SEAL_OVERHEAD = 48

/** The X25519 public key of an Ed25519 public key; throws for bytes that are not a valid point. */
export function curvePublicKey(edPublicKey: Uint8Array): Buffer {
  if (edPublicKey.byteLength !== 32) throw codedError('EINVAL', 'a user key is 32 bytes')
  const out = Buffer.alloc(32)
  try {
    sodium.crypto_sign_ed25519_pk_to_curve25519(out, edPublicKey)
  } catch {
    throw codedError('EINVAL', 'not a valid user key')
  }
  return out
}

/** The X25519 key pair of an Ed25519 key pair. */
export function curveKeyPair(ed: KeyPair): KeyPair {
  const secretKey = Buffer.alloc(32)
  sodium.crypto_sign_ed25519_sk_to_curve25519(secretKey, ed.secretKey)
  return { publicKey: curvePublicKey(ed.publicKey), secretKey }
}

/** Anonymous encryption to `curvePk` (crypto_box_seal). */
export function seal(message: Uint8Array, curvePk: Uint8Array): Buffer {
  const out = Buffer.alloc(message.byteLength + SEAL_OVERHEAD)
  sodium.crypto_box_seal(out, message, curvePk)
  return out
}

/** Opens a sealed box, or null when it was not sealed to this key pair (or was tampered with). */
export function openSealed(sealed: Uint8Array, curve: KeyPair): Buffer | null {
  if (sealed.byteLength < SEAL_OVERHEAD) return null
  const out = Buffer.alloc(sealed.byteLength - SEAL_OVERHEAD)
  return sodium.crypto_box_seal_open(out, sealed, curve.publicKey, curve.secretKey) ? out : null
}

/**
 * X25519 Diffie-Hellman: the same 32 bytes for (mySk, theirPk) on both sides.
 * Used to name the record a sharer publishes for one recipient, so that
 * storage nodes cannot tell who shares with whom.
 */
export function sharedSecret(curveSk: Uint8Array, theirCurvePk: Uint8Array): Buffer {
  const out = Buffer.alloc(32)
  sodium.crypto_scalarmult(out, curveSk, theirCurvePk)
  return out
}
