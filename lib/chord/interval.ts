// Modular interval arithmetic on the ring. All Chord decisions reduce to
// "is x strictly/half-open between a and b going clockwise", so these few
// functions carry the whole protocol's correctness at the wrap-around.

import { type Id, RING_MASK } from './id'

/** Clockwise distance from `from` to `to`, in [0, 2^256). */
export function distance(from: Id, to: Id): Id {
  return (to - from) & RING_MASK
}

/** x ∈ (a, b) clockwise. When a = b the interval is the whole ring except a. */
export function inOpen(x: Id, a: Id, b: Id): boolean {
  const dx = (x - a) & RING_MASK
  if (dx === 0n) return false
  const db = (b - a) & RING_MASK
  return db === 0n || dx < db
}

/** x ∈ (a, b] clockwise. When a = b the interval is the whole ring. */
export function inHalfOpen(x: Id, a: Id, b: Id): boolean {
  const db = (b - a) & RING_MASK
  if (db === 0n) return true
  const dx = (x - a) & RING_MASK
  return dx !== 0n && dx <= db
}

/** a + 2^k on the ring: the start of finger k. */
export function addPow2(a: Id, k: number): Id {
  return (a + (1n << BigInt(k))) & RING_MASK
}

export function add(a: Id, b: Id): Id {
  return (a + b) & RING_MASK
}
