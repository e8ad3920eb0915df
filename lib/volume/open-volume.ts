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
    gcGraceMs: Number(process.env.PEERSTORE_GC_GRACE_MS) || undefined,
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
