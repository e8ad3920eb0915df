// Lookups: who owns a key. Iterative, from the closest preceding machine
// known so far, routing around machines that do not answer; optionally
// confirmed with the owner itself (a node may have joined in front of it).

import type { NodeCore } from './core'
import { type Id, type KeyLike, RING_SIZE, toId } from './id'
import { distance, inHalfOpen } from './interval'
import type { LookupResponse, NodeRef } from './messages'
import { rpcError } from './transport'

export interface LookupOptions {
  /** Start at this machine instead of our own routing table (healing, joining). */
  via?: string
  /** Contact the owner before answering, skipping dead ones (costs one hop). */
  confirm?: boolean
  /** Machines to route around and leave out of the answer. */
  exclude?: readonly string[]
}

export interface LookupResult {
  /** The key's owner (its successor on the ring). */
  node: NodeRef
  /** The owner and the nodes after it, as known by the answering node. */
  successors: NodeRef[]
  /** Remote machines contacted; the origin does not count. */
  hops: number
}

const LOOKUP_FANOUT = 3
/** Predecessors followed from a confirmed owner towards the key (nodes that just joined in front of it). */
const CONFIRM_WALK_STEPS = 2

/**
 * Iterative lookup of key's owner. Each step asks the closest preceding
 * machine known so far; unreachable machines are excluded and the lookup
 * backs up to the next candidate, so it routes around failures.
 */
export async function findSuccessor(core: NodeCore, key: KeyLike, opts: LookupOptions = {}): Promise<LookupResult> {
  const k = toId(key)
  const dead = new Set<string>(opts.exclude)
  const stack: NodeRef[][] = []
  let hops = 0
  let restarts = 0
  let step: { done: boolean; nodes: NodeRef[] }
  if (opts.via && opts.via !== core.address) {
    step = { done: false, nodes: [] }
    stack.push([{ id: k, address: opts.via }])
  } else {
    step = routeStep(core, k, dead)
  }
  for (let i = 0; i < core.config.maxLookupSteps; i++) {
    if (step.done) {
      let nodes = step.nodes.filter((n) => !dead.has(n.address))
      if (opts.confirm) {
        const confirmed = await confirmOwner(core, k, nodes, dead)
        hops += confirmed.contacts
        nodes = confirmed.nodes
      }
      if (nodes.length > 0) return { node: nodes[0], successors: nodes, hops }
    } else if (step.nodes.length > 0) {
      stack.push(step.nodes.slice())
    }
    const next = popCandidate(stack, dead)
    if (!next) {
      // Every candidate so far failed: start again from what we know now.
      if (++restarts > 3 || opts.via) break
      step = routeStep(core, k, dead)
      if (!step.done && step.nodes.length === 0) break
      continue
    }
    hops++
    try {
      // Two attempts: one lost message must not make a live owner look dead.
      step = await core.rpc(next.address, { type: 'lookup', key: k, exclude: [...dead] }, 2)
    } catch (err) {
      dead.add(next.address)
      core.onRpcFailure(next.address, err)
      step = { done: false, nodes: [] }
    }
  }
  throw rpcError('ETIMEDOUT', `lookup of ${k.toString(16).slice(0, 8)} failed after ${hops} hops`)
}

/**
 * The machines responsible for key: its owner then the next machines on
 * the ring, k distinct machines in all (fewer when the ring is smaller).
 */
export async function responsibleNodes(
  core: NodeCore,
  key: KeyLike,
  k = 3,
  opts: LookupOptions = {}
): Promise<NodeRef[]> {
  const res = await findSuccessor(core, key, opts)
  const list = res.successors.slice()
  // With virtual nodes r successors may span fewer than k machines, and a
  // machine that joined a moment ago knows few successors yet: read further
  // along the ring until k machines or the list wraps. A machine that does
  // not answer is passed over for the one before it in the list (giving up
  // at the first silent one answered fewer than k under load).
  const silent = new Set<string>()
  for (let i = 0; i < 2 * k && distinctMachines(list, k).length < k; i++) {
    const from = [...list].reverse().find((n) => !silent.has(n.address))
    if (!from) break
    try {
      const more = await core.rpc(from.address, { type: 'state', to: from.id, notify: null }, 2)
      const before = list.length
      for (const n of more.successors) if (!list.some((e) => e.id === n.id)) list.push(n)
      if (list.length === before) break
    } catch (err) {
      silent.add(from.address)
      core.onRpcFailure(from.address, err)
    }
  }
  return distinctMachines(list, k)
}

