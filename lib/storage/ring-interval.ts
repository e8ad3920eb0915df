// Ring intervals over 256-bit keys, as Chord uses them: (from, to] going
// clockwise. When from >= to the interval wraps past 2^256 - 1 back to 0, and
// from == to is the whole ring (a one-node ring owns everything).

export interface KeyRange {
  /** Exclusive lower bound; undefined means from the smallest key. */
  after?: Buffer
  /** Inclusive upper bound; undefined means up to the largest key. */
  upTo?: Buffer
}

/** The one or two plain key ranges, in ring order, that make up (from, to]. */
export function ringIntervalRanges(fromExclusive: Buffer, toInclusive: Buffer): KeyRange[] {
  if (Buffer.compare(fromExclusive, toInclusive) < 0) return [{ after: fromExclusive, upTo: toInclusive }]
  // Wraps: (from, max] then [min, to]. When from == to the second part ends
  // at `to` itself, so every key is visited exactly once.
  return [{ after: fromExclusive }, { upTo: toInclusive }]
}

/** True when `key` lies in the ring interval (from, to]. */
export function inRingInterval(key: Buffer, fromExclusive: Buffer, toInclusive: Buffer): boolean {
  const afterFrom = Buffer.compare(key, fromExclusive) > 0
  const upToTo = Buffer.compare(key, toInclusive) <= 0
  return Buffer.compare(fromExclusive, toInclusive) < 0 ? afterFrom && upToTo : afterFrom || upToTo
}
