// A machine's routing state: every node it knows through any of its virtual
// nodes (fingers, successor lists, predecessors), sorted by id, so that
// "closest preceding node of key" is a binary search rather than a scan.
// Virtual nodes of one machine share this table: that is what keeps lookups
// at about ½·log2(machines) hops although the ring has V·machines points.

import type { Id } from './id'
import { distance } from './interval'
import type { NodeRef } from './messages'

export class RoutingTable {
  private entries: NodeRef[] = []
  private dirty = true
  private collect: () => Iterable<NodeRef>
  private ownAddress: string

  constructor(ownAddress: string, collect: () => Iterable<NodeRef>) {
    this.ownAddress = ownAddress
    this.collect = collect
  }

  invalidate(): void {
    this.dirty = true
  }

  get size(): number {
    this.refresh()
    return this.entries.length
  }

  all(): readonly NodeRef[] {
    this.refresh()
    return this.entries
  }

  /**
   * Up to `count` known remote nodes preceding `key` (strictly), closest
   * first, that are closer to key than `bound` (clockwise distance), skipping
   * machines in `exclude`.
   */
  closestPreceding(key: Id, bound: Id, count: number, exclude: ReadonlySet<string>): NodeRef[] {
    this.refresh()
    const n = this.entries.length
    const out: NodeRef[] = []
    if (n === 0) return out
    // Index of the last entry with id < key, wrapping to the end.
    let lo = 0
    let hi = n
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.entries[mid].id < key) lo = mid + 1
      else hi = mid
    }
    let i = lo - 1
    if (i < 0) i = n - 1
    for (let seen = 0; seen < n && out.length < count; seen++) {
      const e = this.entries[i]
      const d = distance(e.id, key)
      if (d === 0n) {
        // e is key itself: it owns key but does not precede it.
      } else if (d >= bound) {
        break
      } else if (!exclude.has(e.address)) {
        out.push(e)
      }
      i = i === 0 ? n - 1 : i - 1
    }
    return out
  }

  private refresh(): void {
    if (!this.dirty) return
    const byId = new Map<Id, NodeRef>()
    for (const e of this.collect()) if (e.address !== this.ownAddress) byId.set(e.id, e)
    this.entries = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    this.dirty = false
  }
}
