// Volumes on a LocalValueStore for the tests of lib/volume: temp dirs that go
// away with the test, and a Volume with test-friendly defaults (no read
// cache, a background flush only once a minute unless asked).

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { recordCopyStoreFor } from '../../lib/app/record-copy-store'
import { LocalValueStore } from '../../lib/volume/local-value-store'
import { Volume, type VolumeOptions } from '../../lib/volume/volume'
import { VolumeKeys } from '../../lib/volume/volume-keys'

interface HasTeardown {
  teardown(fn: () => unknown): void
}

/** A fresh temp dir, removed in the test's teardown. */
export function tmp(t: HasTeardown, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `peerstore-${prefix}-`))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

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
