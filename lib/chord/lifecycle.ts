// A machine's life in the ring: create a ring alone or join one (Zave: a
// virtual node is a member only once it copied its successor's list), the
// maintenance timers that run while it is in, and a graceful leave or a
// close.

import type { Handoff, NodeCore } from './core'
import { distance, inOpen } from './interval'
import { refreshFingers } from './fingers'
import { heal, healThrough } from './heal'
import { findSuccessor } from './lookup'
import type { NodeRef } from './messages'
import { stabilizeVnode, WALK_STEPS } from './stabilize'
import { reconcile } from './successor-list'
import { rpcError } from './transport'
import { verified } from './trust'
import type { VirtualNode } from './virtual-node'
import { safetyCatch } from '../common/resource'

/** Emitted by a leaving machine, per virtual node: hand keys in (predecessor, vnode] to successor. */

/** Starts a new ring made of this machine alone. */
export function create(core: NodeCore): void {
  core.assertOpen()
  const n = core.sorted.length
  for (let i = 0; i < n; i++) {
    const v = core.sorted[i]
    const list: NodeRef[] = []
    for (let j = 1; j < n && list.length < core.config.successors; j++) list.push(core.sorted[(i + j) % n].ref)
    v.member = true
    core.setSuccessors(v, list)
    if (n > 1) core.setPredecessor(v, core.sorted[(i - 1 + n) % n].ref, 'join')
  }
  start(core)
}

/**
 * Joins the ring through any member among `bootstrap`.
 * Each virtual node looks up its own successor through that member and
 * becomes a member once it has copied the successor's list.
 */
export async function join(core: NodeCore, bootstrap: string[]): Promise<void> {
  core.assertOpen()
  for (const a of bootstrap) if (a !== core.address && !core.bootstrap.includes(a)) core.bootstrap.push(a)
  if (core.isMember) {
    // Already in a ring (e.g. one we created alone): joining another ring
    // is the partition-merge case, done by looking ourselves up through it.
    for (const via of bootstrap) if (via !== core.address && (await healThrough(core, via))) return
    throw rpcError('EPEERUNREACHABLE', 'no bootstrap peer answered with another ring')
  }
  let lastErr: unknown = rpcError('EPEERUNREACHABLE', 'no bootstrap peer')
  for (const via of bootstrap) {
    if (via === core.address) continue
    try {
      // The first virtual node proves the peer is a member; the others may
      // then route through our own table, which now knows part of the ring.
      await joinVnode(core, core.vnodes[0], via)
      await Promise.allSettled(core.vnodes.slice(1).map((v) => joinVnode(core, v, via)))
      start(core)
      // A virtual node whose join failed (a lost reply, a dead successor)
      // tries again through our own, now populated, routing table.
      for (const v of core.vnodes) if (!v.member) retryJoin(core, v, 1)
      core.events.emit('joined')
      return
    } catch (err) {
      lastErr = err
    }
  }
  throw lastErr
}

function retryJoin(core: NodeCore, v: VirtualNode, attempt: number): void {
  core.after(core.config.stabilizeMs * Math.min(attempt, 10), () => {
    if (v.member) return
    joinVnode(core, v, core.allPeers()[0] ?? core.address).catch(() => retryJoin(core, v, attempt + 1))
  })
}

async function joinVnode(core: NodeCore, v: VirtualNode, via: string): Promise<void> {
  const res = await findSuccessor(core, v.id, { via: core.isMember ? undefined : via })
  let s = res.node
  let tail = res.successors.slice(1)
  if (s.id === v.id) {
    // Our id is already in the ring (we are rejoining): our successor follows it.
    if (tail.length === 0) throw rpcError('ENOTMEMBER', 'ring holds only our own id')
    s = tail[0]
    tail = tail.slice(1)
  }
  // Walk back to the closest successor (others may have joined in front
  // of s meanwhile), then copy its list before becoming a member (Zave).
  let state = await core.rpc(s.address, { type: 'state', to: s.id, notify: null }, 2)
  for (let step = 0; step < WALK_STEPS; step++) {
    const p = state.predecessor
    if (!p || p.id === v.id || !inOpen(p.id, v.id, s.id)) break
    try {
      state = await core.rpc(p.address, { type: 'state', to: p.id, notify: null }, 2)
      s = p
      tail = []
    } catch {
      break
    }
  }
  const list = (
    await verified(
      core,
      s.address,
      reconcile(v.id, s, state.successors.length > 0 ? state.successors : tail, core.config.successors)
    )
  ).filter((e) => !core.hasDeparted(e.address))
  if (list.length === 0) throw rpcError('ENOTMEMBER', 'no successor found')
  v.member = true
  core.setSuccessors(v, list)
  core.events.emit('vnode-joined', v.ref)
  // Announce ourselves to the successor now (notify) and to the
  // predecessor it had (hint), rather than waiting for their next rounds.
  core.rpc(s.address, { type: 'state', to: s.id, notify: v.ref }, 2).catch(safetyCatch)
  const p = state.predecessor
  if (p && p.id !== v.id && !inOpen(p.id, v.id, s.id)) {
    core.rpc(p.address, { type: 'hint', to: p.id, node: v.ref }).catch(safetyCatch)
  }
}