/** The answer to one lookup step, from this machine's own state. */
export function routeStep(core: NodeCore, key: Id, exclude: ReadonlySet<string>): LookupResponse {
  const u = core.closestOwnMember(key)
  if (!u) {
    return {
      type: 'lookup',
      done: false,
      nodes: core.routing.closestPreceding(key, RING_SIZE, LOOKUP_FANOUT, exclude)
    }
  }
  const r = core.config.successors
  if (u.id === key) return { type: 'lookup', done: true, nodes: [u.ref, ...u.successors].slice(0, r) }
  const live = exclude.size === 0 ? u.successors : u.successors.filter((s) => !exclude.has(s.address))
  if (u.successors.length === 0) return { type: 'lookup', done: true, nodes: [u.ref] }
  if (live.length > 0 && inHalfOpen(key, u.id, live[0].id)) return { type: 'lookup', done: true, nodes: live.slice() }
  const nodes = core.routing.closestPreceding(key, distance(u.id, key), LOOKUP_FANOUT, exclude)
  if (nodes.length === 0 && live.length > 0) nodes.push(live[0])
  return { type: 'lookup', done: false, nodes }
}

/**
 * Contacts the owner candidates in order and returns the list from the
 * first that answers. The answer names its predecessor p: if p lies in
 * [key, owner), a node joined in front of the owner that the answering node
 * did not know yet, and p is the true owner; it is confirmed in turn.
 */
async function confirmOwner(
  core: NodeCore,
  key: Id,
  nodes: NodeRef[],
  dead: Set<string>
): Promise<{ nodes: NodeRef[]; contacts: number }> {
  let contacts = 0
  for (let i = 0; i < nodes.length; i++) {
    let c = nodes[i]
    let list = nodes.slice(i)
    let confirmed: NodeRef[] | null = null
    for (let step = 0; step <= CONFIRM_WALK_STEPS; step++) {
      let pred: NodeRef | null
      if (c.address === core.address) {
        pred = core.byId.get(c.id)?.predecessor ?? null
      } else {
        contacts++
        try {
          pred = (await core.rpc(c.address, { type: 'state', to: c.id, notify: null }, 2)).predecessor
        } catch (err) {
          dead.add(c.address)
          core.onRpcFailure(c.address, err)
          break
        }
      }
      confirmed = list
      // A predecessor this lookup found unreachable is asked once more: two
      // lost messages in a row must not make us skip a live owner.
      if (!pred || distance(key, pred.id) >= distance(key, c.id)) break
      dead.delete(pred.address)
      c = pred
      list = [pred, ...list]
    }
    if (confirmed) return { nodes: confirmed, contacts }
  }
  return { nodes: [], contacts }
}

function popCandidate(stack: NodeRef[][], dead: ReadonlySet<string>): NodeRef | undefined {
  while (stack.length > 0) {
    const top = stack[stack.length - 1]
    while (top.length > 0) {
      const c = top.shift()!
      if (!dead.has(c.address)) return c
    }
    stack.pop()
  }
  return undefined
}

/** The first k entries on distinct machines. */
export function distinctMachines(list: readonly NodeRef[], k: number): NodeRef[] {
  const seen = new Set<string>()
  const out: NodeRef[] = []
  for (const n of list) {
    if (out.length >= k) break
    if (seen.has(n.address)) continue
    seen.add(n.address)
    out.push(n)
  }
  return out
}
