// The options of a simulation run (`peerstore sim` flags) and the figures
// it reports.

import type { NetworkOptions } from './network'

export interface SimOptions {
  nodes: number
  seed: number
  /** Fraction of machines crashing at once after the ring settled. */
  fail: number
  /** Joins and crashes (each) per stabilization interval during the lookups. */
  churn: number
  partition: boolean
  successors: number
  vnodes: number
  lookups: number
  keys: number
  stabilizeMs: number
  rpcTimeoutMs: number
  fingerRefreshMs: number
  healMs: number
  /** Lookups contact the owner before answering (one more hop, but correct during repair). */
  confirm: boolean
  /**
   * Settling also waits until every machine has refreshed its fingers since
   * then, so that hop counts are those of a settled ring. Off (--early-lookups),
   * the lookups start once the ring is consistent; fingers keep refreshing on
   * their own timers meanwhile.
   */
  freshFingers: boolean
  /** Give up waiting for a consistent ring after this many rounds. */
  maxRounds: number
  partitionRounds: number
  network: Partial<NetworkOptions>
  /** Lines of progress for humans. */
  log: (line: string) => void
}

export const DEFAULT_SIM: Omit<SimOptions, 'nodes' | 'seed'> = {
  fail: 0,
  churn: 0,
  partition: false,
  successors: 8,
  vnodes: 16,
  lookups: 10_000,
  keys: 100_000,
  stabilizeMs: 1000,
  rpcTimeoutMs: 500,
  fingerRefreshMs: 60_000,
  healMs: 2000,
  confirm: true,
  freshFingers: true,
  maxRounds: 300,
  partitionRounds: 30,
  network: {},
  log: () => {}
}

export interface LookupFigures {
  lookups: number
  lookupSuccess: number
  meanHops: number
  p50Hops: number
  p99Hops: number
  maxHops: number
  lookupFailures: number
  /** Lookups whose origin crashed before they finished: not judged. */
  lookupsLostWithOrigin: number
}

export interface SimResult extends LookupFigures {
  nodes: number
  seed: number
  vnodes: number
  successors: number
  ringConsistent: boolean
  p99KeysPerMachineRatio: number
  maxKeysPerMachineRatio: number
  invariantViolations: number
  /** Breaches while a member had every successor crash at once: beyond r − 1 failures, which Chord does not claim to survive. */
  invariantViolationsOutsideFaultModel: number
  firstViolation: string | null
  stabilizeRounds: number
  virtualSeconds: number
  messages: number
  events: number
  wallMs: number
  [extra: string]: unknown
}