/** Graceful leave: tells each neighbour, after the hand-off hook ran. Then closes. */
export async function leave(core: NodeCore): Promise<void> {
  if (core.closed) return
  core.stopTimers()
  const handoffs: Handoff[] = []
  for (const v of core.vnodes) {
    if (!v.member) continue
    const succs = externalSuccessors(core, v)
    handoffs.push({ vnode: v.ref, predecessor: externalPredecessor(core, v), successor: succs[0] ?? null })
  }
  for (const h of handoffs) core.events.emit('leaving', h)
  if (core.beforeLeave) await core.beforeLeave(handoffs)
  // From here on a joiner or stabilizer that asks us gets ENOTMEMBER and
  // moves on, instead of copying a list that starts with a machine about to go.
  core.leaving = true
  // The neighbours as they are now: the hand-off may have taken a while,
  // and a node that joined next to us meanwhile must be told too.
  const sends: Promise<unknown>[] = []
  for (const v of core.vnodes) {
    if (!v.member) continue
    const succs = externalSuccessors(core, v)
    const pred = externalPredecessor(core, v)
    const s = succs[0]
    if (s) {
      sends.push(core.rpc(s.address, { type: 'leave', to: s.id, leaving: v.ref, predecessor: pred, successors: [] }))
    }
    if (pred) {
      sends.push(
        core.rpc(pred.address, { type: 'leave', to: pred.id, leaving: v.ref, predecessor: null, successors: succs })
      )
    }
  }
  await Promise.allSettled(sends)
  close(core)
}

/** Stops at once, without telling anyone (a crash, as far as the ring can tell). */
export function close(core: NodeCore): void {
  if (core.closed) return
  core.closed = true
  core.stopTimers()
  for (const v of core.vnodes) v.member = false
  core.events.emit('close')
}

function start(core: NodeCore): void {
  if (core.started) return
  core.started = true
  const { stabilizeMs, fingerRefreshMs, healMs } = core.config
  core.every(stabilizeMs, () => {
    // Per virtual node, so that one slow walk does not hold up the others.
    for (const v of core.vnodes) {
      if (!v.member || v.stabilizing) continue
      if (v.skipRounds > 0) {
        v.skipRounds--
        continue
      }
      v.stabilizing = true
      stabilizeVnode(core, v)
        .catch(safetyCatch)
        .finally(() => {
          v.stabilizing = false
        })
    }
  })
  // Fingers are refreshed at once, then adaptively: soon again while many
  // of them changed (the ring is growing), up to fingerRefreshMs apart
  // once they stop changing.
  let interval = Math.min(fingerRefreshMs, 10 * stabilizeMs)
  const refresh = (concurrency: number) => {
    refreshFingers(core, concurrency)
      .catch(() => 0)
      .then((changed) => {
        interval = changed > 0.02 ? Math.max(10 * stabilizeMs, interval / 2) : Math.min(fingerRefreshMs, interval * 2)
        core.after(interval * (0.9 + 0.2 * core.random()), () => refresh(core.config.fingerConcurrency))
      })
  }
  core.after(0, () => refresh(2 * core.config.fingerConcurrency))
  if (healMs > 0) {
    core.every(healMs, () => {
      heal(core).catch(safetyCatch)
    })
  }
}

/** v's predecessor, skipping our own virtual nodes (for leave). */
function externalPredecessor(core: NodeCore, v: VirtualNode): NodeRef | null {
  let p = v.predecessor
  for (let i = 0; p && p.address === core.address && i < core.vnodes.length; i++) {
    p = core.byId.get(p.id)?.predecessor ?? null
  }
  return p && p.address !== core.address ? p : null
}

/**
 * v's successors on other machines, r of them if we know that many. Our own
 * vnodes in v's list are read through: their lists continue v's (for leave,
 * where a list of only our own vnodes would hand the neighbours nothing).
 */
function externalSuccessors(core: NodeCore, v: VirtualNode): NodeRef[] {
  const out: NodeRef[] = []
  let last = 0n
  let list: readonly NodeRef[] = v.successors
  for (let expanded = 0; expanded <= core.vnodes.length && out.length < core.config.successors; expanded++) {
    let farthestOwn: VirtualNode | undefined
    for (const e of list) {
      const d = distance(v.id, e.id)
      if (d === 0n) break // wrapped back to v
      if (d <= last) continue
      last = d
      if (e.address !== core.address) out.push(e)
      else farthestOwn = core.byId.get(e.id)
      if (out.length >= core.config.successors) break
    }
    if (!farthestOwn?.member) break
    list = farthestOwn.successors
  }
  return out
}
