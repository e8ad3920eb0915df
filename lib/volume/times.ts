// Inode times to the nanosecond. A record keeps each time as milliseconds
// since the epoch (all that records written before nanoseconds hold) plus,
// optionally, the nanoseconds past that millisecond (0–999,999): see
// InodeAttrs in inode.ts. Whole times travel as BigInt nanoseconds, since a
// Number holds today's dates only to about a quarter of a microsecond.

import type { InodeAttrs } from './inode'

export type TimeField = 'atime' | 'mtime' | 'ctime'

/** The times of an inode or of its stat. */
export type Times = Pick<InodeAttrs, TimeField | 'atimeNs' | 'mtimeNs' | 'ctimeNs'>

const NS_FIELD = { atime: 'atimeNs', mtime: 'mtimeNs', ctime: 'ctimeNs' } as const

const NS_PER_MS = 1_000_000n

/** The time in BigInt nanoseconds since the epoch. */
export function timeNs(attrs: Times, field: TimeField): bigint {
  return BigInt(attrs[field]) * NS_PER_MS + BigInt(attrs[NS_FIELD[field]] ?? 0)
}

/** Sets a time from BigInt nanoseconds since the epoch (or whole milliseconds, as a Number). */
export function setTime(attrs: Times, field: TimeField, t: bigint | number): void {
  if (typeof t === 'number') t = BigInt(Math.floor(t)) * NS_PER_MS
  // Floor division, so a time before 1970 keeps a remainder in 0–999,999.
  let ms = t / NS_PER_MS
  let ns = t % NS_PER_MS
  if (ns < 0n) {
    ms -= 1n
    ns += NS_PER_MS
  }
  attrs[field] = Number(ms)
  if (ns === 0n) delete attrs[NS_FIELD[field]]
  else attrs[NS_FIELD[field]] = Number(ns)
}

/** Sets each of `fields` to `t` (default: now). */
export function stamp(attrs: Times, fields: readonly TimeField[], t: bigint = nowNs()): void {
  for (const f of fields) setTime(attrs, f, t)
}

/** Keeps the later of our time and theirs (a merge of one inode's metadata). */
export function keepLater(ours: Times, theirs: Times, field: TimeField): void {
  if (timeNs(theirs, field) > timeNs(ours, field)) setTime(ours, field, timeNs(theirs, field))
}

// The wall clock gives milliseconds (Date.now()); the monotonic clock
// (process.hrtime) gives the digits below. `anchor` maps monotonic to wall
// nanoseconds. It is set once where Date.now() turns to its next millisecond
// (so it has the wall clock's phase, not just its millisecond), then moved
// only as far as it takes to stay within Date.now()'s millisecond, which
// follows the wall clock's steps and slewing.
let anchor: bigint | null = null

function calibrate(): bigint {
  const first = Date.now()
  let wall = first
  // At most a millisecond, once per process.
  while (wall === first) wall = Date.now()
  return BigInt(wall) * NS_PER_MS - process.hrtime.bigint()
}

/** The current time in BigInt nanoseconds since the epoch, with sub-millisecond digits. */
export function nowNs(): bigint {
  anchor ??= calibrate()
  const mono = process.hrtime.bigint()
  const wall = BigInt(Date.now()) * NS_PER_MS
  let t = mono + anchor
  if (t < wall) t = wall
  else if (t >= wall + NS_PER_MS) t = wall + NS_PER_MS - 1n
  anchor = t - mono
  return t
}
