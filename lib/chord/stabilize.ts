// Zave's ring maintenance: stabilize (ask the first successor for its
// predecessor and list, adopt a closer successor, reconcile the list,
// notify it) and rectify (what a notify does at the successor).

import type { NodeCore } from './core'
import { inOpen } from './interval'
import { findSuccessor } from './lookup'
import type { NodeRef, StateResponse } from './messages'
import { probeCloserSuccessor, repairEmptyList } from './heal'
import { reconcile } from './successor-list'
import { verified } from './trust'
import type { VirtualNode } from './virtual-node'

/** Quiet back-off of stabilize (see stabilizeVnode): at most this many rounds skipped in a row. */
const MAX_SKIP = 3
/** Quiet rounds per extra skipped round. */
const QUIET_PER_SKIP = 3
/** Predecessor pointers followed per stabilize round (and per join). */
export const WALK_STEPS = 8

/** One stabilization round for every member virtual node. */
export async function stabilize(core: NodeCore): Promise<void> {
  if (core.closed) return
  await Promise.all(core.vnodes.filter((v) => v.member).map((v) => stabilizeVnode(core, v)))
}

/**
 * One stabilize round of v, then the quiet back-off: a vnode whose round
 * changed nothing, and whose successor names it as predecessor, stabilizes
 * less often (every 2nd round after QUIET_PER_SKIP quiet rounds, up to every
 * (MAX_SKIP + 1)th). Any change of its successors or predecessor, a hint or
 * a leave wakes it at once. A settled ring thus costs a fraction of a
 * message per vnode per round; a dead successor is noticed up to MAX_SKIP
 * rounds later, which lookups route around meanwhile (confirm, retries).
 */
export async function stabilizeVnode(core: NodeCore, v: VirtualNode): Promise<void> {
  const before = v.successors
  const seenBy = await stabilizeOnce(core, v)
  const quiet = seenBy && v.successors === before
  v.quietRounds = quiet ? v.quietRounds + 1 : 0
  v.skipRounds = Math.min(MAX_SKIP, Math.floor(v.quietRounds / QUIET_PER_SKIP))
}

/** Zave's stabilize for v. Returns whether v's successor answered naming v as its predecessor. */
async function stabilizeOnce(core: NodeCore, v: VirtualNode): Promise<boolean> {
  let s: NodeRef | null = null
  let res: StateResponse | null = null
  while (v.successors.length > 0 && !core.closed) {
    s = v.successors[0]
    try {
      res = await core.rpc(s.address, { type: 'state', to: s.id, notify: v.ref }, 2)
      break
    } catch (err) {
      core.onRpcFailure(s.address, err)
      // Zave: a dead first successor is dropped and the next one tried.
      if (v.successors[0]?.id === s.id) core.setSuccessors(v, v.successors.slice(1))
      s = null
    }
  }
  if (core.closed) return false
  if (!s || !res) {
    await repairEmptyList(core, v)
    return false
  }
  // Adopt the successor's predecessor while it lies between us; walking
  // several steps per round lets a node catch up with a burst of joins.
  let behind = false
  for (let step = 0; ; step++) {
    const p: NodeRef | null = res.predecessor
    if (!p || p.id === v.id || !inOpen(p.id, v.id, s.id)) break
    if (step === WALK_STEPS) {
      behind = true
      break
    }
    try {
      const pres: StateResponse = await core.rpc(p.address, { type: 'state', to: p.id, notify: v.ref }, 2)
      if (core.closed) return false
      s = p
      res = pres
    } catch (err) {
      core.onRpcFailure(p.address, err)
      break
    }
  }
  if (behind) {
    // Many nodes joined between us and our successor: rather than walk
    // back to them one per step, ask the ring who owns our own id with our
    // machine left out. The answer comes from the node before us, which
    // does not know us yet, and its list starts with our true successor.
    // (Looking up v.id + 1 instead would end at v itself as soon as anyone
    // knows v, and v answers with the stale pointer: two nodes behind in
    // the same stretch then keep each other behind for hundreds of rounds.)
    if (s.address !== core.address) {
      try {
        const found = await findSuccessor(core, v.id, { via: s.address, exclude: [core.address] })
        const closer = found.successors.find((n) => inOpen(n.id, v.id, s!.id))
        if (closer) {
          res = await core.rpc(closer.address, { type: 'state', to: closer.id, notify: v.ref }, 2)
          s = closer
        }
      } catch {}
    }
  }
  const proposed = await verified(core, s.address, reconcile(v.id, s, res.successors, core.config.successors))
  if (core.closed) return false
  const head = v.successors[0]
  if (!head || head.id === s.id || inOpen(s.id, v.id, head.id)) core.setSuccessors(v, proposed)
  await probeCloserSuccessor(core, v, s)
  return res.predecessor?.id === v.id
}

/** Zave's rectify: the notifier n becomes our predecessor if it is a better one or ours is dead. */
export function rectify(core: NodeCore, v: VirtualNode, n: NodeRef): void {
  if (n.id === v.id || core.hasDeparted(n.address)) return
  const p = v.predecessor
  if (!p) {
    core.setPredecessor(v, n, 'repair')
    return
  }
  if (p.id === n.id) {
    v.predecessorSeenAt = core.timers.now()
    return
  }
  if (inOpen(n.id, p.id, v.id)) {
    core.setPredecessor(v, n, 'join')
    return
  }
  // n precedes our predecessor: fine while the predecessor is alive, which
  // we only doubt once it has missed stabilizing with us for two rounds.
  // A quiet predecessor stabilizes with us only every few rounds, so this
  // check can be a false alarm; it costs one ping, and notifiers from
  // before our predecessor are rare outside repair.
  if (core.timers.now() - v.predecessorSeenAt > 2 * core.config.stabilizeMs) checkPredecessor(core, v, n)
}

function checkPredecessor(core: NodeCore, v: VirtualNode, candidate: NodeRef): void {
  const pending = v.pendingPredecessor
  if (!pending || inOpen(candidate.id, pending.id, v.id)) v.pendingPredecessor = candidate
  if (v.checkingPredecessor) return
  const p = v.predecessor!
  v.checkingPredecessor = true
  core.rpc(p.address, { type: 'state', to: p.id, notify: null }, 2).then(
    () => {
      v.checkingPredecessor = false
      v.pendingPredecessor = null
      if (v.predecessor?.id === p.id) v.predecessorSeenAt = core.timers.now()
    },
    (err) => {
      v.checkingPredecessor = false
      const next = v.pendingPredecessor
      v.pendingPredecessor = null
      core.onRpcFailure(p.address, err)
      if (v.predecessor?.id === p.id && !core.closed) core.setPredecessor(v, next, 'failure')
    }
  )
}
