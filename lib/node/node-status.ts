// What `peerstore status` shows of a node (RingNode.status()) and of a mount running on it.

import type { DiscoveryMode } from './config'
import type { MachineStatus, ReplicationStatus } from './ring-machines'

/** The version of PeerStore this node runs (package.json; dist/lib/node → the package root). */
export const NODE_VERSION: string = require('../../../package.json').version

export interface NodeStatus {
  /** Optional: older nodes leave out version, ringSize, machines, replication and storeOnDisk. */
  version?: string
  nodeKey: string
  id: string
  address: string | null
  /** Connected to a peer of the network (a lone node, which looks for none: always). */
  online: boolean
  /** Since when no peer is reachable (ms since the epoch), while it lasts; retried with backoff meanwhile. */
  aloneSince?: number | null
  /** How the node finds the others, and the DHT bootstrap nodes it uses (optional: older nodes leave it out). */
  discovery?: { mode: DiscoveryMode; bootstrap: string[] }
  /** Whether the latest announce on the DHT succeeded (its bootstrap answers); null when alone by configuration. */
  dhtAnswers?: boolean | null
  member: boolean
  clientOnly: boolean
  predecessor: string | null
  successors: string[]
  virtualNodes: number
  /** Distinct machines (this one included) in the successor lists of all its virtual nodes. */
  ringMachines: number
  /** Distinct machines this node's finger tables point at. */
  fingers: number
  peers: number
  keys: number
  bytes: number
  replicas: number
  /** Keys held here under target: all of them when the ring has fewer machines than k, else those missing copies. */
  underReplicated: number
  repairRounds: number
  /** Ring members as this node sees them (machines, not virtual nodes). */
  ringSize?: number
  /** This machine first, then the others it knows of (ring-machines.ts). */
  machines?: MachineStatus[]
  replication?: ReplicationStatus
  /** keys/bytes were read from the store on disk: no node runs for this home (a temporary node asked). */
  storeOnDisk?: boolean
  /** When a mount runs on this node: what it has not stored yet and why (set by lib/app/open-value-store.ts). */
  mount?: MountStatus
}

/** A mount's uploads, for `peerstore status`. */
export interface MountStatus {
  /** Records changed and not yet in the store. */
  unsaved: number
  pendingChunks: number
  pendingBytes: number
  /** Why uploads are failing now (they are retried with backoff), or null. */
  uploadFailure: { code: string; message: string; since: number } | null
  /** The store did not answer the last time it was asked (docs/volume.md, "offline"). */
  offline: boolean
  offlineSinceMs: number
  dirty: number
  replayWaiting: boolean
  replayOps: number
  /** Inodes in memory, read from the store, and loaded ahead by listings (optional: older mounts leave them out). */
  inodes?: number
  inodeLoads?: number
  prefetched?: number
}
