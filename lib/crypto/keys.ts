// Ed25519 identities. A key pair is derived from a 32-byte seed, which is the
// only secret persisted (mode 0600), exactly as HyperDHT.keyPair(seed) does,
// so the same file serves hyperswarm and record signing.

import fs from 'node:fs'
import path from 'node:path'
import { LRUCache } from 'lru-cache'
import sodium from 'sodium-native'

export interface KeyPair {
  publicKey: Buffer
  secretKey: Buffer
}

export const SEED_BYTES = 32
export const SIGNATURE_BYTES = 64

export function randomBytes(n: number): Buffer {
  const b = Buffer.alloc(n)
  sodium.randombytes_buf(b)
  return b
}

export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  if (seed.byteLength !== SEED_BYTES) throw new Error(`seed must be ${SEED_BYTES} bytes`)
  const publicKey = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES)
  const secretKey = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES)
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed)
  return { publicKey, secretKey }
}

export function sign(message: Uint8Array, secretKey: Uint8Array): Buffer {
  const sig = Buffer.alloc(SIGNATURE_BYTES)
  sodium.crypto_sign_detached(sig, message, secretKey)
  return sig
}

export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.byteLength !== SIGNATURE_BYTES || publicKey.byteLength !== sodium.crypto_sign_PUBLICKEYBYTES) {
    return false
  }
  return sodium.crypto_sign_verify_detached(signature, message, publicKey)
}

/**
 * verify() with a memo of the checks that passed lately: one signature that
 * every layer checks again (a record, a device certificate on each record of
 * a device) costs one Ed25519 check, about 70 µs, not one per layer. A hit is
 * the same signature, message and key that verified before, so the answer is
 * the same; failures are not kept. At most `max` entries, least recently used out first.
 */
export class VerifiedSignatures {
  private readonly seen: LRUCache<string, true>

  constructor(max: number) {
    this.seen = new LRUCache({ max })
  }

  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
    const memo = latin1(message) + latin1(signature) + latin1(publicKey)
    if (this.seen.has(memo)) return true
    if (!verify(signature, message, publicKey)) return false
    this.seen.set(memo, true)
    return true
  }
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
}

/** Writes `data` so that a crash leaves either the old file or the new one, never half of it. */
export function writeFileAtomic(file: string, data: Uint8Array, mode = 0o600): void {
  const tmp = `${file}.${process.pid}.tmp`
  const fd = fs.openSync(tmp, 'w', mode)
  try {
    fs.writeSync(fd, data)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, file)
  const dir = fs.openSync(path.dirname(file), 'r')
  try {
    fs.fsyncSync(dir)
  } finally {
    fs.closeSync(dir)
  }
}

/** Loads the seed at `file`, creating a random one (mode 0600) on first use. */
export function loadOrCreateSeed(file: string): Buffer {
  try {
    const seed = fs.readFileSync(file)
    if (seed.byteLength !== SEED_BYTES) throw new Error(`${file} is not a ${SEED_BYTES}-byte key seed`)
    return seed
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  const seed = randomBytes(SEED_BYTES)
  writeFileAtomic(file, seed, 0o600)
  return seed
}
