// Every message two Chord nodes exchange. They are plain data so that the
// network layer can write one compact-encoding schema per type:
//   - Id: bigint in [0, 2^256), on the wire 32 bytes big-endian (id.ts: idToBuffer/idFromBuffer)
//   - NodeRef: { id: Id, address: string }, address is opaque to Chord (the
//     hex hyperswarm public key in the real network, 'm42' in the simulator)
//   - NodeRef | null: a presence byte then the NodeRef
//   - arrays: a length prefix then the items (successor lists are ≤ 32 long)
//
// Requests are addressed to a machine (the transport's `to` address) and name
// the virtual node they concern in `to` (a machine hosts several; see node.ts).
// A request for a virtual node the machine does not host is answered with an
// error whose code is 'ENOTMEMBER'.

import type { Id } from './id'

export interface NodeRef {
  id: Id
  address: string
}

/**
 * Stabilize (and ping): "tell me your predecessor and successor list". With
 * `notify` set, the receiver first applies the rectify rule with `notify` as
 * the candidate predecessor (Zave's notified/rectify, piggybacked so that a
 * stable ring costs one round trip per node per round).
 */
export interface StateRequest {
  type: 'state'
  to: Id
  notify: NodeRef | null
}

export interface StateResponse {
  type: 'state'
  predecessor: NodeRef | null
  successors: NodeRef[]
}

/**
 * One step of an iterative lookup for `key`. `exclude` lists machine
 * addresses the asker found unreachable during this lookup, so the answer
 * routes around them.
 */
export interface LookupRequest {
  type: 'lookup'
  key: Id
  exclude: string[]
}

/**
 * done = true: `nodes` is the key's owner followed by its successors (the
 * responder's successor list from the owner on), so replicas are known without
 * another round trip. done = false: `nodes` are the closest preceding nodes
 * the responder knows, best first; the asker continues with the first that
 * answers.
 */
export interface LookupResponse {
  type: 'lookup'
  done: boolean
  nodes: NodeRef[]
}

/**
 * Graceful leave: `leaving` is going away. Sent to its successor with
 * `predecessor` (the successor's new predecessor) and to its predecessor with
 * `successors` (the leaving node's successor list, to splice in).
 */
export interface LeaveRequest {
  type: 'leave'
  to: Id
  leaving: NodeRef
  predecessor: NodeRef | null
  successors: NodeRef[]
}

/**
 * "`node` has just joined right after you": sent by a joining node to its
 * predecessor so that it does not wait for stabilize to walk back to it. The
 * receiver checks it exactly as stabilize would (node ∈ (me, my successor)
 * and node answers) before adopting it.
 */
export interface HintRequest {
  type: 'hint'
  to: Id
  node: NodeRef
}

export interface AckResponse {
  type: 'ack'
}

export type ChordRequest = StateRequest | LookupRequest | LeaveRequest | HintRequest
export type ChordResponse = StateResponse | LookupResponse | AckResponse

/** The response type each request type is answered with. */
export interface ResponseOf {
  state: StateResponse
  lookup: LookupResponse
  leave: AckResponse
  hint: AckResponse
}

export function sameNode(a: NodeRef | null | undefined, b: NodeRef | null | undefined): boolean {
  if (!a || !b) return a === b
  return a.id === b.id && a.address === b.address
}
