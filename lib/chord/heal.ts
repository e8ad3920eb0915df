// Repairs beyond Zave's stabilize: adopting a closer successor we learn of
// (a probe, a hint, a lookup through a remembered peer, which merges rings
// after a partition) and refilling a successor list that ran empty.

import type { NodeCore } from './core'
import { RING_MASK } from './id'
import { distance, inOpen } from './interval'
import { findSuccessor } from './lookup'
import type { NodeRef } from './messages'
import { reconcile } from './successor-list'
import { markUnreachable, recentlyUnreachable, verified } from './trust'
import type { VirtualNode } from './virtual-node'
import { safetyCatch } from '../common/resource'

/**
 * Looks one of our virtual nodes up through a remembered peer. If that peer
 * is in another ring (a healed partition) the answer is a closer successor,
 * which we adopt; then we do the same for every virtual node at once.
 */
export async function heal(core: NodeCore): Promise<boolean> {
  const peers = core.allPeers()
  if (peers.length === 0) return false
  return healThrough(core, peers[Math.floor(core.random() * peers.length)])
}

/**
 * A peer address learned from outside the ring (discovery, a new
 * connection): remembered for healing, and looked through once soon, which
 * merges our ring with its ring if they differ.
 */
export function addPeer(core: NodeCore, address: string): void {
  if (address === core.address || core.closed) return
  core.remember(address, true)
  if (core.started)
    core.after(core.config.rpcTimeoutMs * core.random(), () => healThrough(core, address).catch(safetyCatch))
}

export async function healThrough(core: NodeCore, via: string): Promise<boolean> {
  const members = core.vnodes.filter((v) => v.member)
  if (core.healing || core.closed || members.length === 0) return false
  core.healing = true
  try {
    const first = members[Math.floor(core.random() * members.length)]
    if (!(await healVnode(core, first, via))) return false
    await Promise.all(members.filter((v) => v !== first).map((v) => healVnode(core, v, via)))
    return true
  } finally {
    core.healing = false
  }
}

async function healVnode(core: NodeCore, v: VirtualNode, via: string): Promise<boolean> {
  try {
    const res = await findSuccessor(core, (v.id + 1n) & RING_MASK, { via })
    const s = res.node
    if (s.id === v.id || !v.member) return false
    const current = v.successors[0]
    if (current && !inOpen(s.id, v.id, current.id)) return false
    return await adoptSuccessor(core, v, s)
  } catch {
    return false
  }
}

/**
 * A node we know of (a finger, another vnode's neighbour, one of our own
 * vnodes) that lies between v and its successor s is a better successor
 * if it answers. Stabilize alone only learns of it once s hears from it,
 * which after a burst of joins can take many rounds (two interleaved
 * chains each look right from inside). In a settled ring no such node is
 * known, so this costs nothing there.
 */
export async function probeCloserSuccessor(core: NodeCore, v: VirtualNode, s: NodeRef): Promise<void> {
  const bound = distance(v.id, s.id)
  const now = core.timers.now()
  const own = core.nextOwnVnode(v)
  let x: NodeRef | null = own?.member && distance(v.id, own.id) < bound ? own.ref : null
  const remote = core.routing.firstAfter(
    v.id,
    x ? distance(v.id, x.id) : bound,
    (e) => recentlyUnreachable(core, e.address) || core.hasDeparted(e.address)
  )
  if (remote) x = remote
  if (!x || core.closed) return
  if (!(await adoptSuccessor(core, v, x)) && x.address !== core.address) markUnreachable(core, x.address, now)
}

/**
 * A member whose successor list ran empty: alone in the ring, or every
 * successor died. Alone, it adopts whoever notified it; otherwise it looks
 * for its successor like a joining node, through anything it still knows.
 */
export async function repairEmptyList(core: NodeCore, v: VirtualNode): Promise<void> {
  const p = v.predecessor
  if (p && p.id !== v.id) {
    try {
      const res = await core.rpc(p.address, { type: 'state', to: p.id, notify: v.ref }, 2)
      const list = await verified(core, p.address, reconcile(v.id, p, res.successors, core.config.successors))
      if (v.successors.length === 0) core.setSuccessors(v, list)
      return
    } catch (err) {
      core.onRpcFailure(p.address, err)
      if (v.predecessor?.id === p.id) core.setPredecessor(v, null, 'failure')
    }
  }
  if (core.routing.size === 0 && core.allPeers().length === 0) return
  try {
    const res = await findSuccessor(core, (v.id + 1n) & RING_MASK)
    if (v.successors.length === 0 && res.node.id !== v.id) await adoptSuccessor(core, v, res.node)
  } catch {
    // Nothing reachable now; the heal timer retries through remembered peers.
  }
}

/** Makes `s` the first successor of v if it answers, copying its list. */
export async function adoptSuccessor(core: NodeCore, v: VirtualNode, s: NodeRef): Promise<boolean> {
  try {
    const res = await core.rpc(s.address, { type: 'state', to: s.id, notify: v.ref }, 2)
    const list = await verified(core, s.address, reconcile(v.id, s, res.successors, core.config.successors))
    const current = v.successors[0]
    if (!core.closed && (!current || inOpen(s.id, v.id, current.id))) {
      core.setSuccessors(v, list)
      return true
    }
  } catch (err) {
    core.onRpcFailure(s.address, err)
  }
  return false
}
