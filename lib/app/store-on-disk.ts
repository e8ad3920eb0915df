// What a stopped node holds: when no node runs for a home, commands ask a
// temporary client-only node, which opens no store; `status` then reads the
// home's node store from disk, so a stopped server does not show 0 keys.

import fs from 'node:fs'
import path from 'node:path'
import type { NodeStatus } from '../node/ring-node'
import { replicationStatus } from '../node/ring-machines'
import { NodeStore } from '../storage'

/** `status` with keys and bytes from the home's node store on disk, when the node asked had none open. */
export async function withStoreOnDisk(status: NodeStatus, home: string): Promise<NodeStatus> {
  const dir = path.join(home, 'node-store')
  if (!status.clientOnly || !fs.existsSync(dir)) return status
  // No node runs for this home (the temporary node exists because none answered the control socket),
  // so opening the store here only reads: nothing else writes it now.
  const store = new NodeStore(dir)
  let stats: { keys: number; bytes: number }
  try {
    stats = await store.stats()
  } finally {
    await store.close()
  }
  const machines = status.machines?.map((m) =>
    m.self ? { ...m, role: 'stopped' as const, keys: stats.keys, bytes: stats.bytes } : m
  )
  const replication = status.replication
    ? replicationStatus({
        target: status.replication.target,
        ringSize: status.replication.ringSize,
        keysHeld: stats.keys,
        repair: null
      })
    : undefined
  return {
    ...status,
    keys: stats.keys,
    bytes: stats.bytes,
    storeOnDisk: true,
    machines,
    replication,
    underReplicated: replication?.underTarget ?? status.underReplicated
  }
}
