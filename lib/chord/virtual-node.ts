// The ring state of one virtual node: its place (id), predecessor, successor
// list and fingers. Plain data plus the few pure rules about it; the protocol
// that changes it over the network lives in the modules behind node.ts.

import type { Id } from './id'
import { addPow2, distance } from './interval'
import type { NodeRef } from './messages'

export class VirtualNode {
  readonly ref: NodeRef
  readonly index: number
  predecessor: NodeRef | null = null
  /** Ordered from this node, no self, no duplicates, at most r long. */
  successors: NodeRef[] = []
  /**
   * fingers.get(k) = first node at or after id + 2^k, for the levels this
   * node maintains (see fingers.ts fingerLevels): about ten of the 256, so a map
   * rather than a mostly empty array (160,000 vnodes at N = 10,000).
   */
  readonly fingers = new Map<number, NodeRef>()
  /**
   * Zave's membership: a joining node is not a member until it has a
   * successor; only members take part in stabilization and answer as owners.
   */
  member = false
  /** When the predecessor last stabilized with us (virtual or real ms). */
  predecessorSeenAt = 0
  /** A stabilize round of this node is in flight. */
  stabilizing = false
  /** Stabilize rounds in a row that changed nothing (see stabilize.ts, quiet back-off). */
  quietRounds = 0
  /** Stabilize rounds still to skip before the next one. */
  skipRounds = 0
  /** A liveness check of the predecessor is in flight (rectify). */
  checkingPredecessor = false
  /** Best notifier seen while the predecessor is being checked. */
  pendingPredecessor: NodeRef | null = null

  constructor(id: Id, address: string, index: number) {
    this.ref = { id, address }
    this.index = index
  }

  get id(): Id {
    return this.ref.id
  }

  get successor(): NodeRef | null {
    return this.successors.length > 0 ? this.successors[0] : null
  }

  fingerStart(k: number): Id {
    return addPow2(this.id, k)
  }

  /** Clockwise distance covered by the successor list (0 when empty). */
  successorReach(): Id {
    const last = this.successors[this.successors.length - 1]
    return last ? distance(this.id, last.id) : 0n
  }
}
