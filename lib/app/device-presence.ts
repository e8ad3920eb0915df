// A running mount keeps its computer's entry in the user's device list
// current: registered at start, `lastSeen` refreshed periodically, so
// `peerstore devices` shows when each computer was last in use
// (docs/devices.md). Best effort: a failed update (offline) is retried at
// the next tick, and never stops the mount.

import { deviceIdentity } from '../volume/devices/device-identity'
import { registerDevice } from '../volume/devices/device-list'
import type { Volume } from '../volume/volume'

const DEFAULT_INTERVAL_MS = 10 * 60_000

export interface DevicePresence {
  /** The first registration (resolves whether it succeeded or not). */
  registered: Promise<void>
  stop(): Promise<void>
}

export function startDevicePresence(
  volume: Volume,
  opts: { name?: string; intervalMs?: number; notice?: (line: string) => void } = {}
): DevicePresence {
  const device = deviceIdentity(volume.home, opts.name)
  let pending: Promise<void> = Promise.resolve()
  let failing = false
  const beat = () => {
    pending = registerDevice(volume.store, volume.keys, { key: device.keyPair.publicKey, name: device.name }).then(
      () => {
        failing = false
      },
      (err: Error) => {
        // Said once per outage, not every tick.
        if (!failing) opts.notice?.(`could not update this computer in your device list (retrying): ${err.message}`)
        failing = true
      }
    )
    return pending
  }
  const registered = beat()
  const timer = setInterval(beat, opts.intervalMs ?? DEFAULT_INTERVAL_MS)
  timer.unref()
  return {
    registered,
    async stop() {
      clearInterval(timer)
      await pending
    }
  }
}
