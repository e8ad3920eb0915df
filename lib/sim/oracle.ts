// Ground truth the simulator judges the protocol against: which virtual
// nodes are live members, hence the true successor of any key, and whether
// every node's successor and predecessor pointers are the true ones.

import type { ChordNode } from '../chord/node'
import { RING_SIZE } from '../chord/id'
import { distance } from '../chord/interval'
import type { NodeRef } from '../chord/messages'

export class Oracle {
  private ids: bigint[] = []
  private refs: NodeRef[] = []

  /** Rebuilds the truth from the member virtual nodes of the given live machines. */
  rebuild(nodes: Iterable<ChordNode>): void {
    const all: NodeRef[] = []
    for (const n of nodes) for (const v of n.vnodes) if (v.member) all.push(v.ref)
    all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    this.refs = all
    this.ids = all.map((r) => r.id)
  }

  get size(): number {
    return this.ids.length
  }

  /** The first member at or after key. */
  successor(key: bigint): NodeRef | null {
    const i = this.indexAtOrAfter(key)
    return i < 0 ? null : this.refs[i]
  }

  /** The first member strictly after id. */
  next(id: bigint): NodeRef | null {
    return this.successor((id + 1n) % RING_SIZE)
  }

  /** The last member strictly before id. */
  previous(id: bigint): NodeRef | null {
    const n = this.refs.length
    if (n === 0) return null
    const i = this.indexAtOrAfter(id)
    return this.refs[(i - 1 + n) % n]
  }

  /** Every member's first successor and predecessor are the true ones. */
  consistent(nodes: Iterable<ChordNode>): boolean {
    for (const n of nodes) {
      for (const v of n.vnodes) {
        if (!v.member) continue
        const succ = this.next(v.id)
        const pred = this.previous(v.id)
        if (this.refs.length === 1) {
          if (v.successors.length !== 0) return false
          continue
        }
        if (v.successors[0]?.id !== succ?.id || v.predecessor?.id !== pred?.id) return false
      }
    }
    return true
  }

  /** How many member vnodes have a wrong first successor, and a wrong predecessor (progress lines). */
  wrongPointers(nodes: Iterable<ChordNode>): { successors: number; predecessors: number } {
    let successors = 0
    let predecessors = 0
    for (const n of nodes) {
      for (const v of n.vnodes) {
        if (!v.member || this.refs.length === 1) continue
        if (v.successors[0]?.id !== this.next(v.id)?.id) successors++
        if (v.predecessor?.id !== this.previous(v.id)?.id) predecessors++
      }
    }
    return { successors, predecessors }
  }

  /** Clockwise arc (previous, id] owned by each member, for load figures. */
  arcs(): { ref: NodeRef; arc: bigint }[] {
    const n = this.refs.length
    return this.refs.map((ref, i) => ({
      ref,
      arc: n === 1 ? RING_SIZE : distance(this.refs[(i - 1 + n) % n].id, ref.id)
    }))
  }

  private indexAtOrAfter(key: bigint): number {
    const n = this.ids.length
    if (n === 0) return -1
    let lo = 0
    let hi = n
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.ids[mid] < key) lo = mid + 1
      else hi = mid
    }
    return lo === n ? 0 : lo
  }
}
