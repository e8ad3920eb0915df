// The user's device list: one record of the user's, encrypted under a key
// from the master key (device names are the user's business), listing each
// computer by its device key with its name and when it was first and last
// seen. Every computer updates its own entry by compare-and-swap, merging
// with what the others wrote (docs/devices.md, "The device list and the
// revocation list").

import { decrypt, encrypt } from '../../crypto/aead'
import type { SignedRecord } from '../../crypto/record'
import { fetchVerified, updateRecord } from '../sharing/records'
import type { ValueStore } from '../value-store'
import type { VolumeKeys } from '../volume-keys'

export interface DeviceEntry {
  /** The device's public key, hex. */
  key: string
  name: string
  /** ms since the epoch. */
  firstSeen: number
  lastSeen: number
}

function decodeList(keys: VolumeKeys, rec: SignedRecord | null): DeviceEntry[] {
  if (!rec || rec.deleted) return []
  const plain = decrypt(rec.value, keys.deviceListKey, keys.deviceListName)
  const list = JSON.parse(plain.toString()) as DeviceEntry[]
  return Array.isArray(list) ? list : []
}

function encodeList(keys: VolumeKeys, list: DeviceEntry[]): Buffer {
  return encrypt(Buffer.from(JSON.stringify(list)), keys.deviceListKey, keys.deviceListName)
}

/** The user's computers, the most recently seen first. */
export async function readDevices(store: ValueStore, keys: VolumeKeys): Promise<DeviceEntry[]> {
  const list = decodeList(keys, await fetchVerified(store, keys.publicKey, keys.deviceListName))
  return list.sort((a, b) => b.lastSeen - a.lastSeen)
}

/**
 * Records that this computer (`key`, `name`) is in use now: its entry gets
 * `lastSeen = now` (never earlier than it was) and the current name; a new
 * entry also `firstSeen = now`.
 */
export async function registerDevice(
  store: ValueStore,
  keys: VolumeKeys,
  device: { key: Buffer; name: string },
  now = Date.now()
): Promise<void> {
  const hex = device.key.toString('hex')
  await updateRecord(store, keys, keys.deviceListName, (current) => {
    const list = decodeList(keys, current)
    const mine = list.find((d) => d.key === hex)
    if (mine) {
      mine.name = device.name
      mine.lastSeen = Math.max(mine.lastSeen, now)
    } else {
      list.push({ key: hex, name: device.name, firstSeen: now, lastSeen: now })
    }
    return encodeList(keys, list)
  })
}

/** Takes `key`'s entry off the list (a revoked device); false when it was not on it. */
export async function removeDevice(store: ValueStore, keys: VolumeKeys, key: Buffer): Promise<boolean> {
  const hex = key.toString('hex')
  let found = false
  await updateRecord(store, keys, keys.deviceListName, (current) => {
    const list = decodeList(keys, current)
    found = list.some((d) => d.key === hex)
    return encodeList(
      keys,
      list.filter((d) => d.key !== hex)
    )
  })
  return found
}
