// The machines of the ring as one node sees them, for `peerstore status`:
// the distinct machines among its virtual nodes' successors, predecessors and
// fingers (16 virtual nodes per machine: deduplicated by public key), plus the
// peers it is connected to. Each is asked its share (NodeStats); and the
// replication health is judged against what a ring of that size can hold.

import type { ChordNode } from '../chord'
import type { PeerNetwork } from '../net'
import { formatHostPort } from './config'
import { askMachineStats } from './machine-stats'
import type { RepairStats } from './repair'

/** 'stopped': this home's own node, not running (status read its store from disk). */
export type MachineRole = 'member' | 'client' | 'stopped' | 'unknown'

export interface MachineStatus {
  /** The machine's public key (hex); `short` is its first 8 characters. */
  key: string
  short: string
  self: boolean
  /** Its DHT address when known. */
  address: string | null
  /** As the machine says it (NodeStats), else a member when this node's ring tables hold it. */
  role: MachineRole
  connected: boolean
  /** Keys and bytes its store holds; null when it did not say (gone, or older than NodeStats). */
  keys: number | null
  bytes: number | null
  /** Last message from it (ms since the epoch); null for this machine or one never heard from. */
  lastSeen: number | null
}

/** The machines this node knows of, itself first; `own` is its own store's figures. */
export async function ringMachines(
  chord: ChordNode,
  network: PeerNetwork,
  own: { member: boolean; keys: number | null; bytes: number | null }
): Promise<MachineStatus[]> {
  const selfHex = network.publicKey.toString('hex')
  // Successors and predecessors are kept live by stabilization; a finger may
  // still name a machine that died, so fingers count only while connected.
  const neighbours = new Set<string>()
  const fingers = new Set<string>()
  for (const v of chord.vnodes) {
    for (const s of v.successors) neighbours.add(s.address)
    if (v.predecessor) neighbours.add(v.predecessor.address)
    for (const f of v.fingers.values()) fingers.add(f.address)
  }
  const connected = new Set(network.peers().map((pk) => pk.toString('hex')))
  const others = [...new Set([...neighbours, ...fingers, ...connected])].filter(
    (hex) => hex !== selfHex && (neighbours.has(hex) || connected.has(hex))
  )
  const answers = await askMachineStats(network, others)
  const own$ = machine(network, selfHex, { self: true, connected: true, role: own.member ? 'member' : 'client' })
  const list: MachineStatus[] = [{ ...own$, keys: own.keys, bytes: own.bytes, lastSeen: null }]
  for (const hex of others.sort()) {
    const answer = answers.get(hex) ?? null
    const role: MachineRole = answer
      ? answer.member
        ? 'member'
        : 'client'
      : neighbours.has(hex)
        ? 'member'
        : 'unknown'
    list.push({
      ...machine(network, hex, { self: false, connected: connected.has(hex), role }),
      keys: answer?.keys ?? null,
      bytes: answer?.bytes ?? null,
      lastSeen: network.lastHeard(Buffer.from(hex, 'hex'))
    })
  }
  return list
}

function machine(
  network: PeerNetwork,
  hex: string,
  m: { self: boolean; connected: boolean; role: MachineRole }
): Omit<MachineStatus, 'keys' | 'bytes' | 'lastSeen'> {
  const at = m.self ? network.address() : network.dhtAddressOf(Buffer.from(hex, 'hex'))
  return { key: hex, short: hex.slice(0, 8), address: at ? formatHostPort(at) : null, ...m }
}

/** The machines, the ring's size (its members) and replication measured against it. */
export async function ringHealth(
  chord: ChordNode,
  network: PeerNetwork,
  opts: { ownStore: { keys: number; bytes: number } | null; target: number; repair: RepairStats | null }
): Promise<{ machines: MachineStatus[]; ringSize: number; replication: ReplicationStatus }> {
  const own = opts.ownStore
  const machines = await ringMachines(chord, network, {
    member: chord.isMember,
    keys: own?.keys ?? null,
    bytes: own?.bytes ?? null
  })
  const ringSize = machines.filter((m) => m.role === 'member').length
  const replication = replicationStatus({
    target: opts.target,
    ringSize,
    keysHeld: own?.keys ?? 0,
    repair: opts.repair
  })
  return { machines, ringSize, replication }
}

/** Replication measured against what the ring can hold (docs/ring-node.md, "Status"). */
export interface ReplicationStatus {
  /** Copies wanted of every key (k). */
  target: number
  /** Ring members now; fewer than `target` means no key can have all its copies. */
  ringSize: number
  /** Keys held here that lack copies: all of them on a ring too small, else those repair found missing. */
  underTarget: number
  /** Why keys are under target, in words; null when none is. */
  reason: string | null
  /** Keys the last repair round found missing or stale on a replica. */
  missingCopies: number
  repairRounds: number
  /** When the last repair round ended (ms since the epoch), 0 before the first. */
  lastRepairAt: number
  /** Values repair has moved since the node started: pushed to, pulled from, handed off to other machines. */
  repaired: number
}

export function replicationStatus(opts: {
  target: number
  ringSize: number
  keysHeld: number
  repair: RepairStats | null
}): ReplicationStatus {
  const { target, ringSize, keysHeld, repair } = opts
  const missing = repair?.underReplicated ?? 0
  const tooSmall = ringSize < target
  const underTarget = tooSmall ? keysHeld : missing
  const plural = ringSize === 1 ? 'machine' : 'machines'
  const reason = tooSmall
    ? `ring of ${ringSize} ${plural} cannot hold ${target} copies`
    : missing > 0
      ? `copies missing on replicas (repair is copying them)`
      : null
  return {
    target,
    ringSize,
    underTarget,
    reason: underTarget > 0 || tooSmall ? reason : null,
    missingCopies: missing,
    repairRounds: repair?.rounds ?? 0,
    lastRepairAt: repair?.lastRoundAt ?? 0,
    repaired: repair ? repair.pushed + repair.pulled + repair.handedOff : 0
  }
}
