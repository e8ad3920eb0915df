// The answers to the four Chord requests (state, lookup, leave, hint) from
// another machine, or from our own machine answered locally (core.ts rpc).

import type { NodeCore } from './core'
import { inOpen } from './interval'
import { adoptSuccessor } from './heal'
import { routeStep } from './lookup'
import type {
  ChordRequest,
  ChordResponse,
  HintRequest,
  LeaveRequest,
  NodeRef,
  ResponseOf,
  StateRequest,
  StateResponse
} from './messages'
import { rectify } from './stabilize'
import { mergeLists, withoutAddress } from './successor-list'
import { rpcError } from './transport'
import { believed, checkSelf, hear, validRef, verified } from './trust'
import type { VirtualNode } from './virtual-node'
import { safetyCatch } from '../common/resource'

const EMPTY_SET: ReadonlySet<string> = new Set()

/**
 * Answers a request from the machine at `from`. Wire this to the transport:
 * `from` must be the authenticated sender (see transport.ts), because a
 * notify, a hint or a leave is believed only about its sender itself.
 */
export async function handleRequest(core: NodeCore, from: string, req: ChordRequest): Promise<ChordResponse> {
  if (core.closed) throw rpcError('ECLOSED', 'node closed')
  if (core.leaving && req.type !== 'leave') throw rpcError('ENOTMEMBER', 'leaving the ring')
  if (req.type !== 'leave') core.maybeReturned(from)
  // The transport authenticated the sender: it exists and reaches us (see believed).
  if (from !== core.address) hear(core, from)
  switch (req.type) {
    case 'state':
      if (req.notify) checkSelf(core, from, req.notify, 'notify')
      return onState(core, req)
    case 'lookup':
      return routeStep(core, req.key, req.exclude.length > 0 ? new Set(req.exclude) : EMPTY_SET)
    case 'leave':
      checkSelf(core, from, req.leaving, 'leave')
      return onLeave(core, req)
    case 'hint':
      checkSelf(core, from, req.node, 'hint')
      return onHint(core, req)
    default:
      throw rpcError('EBADMESSAGE', `unknown request type ${(req as { type: string }).type}`)
  }
}

function onState(core: NodeCore, req: StateRequest): StateResponse {
  const v = core.byId.get(req.to)
  // Zave: a node that is still joining takes no part in the ring's
  // maintenance; answering with its empty list would make the asker adopt it.
  if (!v?.member) throw rpcError('ENOTMEMBER', 'no such member here')
  if (req.notify) rectify(core, v, req.notify)
  return { type: 'state', predecessor: v.predecessor, successors: v.successors }
}

function onLeave(core: NodeCore, req: LeaveRequest): ResponseOf['leave'] {
  const v = core.byId.get(req.to)
  if (!v) throw rpcError('ENOTMEMBER', 'no such virtual node here')
  const gone = req.leaving.address
  if (gone !== core.address) core.departed.set(gone, core.timers.now())
  core.wake(v)
  // What the leaver says about other machines (its predecessor, its list)
  // is believed at once only for machines we already know (believed); the
  // others are asked first, after the ack: the leaver must not wait for
  // our probes, and a forged list costs us probes, never our view.
  const named = (e: NodeRef | null): e is NodeRef => !!e && e.address !== gone && e.id !== v.id && validRef(core, e)
  const offeredPred = named(req.predecessor) ? req.predecessor : null
  const offered = mergeLists(v.id, [], req.successors.filter(named), core.config.successors)
  const known = offered.filter((e) => believed(core, e))
  const predKnown = !offeredPred || believed(core, offeredPred)
  applyLeave(core, v, gone, predKnown ? { predecessor: offeredPred } : null, known)
  const unknown = offered.filter((e) => !known.includes(e))
  if (!predKnown || unknown.length > 0) {
    const check = predKnown ? unknown : [offeredPred!, ...unknown]
    verified(core, gone, check)
      .then((ok) => {
        if (core.closed) return
        const pred = !predKnown && ok.includes(offeredPred!) ? offeredPred : null
        applyLeave(
          core,
          v,
          gone,
          predKnown ? null : { predecessor: pred },
          unknown.filter((e) => ok.includes(e))
        )
      })
      .catch(safetyCatch)
  }
  core.forgetAddress(gone)
  return { type: 'ack' }
}

/**
 * The leaver `gone` is out of v's list (and of its predecessor if `pred`
 * is given: then pred.predecessor replaces it); `offered` nodes it named
 * are spliced into the list.
 */
function applyLeave(
  core: NodeCore,
  v: VirtualNode,
  gone: string,
  pred: { predecessor: NodeRef | null } | null,
  offered: readonly NodeRef[]
): void {
  if (pred && v.predecessor && v.predecessor.address === gone) core.setPredecessor(v, pred.predecessor, 'leave')
  const kept = withoutAddress(v.successors, gone)
  if (kept.length !== v.successors.length || offered.length > 0) {
    let list = mergeLists(v.id, kept, offered, core.config.successors)
    // An empty list would say "I am alone". If we still have a predecessor
    // we are not: it is a live member, and stabilize walks on from it.
    const p = v.predecessor
    if (list.length === 0 && p && p.address !== gone && p.id !== v.id) list = [p]
    core.setSuccessors(v, list)
  }
}

function onHint(core: NodeCore, req: HintRequest): ResponseOf['hint'] {
  const v = core.byId.get(req.to)
  if (!v) throw rpcError('ENOTMEMBER', 'no such virtual node here')
  core.wake(v)
  const s = v.successors[0]
  if (
    v.member &&
    req.node.id !== v.id &&
    !core.hasDeparted(req.node.address) &&
    (!s || inOpen(req.node.id, v.id, s.id))
  ) {
    adoptSuccessor(core, v, req.node).catch(safetyCatch)
  }
  return { type: 'ack' }
}
