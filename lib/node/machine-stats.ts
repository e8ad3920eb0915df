// What one machine tells another about itself for `peerstore status`: the
// keys and bytes its node store holds and whether it is a ring member
// (protocol 'peerstore/rpc/v1', method NodeStats). Each message starts with a
// flags uint, so a later version can add fields; a node that predates the
// method answers EUNKNOWNMETHOD and its share shows as unknown.

import c from 'compact-encoding'
import type { PeerNetwork } from '../net'
import type { NodeStore } from '../storage'
import { reservedFlags } from './watch-messages'

export const NODE_STATS_METHOD = 'NodeStats'

/** How long status waits for one machine's answer: an unknown share is better than a slow status. */
const ASK_TIMEOUT_MS = 2_000

export interface MachineStats {
  member: boolean
  keys: number
  bytes: number
}

export const NodeStatsRequest = {
  preencode(state: c.State, _m: Record<string, never>) {
    reservedFlags.preencode(state)
  },
  encode(state: c.State, _m: Record<string, never>) {
    reservedFlags.encode(state)
  },
  decode(state: c.State): Record<string, never> {
    reservedFlags.decode(state)
    return {}
  }
}

export const NodeStatsResponse = {
  preencode(state: c.State, m: MachineStats) {
    reservedFlags.preencode(state)
    c.bool.preencode(state, m.member)
    c.uint.preencode(state, m.keys)
    c.uint.preencode(state, m.bytes)
  },
  encode(state: c.State, m: MachineStats) {
    reservedFlags.encode(state)
    c.bool.encode(state, m.member)
    c.uint.encode(state, m.keys)
    c.uint.encode(state, m.bytes)
  },
  decode(state: c.State): MachineStats {
    reservedFlags.decode(state)
    return { member: c.bool.decode(state), keys: c.uint.decode(state), bytes: c.uint.decode(state) }
  }
}

/** Answers NodeStats from this machine's store (a storing node only: a client holds nothing). */
export function serveMachineStats(network: PeerNetwork, store: NodeStore, isMember: () => boolean): void {
  network.respond(NODE_STATS_METHOD, NodeStatsRequest, NodeStatsResponse, async () => {
    const s = await store.stats()
    return { member: isMember(), keys: s.keys, bytes: s.bytes }
  })
}

/** Each machine's answer, or null for one that did not answer in time (or predates the method). */
export async function askMachineStats(
  network: PeerNetwork,
  machines: string[]
): Promise<Map<string, MachineStats | null>> {
  const answers = await Promise.all(
    machines.map((hex) =>
      network
        .request(Buffer.from(hex, 'hex'), NODE_STATS_METHOD, {}, NodeStatsRequest, NodeStatsResponse, {
          timeoutMs: ASK_TIMEOUT_MS
        })
        .catch(() => null)
    )
  )
  return new Map(machines.map((hex, i) => [hex, answers[i]]))
}
