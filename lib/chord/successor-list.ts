// Successor lists as pure functions. A list belongs to a virtual node `self`
// and is kept ordered by clockwise distance from self, without self and
// without duplicates; it has at most r entries (fewer when the ring is
// smaller than r + 1).

import type { Id } from './id'
import { distance } from './interval'
import type { NodeRef } from './messages'

/**
 * Zave's reconciliation: my list is my successor `head` followed by head's own
 * list, truncated to r. Stops where head's list wraps back to me (rings
 * smaller than r + 1) so the result stays ordered and free of self.
 */
export function reconcile(self: Id, head: NodeRef, tail: readonly NodeRef[], r: number): NodeRef[] {
  if (head.id === self || r < 1) return []
  const out = [head]
  let last = distance(self, head.id)
  for (const e of tail) {
    if (out.length >= r) break
    const d = distance(self, e.id)
    if (d === 0n || d <= last) break
    out.push(e)
    last = d
  }
  return out
}

/**
 * Union of two lists, ordered from self, deduplicated, truncated to r. Used
 * to splice in the list a leaving successor hands over.
 */
export function mergeLists(self: Id, a: readonly NodeRef[], b: readonly NodeRef[], r: number): NodeRef[] {
  const byId = new Map<Id, NodeRef>()
  for (const e of [...a, ...b]) if (e.id !== self && !byId.has(e.id)) byId.set(e.id, e)
  return [...byId.values()].sort((x, y) => cmp(distance(self, x.id), distance(self, y.id))).slice(0, r)
}

/** Removes every entry on the machine at `address`. */
export function withoutAddress(list: readonly NodeRef[], address: string): NodeRef[] {
  return list.filter((e) => e.address !== address)
}

/** The local invariant of a list: ordered from self, no self, no duplicates. Returns a reason or null. */
export function listProblem(self: Id, list: readonly NodeRef[]): string | null {
  let last = 0n
  for (const e of list) {
    const d = distance(self, e.id)
    if (d === 0n) return 'contains self'
    if (d === last) return 'duplicate entry'
    if (d < last) return 'out of order'
    last = d
  }
  return null
}

export function sameList(a: readonly NodeRef[], b: readonly NodeRef[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i].id !== b[i].id || a[i].address !== b[i].address) return false
  return true
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0
}
