// The Chord DHT core: pure protocol logic behind a Transport (see docs/chord.md).

export { type ChordConfig, DEFAULT_CONFIG } from './config'
export * from './id'
export * from './interval'
export { checkInvariants, type InvariantReport, type MemberState } from './invariants'
export * from './messages'
export {
  ChordNode,
  type ChordNodeOptions,
  distinctMachines,
  type Handoff,
  type LookupOptions,
  type LookupResult,
  type RangeChange,
  type RangeChangeReason,
  type SuccessorsChange
} from './node'
export { listProblem, mergeLists, reconcile } from './successor-list'
export * from './transport'
export { VirtualNode } from './virtual-node'
