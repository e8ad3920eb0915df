// Volumes on a LocalValueStore for the tests of lib/volume: a Volume with
// test-friendly defaults (no read cache, a background flush only once a
// minute unless asked). Temp dirs: temp-dir.ts.

import { recordCopyStoreFor } from '../../lib/app/record-copy-store'
import { LocalValueStore } from '../../lib/volume/local-value-store'
import { Volume, type VolumeOptions } from '../../lib/volume/volume'
import { VolumeKeys } from '../../lib/volume/volume-keys'

/** A ready Volume at `home` on a LocalValueStore (a directory path, or one already open). */
export async function openVolume(
  home: string,
  store: string | LocalValueStore,
  opts: Partial<Omit<VolumeOptions, 'home' | 'store' | 'keys'>> & { seed?: Buffer } = {}
): Promise<Volume> {
  let values: LocalValueStore
  if (typeof store === 'string') {
    values = new LocalValueStore(store)
    await values.ready()
  } else values = store
  const { seed, ...rest } = opts
  const volume = new Volume({
    home,
    store: values,
    recordCopy: recordCopyStoreFor(home),
    readCacheBytes: 0,
    flushIntervalMs: 60_000,
    keys: seed ? new VolumeKeys(seed) : undefined,
    ...rest
  })
  await volume.ready()
  return volume
}
