// Tunables of a Chord node, with the defaults used in the real network. The
// simulator overrides the timing ones to suit its latency model.

export interface ChordConfig {
  /** Virtual nodes per machine (load balance; see docs/chord.md). */
  virtualNodes: number
  /**
   * Ring ids accepted per other machine: a NodeRef is believed only if its id
   * is virtualNodeId(its machine's key, i) for i below max(this, virtualNodes).
   * Bounds the points of the ring one machine can claim.
   */
  maxVirtualNodes: number
  /** Successor list length r (Zave: r ≥ 2; ≥ the replication factor k). */
  successors: number
  /** Period of stabilize (and rectify) for all virtual nodes of the machine. */
  stabilizeMs: number
  /** Full refresh of the fingers this often (after an immediate one at join). */
  fingerRefreshMs: number
  /** Lookups run concurrently by one finger refresh. */
  fingerConcurrency: number
  /** Period of the self-lookup through a remembered peer that merges rings after a partition. */
  healMs: number
  /** Per-request timeout. */
  rpcTimeoutMs: number
  /** Give up a lookup after this many steps (remote contacts). */
  maxLookupSteps: number
  /** Remembered peer addresses kept for healing, besides the bootstrap ones. */
  rememberedPeers: number
}

export const DEFAULT_CONFIG: ChordConfig = {
  virtualNodes: 16,
  maxVirtualNodes: 16,
  successors: 8,
  stabilizeMs: 1000,
  fingerRefreshMs: 60_000,
  fingerConcurrency: 4,
  healMs: 5000,
  rpcTimeoutMs: 2000,
  maxLookupSteps: 64,
  rememberedPeers: 32
}
