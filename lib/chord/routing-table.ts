// A machine's routing state: every node it knows through any of its virtual
// nodes (fingers, successor lists, predecessors), kept sorted by id so that
// "closest preceding node of key" is a binary search rather than a scan.
// Virtual nodes of one machine share this table: that is what keeps lookups
// at about ½·log2(machines) hops although the ring has V·machines points.
//
// Entries are reference-counted: the same node is often both a finger and a
// successor, and stays routable until every source has dropped it.

import type { Id } from './id'
import { distance } from './interval'
import type { NodeRef } from './messages'

export class RoutingTable {
  private readonly ownAddress: string
  private readonly counts = new Map<Id, number>()
  /** Entries per machine address: which machines the table already believes in. */
  private readonly machines = new Map<string, number>()
  /** Sorted by id. */
  private entries: NodeRef[] = []

  constructor(ownAddress: string) {
    this.ownAddress = ownAddress
  }

  get size(): number {
    return this.entries.length
  }

  all(): readonly NodeRef[] {
    return this.entries
  }

  add(ref: NodeRef): void {
    if (ref.address === this.ownAddress) return
    const c = this.counts.get(ref.id) ?? 0
    this.counts.set(ref.id, c + 1)
    const i = this.indexOf(ref.id)
    if (c === 0) {
      this.entries.splice(i, 0, ref)
      this.machines.set(ref.address, (this.machines.get(ref.address) ?? 0) + 1)
    } else this.entries[i] = ref
  }

  /** Whether some entry of the table is on the machine at `address`. */
  hasMachine(address: string): boolean {
    return this.machines.has(address)
  }

  remove(ref: NodeRef): void {
    if (ref.address === this.ownAddress) return
    const c = this.counts.get(ref.id)
    if (c === undefined) return
    if (c > 1) {
      this.counts.set(ref.id, c - 1)
      return
    }
    this.counts.delete(ref.id)
    const i = this.indexOf(ref.id)
    if (this.entries[i]?.id !== ref.id) return
    const address = this.entries[i].address
    this.entries.splice(i, 1)
    const m = this.machines.get(address) ?? 0
    if (m > 1) this.machines.set(address, m - 1)
    else this.machines.delete(address)
  }

  /** Replaces the contribution of one source: `before` out, `after` in. */
  replace(before: readonly NodeRef[], after: readonly NodeRef[]): void {
    for (const r of after) this.add(r)
    for (const r of before) this.remove(r)
  }

  /**
   * Up to `count` known remote nodes preceding `key` (strictly), closest
   * first, that are closer to key than `bound` (clockwise distance), skipping
   * machines in `exclude`.
   */
  closestPreceding(key: Id, bound: Id, count: number, exclude: ReadonlySet<string>): NodeRef[] {
    const n = this.entries.length
    const out: NodeRef[] = []
    if (n === 0) return out
    let i = this.indexOf(key) - 1
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

  /**
   * The first known remote node strictly after `from`, if it lies closer
   * than `bound` (clockwise distance from `from`), skipping `skip`.
   */
  firstAfter(from: Id, bound: Id, skip: (ref: NodeRef) => boolean): NodeRef | null {
    const n = this.entries.length
    let i = this.indexOf(from)
    if (i < n && this.entries[i].id === from) i++
    for (let seen = 0; seen < n; seen++, i++) {
      const e = this.entries[i % n]
      const d = distance(from, e.id)
      if (d === 0n || d >= bound) return null
      if (!skip(e)) return e
    }
    return null
  }

  /** Index of the first entry with id ≥ key (n if none). */
  private indexOf(key: Id): number {
    let lo = 0
    let hi = this.entries.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.entries[mid].id < key) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
