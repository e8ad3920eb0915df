// A ready Volume on the store openValueStore picks: what `mount`, `backup`,
// `get` and `ls` all start from.

import { type OpenValueStoreOptions, openValueStore } from './open-value-store'
import { Volume, type VolumeOptions } from './volume'

export interface OpenedVolume {
  volume: Volume
  close(): Promise<void>
}

export async function openVolume(
  home: string,
  opts: Partial<Omit<VolumeOptions, 'home' | 'store'>> = {},
  storeOpts: OpenValueStoreOptions = {}
): Promise<OpenedVolume> {
  const opened = await openValueStore(home, storeOpts)
  const volume = new Volume({
    home,
    store: opened.store,
    readCacheBytes: opened.local ? 0 : undefined,
    capacity: opened.capacity,
    flushIntervalMs: Number(process.env.PEERSTORE_FLUSH_INTERVAL_MS) || undefined,
    syncIntervalMs: envMs('PEERSTORE_SYNC_INTERVAL_MS'),
    ...opts
  })
  try {
    await volume.ready()
  } catch (err) {
    await opened.close()
    throw err
  }
  return {
    volume,
    async close() {
      try {
        await volume.close()
      } finally {
        await opened.close()
      }
    }
  }
}

/** A millisecond setting from the environment; unset or not a number leaves the default, 0 is kept. */
function envMs(name: string): number | undefined {
  const text = process.env[name]
  if (text === undefined || text.trim() === '') return undefined
  const n = Number(text)
  return Number.isFinite(n) && n >= 0 ? n : undefined
}
