// The single place a Volume's ValueStore is chosen: a ring node for this
// home (lib/node). With no discovery configured (a fresh home), that is a ring
// of one on this machine, which works offline at once; after
// `peerstore join TOKEN` the same mount stores into the shared ring.

import fs from 'node:fs'
import path from 'node:path'
import { type ConfigOverrides, discoveryWhere, effectiveConfig, isNetworked, type NodeConfig } from '../node/config'
import { controlServerFor } from './node-api'
import { ControlClient, controlSocketPath } from '../node/control'
import { codedError } from '../common/errors'
import { type MountStatus, RingNode } from '../node/ring-node'
import { RingValueStore } from './ring-value-store'
import { MemberValueStore } from './member-value-store'
import { settlesWithin } from '../common/retry'
import { recordCopyDir } from '../volume/record-copy'
import { RING_JOINED_FILE, waitForRing } from './ring-join'
import type { ValueStore } from '../volume/value-store'
import { ADOPTED_IDENTITY_FILE } from '../volume/volume-keys'
import { type Capacity, diskSpace } from '../volume/status'

export interface OpenValueStoreOptions extends ConfigOverrides {
  /** Already resolved (e.g. by configFromFlags); the overrides above are then ignored. */
  config?: NodeConfig
  /** Bind address of the DHT socket. */
  host?: string
  /** Join as a client that stores nothing (laptops beside always-on servers). */
  clientOnly?: boolean
  /** How long a member waits to merge into the configured ring before going on alone (offline). */
  joinTimeoutMs?: number
  log?: (line: string) => void
  /** One-line notices for the user (the mount prints them), unlike the node's log. */
  notice?: (line: string) => void
  /**
   * Fail (EUNAVAILABLE) instead of working offline when no other member of a
   * ring this home has been in answers: a one-shot verb (`ls`, `backup`) must
   * not report success from this machine's copies alone. A home never in a
   * ring with others still works alone: it may be the network's first machine.
   */
  requireRing?: boolean
}

const DEFAULT_JOIN_TIMEOUT_MS = 15_000
/** How long a client-only mount looks for a node to route through before it starts offline (or fails). */
const GATEWAY_TIMEOUT_MS = 30_000
const ADOPTED_GATEWAY_TIMEOUT_MS = 120_000
/** How long close() waits for a graceful leave of the ring. */
const LEAVE_TIMEOUT_MS = 5000

export interface OpenedValueStore {
  store: ValueStore
  /** True when values are on this machine's disk: no read cache is needed. */
  local: boolean
  node?: RingNode
  capacity?: Capacity
  /** What `peerstore status` shows of the mount on this node. */
  reportMount?(fn: () => MountStatus): void
  close(): Promise<void>
}

export async function openValueStore(home: string, opts: OpenValueStoreOptions = {}): Promise<OpenedValueStore> {
  const config = opts.config ?? effectiveConfig(home, opts)
  // Asked before the node is built: building it opens its store and sockets,
  // which then keep a refused process alive (issue 16: a second ls hung).
  await refuseIfNodeRuns(home)
  const node = new RingNode({ home, config, host: opts.host, clientOnly: opts.clientOnly, log: opts.log })
  // The control socket makes `peerstore status` and `block` reach this node, and
  // refuses (EBUSY) a second node for the same home before it touches the store.
  let mountStatus: (() => MountStatus) | null = null
  const control = controlServerFor(node, { mountStatus: () => mountStatus?.() ?? null })
  try {
    await control.ready()
  } catch (err) {
    // Another node took the home between the check above and now.
    await node.destroy()
    throw err
  }
  try {
    await node.ready()
    if (opts.clientOnly) {
      try {
        // A first mount of an identity from another computer has nothing to show offline, and waits up to
        // 120 s for its tree anyway (open-volume.ts): it may wait that long for a node too.
        const adopted = fs.existsSync(path.join(home, ADOPTED_IDENTITY_FILE))
        await node.waitForGateway(opts.joinTimeoutMs ?? (adopted ? ADOPTED_GATEWAY_TIMEOUT_MS : GATEWAY_TIMEOUT_MS))
      } catch (err) {
        // A home with a record copy has seen its tree: it can start offline and catch up when a node answers.
        if (!fs.existsSync(recordCopyDir(home))) throw err
        opts.notice?.(
          'no node of this network answered: working offline from what this computer has seen; changes wait until one does'
        )
      }
    } else if (isNetworked(config)) {
      const joined = await waitForRing(node, opts.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS)
      if (!joined) {
        // A home whose node has been in the ring before is offline now, not the first machine of a network (ring-join.ts).
        const before = fs.existsSync(path.join(home, RING_JOINED_FILE))
        if (before && opts.requireRing) {
          throw codedError(
            'EUNAVAILABLE',
            `no other machine of this network answered within ${(opts.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS) / 1000} s (${discoveryWhere(config)}): the ring is unreachable from here (a mount of this home works offline meanwhile)`
          )
        }
        opts.notice?.(
          before
            ? 'no other node of this network answered: working offline from what this computer has seen; changes wait until the ring is back'
            : 'no other node of this network answered: working alone until one does'
        )
      }
    }
  } catch (err) {
    await control.close()
    await node.destroy()
    throw err
  }
  const capacity = () => diskSpace(home)
  return {
    store: node.store ? new MemberValueStore(new RingValueStore(node), node) : new RingValueStore(node),
    local: false,
    node,
    capacity,
    reportMount(fn) {
      mountStatus = fn
    },
    close: async () => {
      await control.close()
      // A graceful leave tells the neighbours and hands keys off; with them
      // gone it would sit out every timeout. Bounded: a process that exits
      // then is, to the ring, a machine that failed, which repair handles.
      if (!(await settlesWithin(node.close(), LEAVE_TIMEOUT_MS))) {
        opts.notice?.(`leaving the ring took over ${LEAVE_TIMEOUT_MS / 1000} s (peers gone?): not waiting for it`)
      }
    }
  }
}

/** EBUSY when a node already runs for this home (its control socket answers). */
async function refuseIfNodeRuns(home: string): Promise<void> {
  const client = await ControlClient.connect(controlSocketPath(home))
  if (!client) return
  client.close()
  throw codedError(
    'EBUSY',
    `a peerstore node is already running for ${home} ('peerstore serve', or a mount still starting): stop it first`
  )
}
