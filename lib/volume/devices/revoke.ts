// Revoking one of the user's computers (docs/devices.md, "Revoking"): its
// device key goes on the user's revocation list, which the user key signs
// (so this needs a home that still holds user.seed), and its entry leaves
// the device list. Storage nodes then refuse what it signs
// (lib/node/device-revocations.ts).

import { codedError } from '../../common/errors'
import { decodeRevocations, encodeRevocations, revocationListName } from '../../crypto/revocation-list'
import { updateRecord } from '../sharing/records'
import type { ValueStore } from '../value-store'
import type { VolumeKeys } from '../volume-keys'
import { type DeviceEntry, readDevices, removeDevice } from './device-list'

/** The one device `nameOrKey` names: its name, or the start of its key (at least 8 hex digits). */
export function pickDevice(devices: DeviceEntry[], nameOrKey: string): DeviceEntry {
  const byName = devices.filter((d) => d.name === nameOrKey)
  const byKey = /^[0-9a-f]{8,64}$/i.test(nameOrKey)
    ? devices.filter((d) => d.key.startsWith(nameOrKey.toLowerCase()))
    : []
  const found = byName.length > 0 ? byName : byKey
  if (found.length === 0) {
    throw codedError('ENOENT', `no computer named '${nameOrKey}' in your device list ('peerstore devices' lists them)`)
  }
  if (found.length > 1) {
    throw codedError(
      'EINVAL',
      `${found.length} computers are named '${nameOrKey}': give the start of the key instead (${found.map((d) => d.key.slice(0, 16)).join(', ')})`
    )
  }
  return found[0]
}

/**
 * Revokes `nameOrKey` (not `self`, this computer's own device key): on the
 * revocation list first, so that a failure in between leaves it revoked
 * rather than merely unlisted.
 */
export async function revokeDevice(
  store: ValueStore,
  keys: VolumeKeys,
  nameOrKey: string,
  self: Buffer | null,
  now = Date.now()
): Promise<DeviceEntry> {
  const device = pickDevice(await readDevices(store, keys), nameOrKey)
  if (self && device.key === self.toString('hex')) {
    throw codedError('EINVAL', `'${device.name}' is this computer: revoke it from another computer of yours`)
  }
  const key = Buffer.from(device.key, 'hex')
  await updateRecord(
    store,
    keys,
    revocationListName(keys.publicKey),
    (current) => {
      const list = decodeRevocations(current).filter((r) => !r.device.equals(key))
      list.push({ device: key, revokedAt: now, name: device.name })
      return encodeRevocations(list)
    },
    // Only the user key signs the list: storage nodes refuse one a device signed.
    keys.keyPair
  )
  await removeDevice(store, keys, key)
  return device
}
