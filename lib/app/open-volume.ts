// A ready Volume on the store openValueStore picks: what `mount`, `backup`,
// `get` and `ls` all start from.

import fs from 'node:fs'
import path from 'node:path'
import { recordCopyStoreFor } from './record-copy-store'
import { type OpenValueStoreOptions, openValueStore } from './open-value-store'
import { Volume, type VolumeOptions } from '../volume/volume'
import { ADOPTED_IDENTITY_FILE, VolumeKeys } from '../volume/volume-keys'
import { deviceIdentity } from '../volume/devices/device-identity'

/** How long the first mount of an identity from another computer looks for its tree. */
const ADOPT_ROOT_TIMEOUT_MS = 120_000

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
  const adopted = path.join(home, ADOPTED_IDENTITY_FILE)
  const adopting = fs.existsSync(adopted)
  // This home writes as one of its user's devices, with a key of its own (docs/devices.md).
  const keys = VolumeKeys.fromHome(home)
  keys.useDevice(deviceIdentity(home))
  const volume = new Volume({
    keys,
    home,
    store: opened.store,
    recordCopy: recordCopyStoreFor(home),
    readCacheBytes: opened.local ? 0 : undefined,
    capacity: opened.capacity,
    flushIntervalMs: Number(process.env.PEERSTORE_FLUSH_INTERVAL_MS) || undefined,
    gcGraceMs: envMs('PEERSTORE_GC_GRACE_MS'),
    adoptRootTimeoutMs: adopting ? ADOPT_ROOT_TIMEOUT_MS : undefined,
    notice: storeOpts.notice,
    syncIntervalMs: envMs('PEERSTORE_SYNC_INTERVAL_MS'),
    ...opts
  })
  try {
    await volume.ready()
  } catch (err) {
    await opened.close()
    throw err
  }
  opened.reportMount?.(() => {
    const s = volume.status()
    return {
      unsaved: s.dirty,
      pendingChunks: s.pendingChunks,
      pendingBytes: s.pendingBytes,
      uploadFailure: s.uploadFailure,
      offline: s.offline,
      offlineSinceMs: s.offlineSinceMs,
      dirty: s.dirty,
      replayWaiting: s.replayWaiting,
      replayOps: s.replayOps,
      inodes: s.inodes,
      inodeLoads: s.inodeLoads,
      prefetched: s.prefetched
    }
  })
  // Found (the root is read): from now on this home knows its tree.
  if (adopting) fs.rmSync(adopted, { force: true })
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
