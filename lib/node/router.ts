// What the file service and the ring client need from Chord: who is
// responsible for a key. Kept as an interface so that a client-only node
// (not a ring member) can route through a member it is connected to.

import { type ChordNode, idToBuffer, type NodeRef } from '../chord'
import { FileKind } from './file-messages'

export interface Router {
  /** The key's owner then the next machines: k distinct machines (fewer in a smaller ring). */
  responsible(key: Buffer, k: number): Promise<NodeRef[]>
}

/** A member's router (a client-only node routes through a gateway: RingNode.routeThroughGateway). */
export function chordRouter(chord: ChordNode): Router {
  return {
    responsible(key, k) {
      // confirm: the owner is contacted before the answer counts, which routes
      // around dead machines and joiners the routing tables do not know yet
      // (without it, ~2.4% of lookups were wrong while a ring repaired).
      return chord.responsibleNodes(key, k, { confirm: true })
    }
  }
}

export function nodeKey(ref: NodeRef): Buffer {
  return Buffer.from(ref.address, 'hex')
}

export function refLabel(ref: NodeRef): string {
  return `${idToBuffer(ref.id).subarray(0, 4).toString('hex')}@${ref.address.slice(0, 8)}`
}

/** The wire kind of a value as the node store names it. */
export function fileKindOf(kind: 'immutable' | 'record'): FileKind {
  return kind === 'record' ? FileKind.Record : FileKind.Immutable
}
