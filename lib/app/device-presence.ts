// A running mount keeps its computer's entry in the user's device list
// current: registered at start, `lastSeen` refreshed periodically, so
// `peerstore devices` shows when each computer was last in use
// (docs/devices.md). Best effort: a failed update (offline, or a remount
// whose node is not back in the ring yet) is retried with backoff, from 2 s
// up to the refresh interval, and never stops the mount.

import { backoffDelay } from '../common/retry'
import { deviceIdentity } from '../volume/devices/device-identity'
import { registerDevice } from '../volume/devices/device-list'
import type { Volume } from '../volume/volume'

const DEFAULT_INTERVAL_MS = 10 * 60_000
const FIRST_RETRY_MS = 2_000

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
  const intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS
  let pending: Promise<void> = Promise.resolve()
  let failures = 0
  let stopped = false
  let timer: NodeJS.Timeout | null = null
  const schedule = (ms: number) => {
    if (stopped) return
    timer = setTimeout(beat, ms)
    timer.unref()
  }
  const beat = (): Promise<void> => {
    pending = registerDevice(volume.store, volume.keys, { key: device.keyPair.publicKey, name: device.name }).then(
      () => {
        failures = 0
        schedule(intervalMs)
      },
      (err: Error) => {
        // Said once per outage, not every retry.
        if (failures === 0)
          opts.notice?.(`could not update this computer in your device list (retrying): ${err.message}`)
        schedule(backoffDelay(failures++, { baseMs: FIRST_RETRY_MS, capMs: intervalMs }))
      }
    )
    return pending
  }
  const registered = beat()
  return {
    registered,
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await pending
      if (timer) clearTimeout(timer)
    }
  }
}
