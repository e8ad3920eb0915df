// This computer as one of its user's devices: its own key pair (device.seed,
// made here and never copied, unlike user.seed) and the name it goes by in
// `peerstore devices` (docs/devices.md).

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type KeyPair, keyPairFromSeed, loadOrCreateSeed, writeFileAtomic } from '../../crypto/keys'
import { codedError } from '../../common/errors'

export const DEVICE_SEED_FILE = 'device.seed'
/** `{ "name": … }`: the name given once with --device-name, kept for later starts. */
const DEVICE_FILE = 'device.json'
const MAX_NAME_BYTES = 64

export interface DeviceIdentity {
  keyPair: KeyPair
  name: string
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
  if (nameFlag !== undefined) {
    const name = checkDeviceName(nameFlag)
    writeFileAtomic(file, Buffer.from(`${JSON.stringify({ name })}\n`), 0o600)
    return { keyPair, name }
  }
  try {
    const kept = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: unknown }
    if (typeof kept.name === 'string') return { keyPair, name: checkDeviceName(kept.name) }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  return { keyPair, name: checkDeviceName(os.hostname() || 'computer') }
}

/** This home's device public key, or null when it never registered as a device. */
export function deviceKeyOf(home: string): Buffer | null {
  const file = path.join(home, DEVICE_SEED_FILE)
  if (!fs.existsSync(file)) return null
  return keyPairFromSeed(loadOrCreateSeed(file)).publicKey
}
