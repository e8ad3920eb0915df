// The single place a Volume's ValueStore is chosen. Today: the embedded
// single-node store under <home>/store. The Chord ring client plugs in here
// (peers, --network, --bootstrap) without any caller changing.

import path from 'node:path'
import { LocalValueStore } from './local-value-store'
import type { ValueStore } from './value-store'

export interface OpenValueStoreOptions {
  /** Overrides <home>/store for the embedded store. */
  dir?: string
}

export interface OpenedValueStore {
  store: ValueStore
  /** True when values are on this machine's disk: no read cache is needed. */
  local: boolean
  capacity?: () => Promise<{ totalBytes: number; freeBytes: number }>
  close(): Promise<void>
}

export async function openValueStore(home: string, opts: OpenValueStoreOptions = {}): Promise<OpenedValueStore> {
  const store = new LocalValueStore(opts.dir ?? path.join(home, 'store'))
  await store.ready()
  return { store, local: true, capacity: () => store.capacity(), close: () => store.close() }
}
