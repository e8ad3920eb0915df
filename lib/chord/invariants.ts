// Zave's invariants, checked from outside over a snapshot of every member's
// ring state and an oracle of which machines are alive. Used by the simulator
// after every round and by the tests after every event.
//
//   OneLiveSuccessor  every member has a live entry in its successor list
//                     (an empty list stands for "my own successor", a ring of one)
//   ValidLists        lists are ordered from their owner, without self or duplicates
//   OneOrderedRing    following each member's first live successor there is
//                     exactly one cycle, and it goes around the ring exactly once
//                     (members off the cycle are Zave's "appendages": joining
//                     nodes not yet adopted by their predecessor)

import { type Id, RING_SIZE } from './id'
import { distance } from './interval'
import type { NodeRef } from './messages'
import { listProblem } from './successor-list'

export interface MemberState {
  ref: NodeRef
  predecessor: NodeRef | null
  successors: readonly NodeRef[]
}

export interface InvariantReport {
  violations: string[]
  /**
   * Breaches caused by the `excused` members (see checkInvariants), not
   * counted in `violations`.
   */
  excused: string[]
  /** Members without a live successor, excused or not. */
  noLiveSuccessor: Id[]
  /** Cycles formed by first live successors: 1 in a healthy ring. */
  rings: number
}

/**
 * `excused`: members known to have lost every successor at once (a crash
 * beyond the r − 1 failures the invariants assume). While one of them still
 * has no live successor, its OneLiveSuccessor breach and the open ring it
 * causes (OneOrderedRing) go to `excused` instead of `violations`.
 */
export function checkInvariants(
  members: readonly MemberState[],
  isAlive: (address: string) => boolean,
  excused: ReadonlySet<Id> = new Set()
): InvariantReport {
  const violations: string[] = []
  const excusedViolations: string[] = []
  const noLiveSuccessor: Id[] = []
  const byId = new Map<Id, MemberState>()
  for (const m of members) byId.set(m.ref.id, m)
  const next = new Map<Id, Id>()
  for (const m of members) {
    const problem = listProblem(m.ref.id, m.successors)
    if (problem) violations.push(`ValidLists: ${hex(m.ref.id)} ${problem}`)
    // An empty list means "I am my own successor": a ring of one, legitimate
    // while others are still appendages hanging off it.
    if (m.successors.length === 0) {
      next.set(m.ref.id, m.ref.id)
      continue
    }
    const live = m.successors.find((s) => isAlive(s.address) && byId.has(s.id))
    if (live) next.set(m.ref.id, live.id)
    else {
      const breach = `OneLiveSuccessor: ${hex(m.ref.id)} has no live successor`
      ;(excused.has(m.ref.id) ? excusedViolations : violations).push(breach)
      noLiveSuccessor.push(m.ref.id)
    }
  }
  if (members.length === 1) return { violations, excused: excusedViolations, noLiveSuccessor, rings: 1 }
  const ringOpen = noLiveSuccessor.some((id) => excused.has(id))
  const ringViolations = ringOpen ? excusedViolations : violations
  const rings = countOrderedCycles(next, ringViolations)
  if (rings !== 1 && members.length > 1) ringViolations.push(`OneOrderedRing: ${rings} rings`)
  return { violations, excused: excusedViolations, noLiveSuccessor, rings }
}

/** Counts cycles of the successor function; records cycles that wind around more than once. */
function countOrderedCycles(next: Map<Id, Id>, violations: string[]): number {
  const state = new Map<Id, number>() // 1 = on current path, 2 = done
  let cycles = 0
  for (const start of next.keys()) {
    if (state.has(start)) continue
    const path: Id[] = []
    let x: Id | undefined = start
    while (x !== undefined && !state.has(x)) {
      state.set(x, 1)
      path.push(x)
      x = next.get(x)
    }
    if (x !== undefined && state.get(x) === 1) {
      cycles++
      let total = 0n
      let y = x
      do {
        const z = next.get(y)!
        total += y === z ? RING_SIZE : distance(y, z)
        y = z
      } while (y !== x)
      if (total !== RING_SIZE)
        violations.push(`OneOrderedRing: a cycle winds ${Number(total / (RING_SIZE >> 10n)) / 1024} times`)
    }
    for (const p of path) state.set(p, 2)
  }
  return cycles
}

function hex(id: Id): string {
  return id.toString(16).padStart(64, '0').slice(0, 8)
}
