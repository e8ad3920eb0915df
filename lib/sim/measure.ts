// What the simulator measures on a ring: lookups from random members judged
// against the oracle (success, hops), and how evenly random keys spread over
// the machines.

import type { ChordNode } from '../chord/node'
import type { NodeRef } from '../chord/messages'
import type { LookupFigures } from './options'
import type { Oracle } from './oracle'
import { Prng } from './prng'
import type { Scheduler } from './scheduler'
import { mean, percentile, round } from './stats'

/** What the measurements need from the running simulation. */
export interface MeasuredRing {
  readonly prng: Prng
  readonly scheduler: Scheduler
  /** Live machines, joined or joining. */
  readonly live: ReadonlyMap<string, ChordNode>
  /** Lookups contact the owner before answering. */
  readonly confirm: boolean
  /** A random machine that finished joining (one draw of prng). */
  randomMember(): ChordNode
  /** The oracle, rebuilt if the membership changed since. */
  oracle(): Oracle
  /** Advances one stabilization interval. */
  round(): Promise<void>
}

export class LookupMeasure {
  private readonly ring: MeasuredRing
  private readonly pendingByOrigin = new Map<string, number>()

  constructor(ring: MeasuredRing) {
    this.ring = ring
  }

  /** `count` lookups spread over `spreadMs`, each from a random live member, judged by the oracle. */
  async run(count: number, spreadMs: number): Promise<LookupFigures> {
    const ring = this.ring
    const hops: number[] = []
    let ok = 0
    let failed = 0
    let lostWithOrigin = 0
    let pending = 0
    const start = ring.scheduler.now()
    for (let i = 0; i < count; i++) {
      ring.scheduler.at(start + (i * spreadMs) / count, () => {
        const origin = ring.randomMember()
        const key = ring.prng.id256()
        const before = ring.oracle().successor(key)
        pending++
        this.lookupWithRetries(origin, key).then(
          (res) => {
            pending--
            // The origin crashed meanwhile: nobody is left to use the answer,
            // and its failure says nothing about the ring.
            if (!ring.live.has(origin.address)) return void lostWithOrigin++
            if (!res) return void failed++
            const after = ring.oracle().successor(key)
            if (res.node.id === after?.id || res.node.id === before?.id) ok++
            hops.push(res.hops)
          },
          () => {
            pending--
            if (!ring.live.has(origin.address)) return void lostWithOrigin++
            failed++
          }
        )
      })
    }
    await ring.scheduler.runUntil(start + spreadMs)
    // Wait for the stragglers; a lookup whose origin crashed never settles.
    for (let i = 0; i < 60 && pending > 0; i++) {
      await ring.round()
      pending = Math.min(pending, this.countPendingLive())
    }
    const judged = ok + (hops.length - ok) + failed
    return {
      lookups: judged,
      lookupSuccess: judged === 0 ? 0 : round(ok / judged, 5),
      meanHops: round(mean(hops)),
      p50Hops: percentile(hops, 50),
      p99Hops: percentile(hops, 99),
      maxHops: percentile(hops, 100),
      lookupFailures: failed,
      lookupsLostWithOrigin: lostWithOrigin
    }
  }

  private countPendingLive(): number {
    let n = 0
    for (const [addr, c] of this.pendingByOrigin) if (this.ring.live.has(addr)) n += c
    return n
  }

  /** One lookup, retried twice from the same origin if it fails outright. */
  private async lookupWithRetries(origin: ChordNode, key: bigint): Promise<{ node: NodeRef; hops: number } | null> {
    const addr = origin.address
    this.pendingByOrigin.set(addr, (this.pendingByOrigin.get(addr) ?? 0) + 1)
    try {
      let hops = 0
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          const res = await origin.findSuccessor(key, { confirm: this.ring.confirm })
          return { node: res.node, hops: hops + res.hops }
        } catch {
          hops += 0
        }
      }
      return null
    } finally {
      this.pendingByOrigin.set(addr, this.pendingByOrigin.get(addr)! - 1)
    }
  }
}

/** How evenly `keys` random keys (from `seed`) fall on the live machines, by the oracle. */
export function loadFigures(
  oracle: Oracle,
  live: Iterable<string>,
  keys: number,
  seed: number
): { p99KeysPerMachineRatio: number; maxKeysPerMachineRatio: number } {
  const counts = new Map<string, number>()
  for (const a of live) counts.set(a, 0)
  const keyRandom = new Prng(seed ^ 0x5eed)
  for (let i = 0; i < keys; i++) {
    const owner = oracle.successor(keyRandom.id256())
    if (owner) counts.set(owner.address, (counts.get(owner.address) ?? 0) + 1)
  }
  const values = [...counts.values()]
  const avg = keys / Math.max(1, values.length)
  return {
    p99KeysPerMachineRatio: round(percentile(values, 99) / avg),
    maxKeysPerMachineRatio: round(percentile(values, 100) / avg)
  }
}
