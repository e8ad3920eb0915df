// Fingers: the shortcuts across the ring that make lookups take log N hops.
// Refreshed by lookups, only at the levels that route anywhere useful, and
// checked with one round trip before paying for a lookup.

import type { NodeCore } from './core'
import { type Id, RING_SIZE } from './id'
import { distance, inHalfOpen } from './interval'
import { findSuccessor } from './lookup'
import type { NodeRef } from './messages'
import { believed, probe } from './trust'
import type { VirtualNode } from './virtual-node'

/** Predecessor pointers followed when verifying a finger before falling back to a lookup. */
const FINGER_WALK_STEPS = 3

/**
 * Refreshes the fingers of every member virtual node, `concurrency`
 * lookups at a time. Resolves with the fraction of fingers that changed.
 */
export async function refreshFingers(core: NodeCore, concurrency = core.config.fingerConcurrency): Promise<number> {
  if (core.refreshingFingers || core.closed) return 0
  core.refreshingFingers = true
  const startedAt = core.timers.now()
  const tally = { levels: 0, changed: 0 }
  try {
    const queue = core.vnodes.filter((v) => v.member)
    const worker = async () => {
      for (let v = queue.shift(); v && !core.closed; v = queue.shift()) await refreshVnodeFingers(core, v, tally)
    }
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker))
    if (!core.closed) core.fingersRefreshedAt = startedAt
    return tally.levels === 0 ? 0 : tally.changed / tally.levels
  } finally {
    core.refreshingFingers = false
  }
}

/**
 * The finger levels worth keeping for v: those beyond its successor list's
 * reach (closer ones are in the list) and not far beyond the machine's next
 * own virtual node (farther ones are beaten by that vnode's own fingers).
 */
export function fingerLevels(core: NodeCore, v: VirtualNode): [number, number] {
  const low = bitLength(v.successorReach())
  const next = core.nextOwnVnode(v)
  const gap = next ? distance(v.id, next.id) : RING_SIZE
  const high = Math.min(255, bitLength(gap))
  return [low, high]
}

async function refreshVnodeFingers(
  core: NodeCore,
  v: VirtualNode,
  tally: { levels: number; changed: number }
): Promise<void> {
  const [low, high] = fingerLevels(core, v)
  let known: NodeRef | null = null
  for (let k = low; k <= high && v.member && !core.closed; k++) {
    const start = v.fingerStart(k)
    let found: NodeRef | null = null
    if (known && inHalfOpen(start, v.fingerStart(k - 1), known.id)) {
      found = known
    } else {
      found = await verifyFinger(core, v.fingers.get(k), start)
      if (!found) {
        try {
          found = (await findSuccessor(core, start)).node
        } catch {
          continue
        }
        // Named by the last node of the lookup: a finger only once it answered us.
        if (!believed(core, found) && !(await probe(core, core.address, found))) continue
      }
    }
    known = found
    if (found.id === v.id) continue
    tally.levels++
    if (core.setFinger(v, k, found)) tally.changed++
  }
}

/**
 * The finger f still is the successor of `start` if start ∈ (f.predecessor, f]:
 * one round trip to f instead of a lookup of ½·log2 N hops. If nodes joined
 * in [start, f) since, f's predecessor is one of them: walk back a few
 * steps, as stabilize does. Returns null when that does not settle it (no
 * finger yet, too many joins, a dead node), and the caller looks it up.
 */
async function verifyFinger(core: NodeCore, f: NodeRef | undefined, start: Id): Promise<NodeRef | null> {
  let c = f
  for (let step = 0; c && step < FINGER_WALK_STEPS; step++) {
    if (core.hasDeparted(c.address)) return null
    try {
      const res = await core.rpc(c.address, { type: 'state', to: c.id, notify: null })
      const p = res.predecessor
      if (!p) return null
      if (inHalfOpen(start, p.id, c.id)) return c
      c = p // p ∈ [start, c): closer to start
    } catch (err) {
      core.onRpcFailure(c.address, err)
      return null
    }
  }
  return null
}

function bitLength(x: bigint): number {
  if (x === 0n) return 0
  return x.toString(16).length * 4 - (Math.clz32(Number.parseInt(x.toString(16)[0], 16)) - 28)
}
