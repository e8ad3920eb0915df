// The single place a Volume's ValueStore is chosen: a ring node for this
// home (lib/node). With no peers and no bootstrap configured, that is a ring
// of one on this machine, which works offline at once; after
// `peerstore join TOKEN` the same mount stores into the shared ring.

import fsp from 'node:fs/promises'
import { type ConfigOverrides, effectiveConfig } from '../node/config'
import { controlServerFor } from '../node/node-api'
import { RingNode } from '../node/ring-node'
import { RingValueStore } from '../node/ring-value-store'
import type { ValueStore } from './value-store'

export interface OpenValueStoreOptions extends ConfigOverrides {
  /** Bind address of the DHT socket. */
  host?: string
  /** Join as a client that stores nothing (laptops beside always-on servers). */
  clientOnly?: boolean
  log?: (line: string) => void
}

export interface OpenedValueStore {
  store: ValueStore
  /** True when values are on this machine's disk: no read cache is needed. */
  local: boolean
  node?: RingNode
  capacity?: () => Promise<{ totalBytes: number; freeBytes: number }>
  close(): Promise<void>
}

export async function openValueStore(home: string, opts: OpenValueStoreOptions = {}): Promise<OpenedValueStore> {
  const config = effectiveConfig(home, opts)
  const node = new RingNode({ home, config, host: opts.host, clientOnly: opts.clientOnly, log: opts.log })
  // The control socket makes `peerstore status` and `block` reach this node, and
  // refuses (EBUSY) a second node for the same home before it touches the store.
  const control = controlServerFor(node)
  await control.ready()
  try {
    await node.ready()
    if (opts.clientOnly) await node.waitForGateway(30_000)
  } catch (err) {
    await control.close()
    await node.destroy()
    throw err
  }
  const capacity = async () => {
    const s = await fsp.statfs(home)
    return { totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize }
  }
  return {
    store: new RingValueStore(node),
    local: false,
    node,
    capacity,
    close: async () => {
      await control.close()
      await node.close()
    }
  }
}
