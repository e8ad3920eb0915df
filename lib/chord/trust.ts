// Who is believed (docs/chord.md): what another machine says about a node
// enters our routing state only if the node's id is one of its machine's ids,
// and only once the node is known to us or answered a probe. Bounds what one
// peer can make us hold or contact.

import type { NodeCore } from './core'
import { virtualNodeIds } from './id'
import type { ChordResponse, NodeRef } from './messages'
import { rpcError } from './transport'

/** Rounds a machine that failed a probe is not probed again as a closer successor. */
const UNREACHABLE_ROUNDS = 5
/** Machines remembered as having answered us: named by others, they are believed without a probe. */
const HEARD_MACHINES = 256
/**
 * Probes of nodes named by one machine (in its list, its leave) that may be
 * in flight at once; a node named beyond that is not believed. Bounds what
 * one peer can make us hold or contact (docs/chord.md, "Who is believed").
 */
const PROBES_PER_SENDER = 16
/** Probes in flight at once, over all senders. */
const MAX_PROBES = 256
/** Failed-probe entries kept (see unreachable); the oldest go first. */
const MAX_UNREACHABLE = 1024

/**
 * A notify, hint or leave speaks about its sender: the node it names must
 * be on the sender's machine (`from`, authenticated by the transport) and
 * carry one of that machine's ids. Anything else is a forgery: one member
 * could otherwise make us drop a live machine or adopt machines that do
 * not exist (issue 12, item 12).
 */
export function checkSelf(core: NodeCore, from: string, ref: NodeRef, what: string): void {
  if (ref.address === from && validRef(core, ref)) return
  core.refusedMessages++
  throw rpcError('EBADMESSAGE', `a ${what} may only name its sender's own virtual nodes`)
}

/**
 * Whether ref's id is one of the ring ids of its machine's public key (as
 * told by the transport): a message cannot put a machine at a place of its
 * choosing, or name a machine that has no such key.
 */
export function validRef(core: NodeCore, ref: NodeRef): boolean {
  if (ref.address === core.address) return core.byId.has(ref.id)
  const key = core.transport.publicKeyOf(ref.address)
  if (!key) return false
  return virtualNodeIds(key, Math.max(core.config.virtualNodes, core.config.maxVirtualNodes)).has(ref.id)
}

/**
 * Whether a node named by another machine may enter our routing state
 * without a probe: it is on our machine, or on a machine our routing
 * table already holds (every entry got there by this same rule), or on a
 * machine that recently answered a request of ours or sent us one (the
 * transport authenticated it, so it exists and reaches us).
 */
export function believed(core: NodeCore, ref: NodeRef): boolean {
  if (ref.address === core.address) return core.byId.has(ref.id)
  return core.routing.hasMachine(ref.address) || core.heard.has(ref.address)
}

/**
 * The entries of `list` (named by the machine at `from`) we may believe:
 * the believed ones, and the others once they answered a probe. Order is
 * kept. A node that does not answer, or that `from` names beyond
 * PROBES_PER_SENDER probes in flight, is left out; stabilize offers it
 * again next round if it is real.
 */
export async function verified(core: NodeCore, from: string, list: NodeRef[]): Promise<NodeRef[]> {
  if (list.every((e) => believed(core, e))) return list
  const unknown = list.filter((e) => !believed(core, e))
  const answered = await Promise.all(unknown.map((e) => probe(core, from, e)))
  const refused = new Set(unknown.filter((_, i) => !answered[i]))
  return refused.size === 0 ? list : list.filter((e) => !refused.has(e))
}

/** Asks `ref` itself whether it is a member (one state request); shared by concurrent askers. */
export function probe(core: NodeCore, from: string, ref: NodeRef): Promise<boolean> {
  if (core.closed || core.hasDeparted(ref.address) || recentlyUnreachable(core, ref.address)) {
    return Promise.resolve(false)
  }
  const key = `${ref.address} ${ref.id}`
  const pending = core.probes.get(key)
  if (pending) return pending
  const inFlight = core.probesBySender.get(from) ?? 0
  if (inFlight >= PROBES_PER_SENDER || core.probes.size >= MAX_PROBES) return Promise.resolve(false)
  core.probesBySender.set(from, inFlight + 1)
  const p = core
    .rpc(ref.address, { type: 'state', to: ref.id, notify: null }, 2)
    .then(
      () => true,
      (err) => {
        const code = (err as { code?: string }).code
        if (code !== 'ENOTMEMBER' && code !== 'ECLOSED') markUnreachable(core, ref.address)
        core.onRpcFailure(ref.address, err)
        return false
      }
    )
    .finally(() => {
      core.probes.delete(key)
      const n = (core.probesBySender.get(from) ?? 1) - 1
      if (n > 0) core.probesBySender.set(from, n)
      else core.probesBySender.delete(from)
    })
  core.probes.set(key, p)
  return p
}

export function recentlyUnreachable(core: NodeCore, address: string): boolean {
  const failed = core.unreachable.get(address)
  return failed !== undefined && core.timers.now() - failed < UNREACHABLE_ROUNDS * core.config.stabilizeMs
}

export function markUnreachable(core: NodeCore, address: string, at = core.timers.now()): void {
  core.unreachable.delete(address)
  core.unreachable.set(address, at)
  if (core.unreachable.size > MAX_UNREACHABLE) core.unreachable.delete(core.unreachable.keys().next().value as string)
}

/**
 * A machine answered a request of ours, or sent one: it exists (see
 * believed), and an earlier failed probe of it no longer counts (after a
 * partition heals, the other half is probed again at once).
 */
export function hear(core: NodeCore, address: string): void {
  if (core.unreachable.size > 0) core.unreachable.delete(address)
  if (core.heard.delete(address) || core.heard.size < HEARD_MACHINES) {
    core.heard.set(address, true)
    return
  }
  core.heard.delete(core.heard.keys().next().value as string)
  core.heard.set(address, true)
}

/**
 * Drops from an answer every NodeRef whose id is not one of its machine's
 * ids (validRef): nothing downstream ever sees a machine at a forged place.
 */
export function sanitize(core: NodeCore, res: ChordResponse): ChordResponse {
  const ok = (e: NodeRef) => validRef(core, e)
  switch (res.type) {
    case 'state': {
      const predecessor = res.predecessor && !ok(res.predecessor) ? null : res.predecessor
      const successors = res.successors.every(ok) ? res.successors : res.successors.filter(ok)
      if (predecessor === res.predecessor && successors === res.successors) return res
      return { type: 'state', predecessor, successors }
    }
    case 'lookup':
      return res.nodes.every(ok) ? res : { type: 'lookup', done: res.done, nodes: res.nodes.filter(ok) }
    default:
      return res
  }
}
