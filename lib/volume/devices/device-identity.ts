// This computer as one of its user's devices: its own key pair (device.seed,
// made here and never copied, unlike user.seed) and the name it goes by in
// `peerstore devices` (docs/devices.md).

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type KeyPair, keyPairFromSeed, loadOrCreateSeed, writeFileAtomic } from '../../crypto/keys'
import { codedError } from '../../common/errors'

export const DEVICE_SEED_FILE = 'device.seed'
/** `{ "name": …, "createdAt": … }`: the name given once with --device-name, kept for later starts, and when the device key was made. */
const DEVICE_FILE = 'device.json'
const MAX_NAME_BYTES = 64

export interface DeviceIdentity {
  keyPair: KeyPair
  name: string
  /** ms since the epoch: when this home first became a device (its certificate says so). */
  createdAt: number
}

export function checkDeviceName(name: string): string {
  const trimmed = name.trim()
  if (trimmed === '' || Buffer.byteLength(trimmed) > MAX_NAME_BYTES || /[\p{Cc}]/u.test(trimmed)) {
    throw codedError('EINVAL', `a device name is 1 to ${MAX_NAME_BYTES} bytes of printable text`)
  }
  return trimmed
}

/**
 * The device key of `home` (made on first use) and its name: `nameFlag` if
 * given (and then kept), else the one kept before, else the host name.
 */
export function deviceIdentity(home: string, nameFlag?: string): DeviceIdentity {
  const keyPair = keyPairFromSeed(loadOrCreateSeed(path.join(home, DEVICE_SEED_FILE)))
  const file = path.join(home, DEVICE_FILE)
  let kept: { name?: unknown; createdAt?: unknown } = {}
  try {
    kept = JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const createdAt = typeof kept.createdAt === 'number' ? kept.createdAt : Date.now()
  const keptName = typeof kept.name === 'string' ? kept.name : undefined
  const given = nameFlag !== undefined ? checkDeviceName(nameFlag) : undefined
  if (kept.createdAt !== createdAt || (given !== undefined && given !== keptName)) {
    writeFileAtomic(file, Buffer.from(`${JSON.stringify({ name: given ?? keptName, createdAt })}\n`), 0o600)
  }
  const name =
    given ?? (keptName !== undefined ? checkDeviceName(keptName) : checkDeviceName(os.hostname() || 'computer'))
  return { keyPair, name, createdAt }
}

/** This home's device public key, or null when it never registered as a device. */
export function deviceKeyOf(home: string): Buffer | null {
  const file = path.join(home, DEVICE_SEED_FILE)
  if (!fs.existsSync(file)) return null
  return keyPairFromSeed(loadOrCreateSeed(file)).publicKey
}
