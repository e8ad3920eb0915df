// The state one machine's Chord jobs share, and the primitive updates of it.
// ChordNode (node.ts) is the facade; each job (lifecycle, lookup, stabilize,
// fingers, heal, handlers) is a set of transitions over one NodeCore. All
// changes of a virtual node's successors, predecessor and fingers go through
// the setters here, so the routing table and the events always follow them.

import { randomInt } from 'node:crypto'
import type { EventEmitter } from 'node:events'
import { type ChordConfig, DEFAULT_CONFIG } from './config'
import { type Id, virtualNodeId } from './id'
import type { ChordRequest, ChordResponse, NodeRef, ResponseOf } from './messages'
import { RoutingTable } from './routing-table'
import { sameList } from './successor-list'
import { rpcError, type TimerHandle, type Timers, type Transport, systemTimers } from './transport'
import { VirtualNode } from './virtual-node'

export interface ChordNodeOptions extends Partial<ChordConfig> {
  /** The machine's 32-byte public key; ring ids derive from it. */
  publicKey: Uint8Array
  transport: Transport
  timers?: Timers
  /** Uniform [0, 1), for timer jitter and peer choice. Seeded in the simulator. */
  random?: () => number
  /** Addresses to join through, remembered for healing partitions. */
  bootstrap?: string[]
}

export type RangeChangeReason = 'join' | 'leave' | 'failure' | 'repair'

/** A virtual node's range (predecessor, vnode] changed: keys must move. */
export interface RangeChange {
  vnode: NodeRef
  oldPredecessor: NodeRef | null
  newPredecessor: NodeRef | null
  /**
   * 'join': the new predecessor lies in (old, vnode]: keys in (old, new] now
   * belong to it. Otherwise the range grew and this vnode now owns
   * (new, old]; it should fetch those keys from its successors' replicas.
   */
  reason: RangeChangeReason
}

export interface SuccessorsChange {
  vnode: NodeRef
  successors: NodeRef[]
}

/** Stabilization rounds a departed machine is kept out of our lists (then stale replies have drained). */
const DEPARTED_ROUNDS = 10

/** What a leaving virtual node hands to the storage layer: its range and its neighbours. */
export interface Handoff {
  vnode: NodeRef
  predecessor: NodeRef | null
  successor: NodeRef | null
}

export class NodeCore {
  readonly config: ChordConfig
  readonly publicKey: Uint8Array
  readonly transport: Transport
  readonly timers: Timers
  readonly random: () => number
  /** Where the node's events go (the ChordNode facade). */
  readonly events: EventEmitter
  readonly vnodes: VirtualNode[]
  readonly byId = new Map<Id, VirtualNode>()
  /** Own virtual nodes sorted by id, for "closest own vnode preceding a key". */
  readonly sorted: VirtualNode[]
  readonly routing: RoutingTable
  readonly bootstrap: string[]
  readonly remembered: string[] = []
  private readonly timerHandles = new Set<TimerHandle>()
  /** Set before leave() contacts neighbours; awaited so storage can hand keys off first. */
  beforeLeave: ((handoffs: Handoff[]) => Promise<void>) | null = null
  /**
   * How a request to this machine itself is answered, and what an answer from
   * another machine teaches us and how it is cleaned: set by ChordNode
   * (node.ts) to handlers.ts and trust.ts, so that this file imports none of
   * the modules built on it.
   */
  answerLocally: (from: string, req: ChordRequest) => Promise<ChordResponse> = async () => {
    throw rpcError('ENOTMEMBER', 'no request handler yet')
  }
  acceptAnswer: (from: string, res: ChordResponse) => ChordResponse = (_from, res) => res
  /** Start time of the last complete finger refresh (-1: none yet). */
  fingersRefreshedAt = -1
  refreshingFingers = false
  healing = false
  started = false
  closed = false
  /** Set once leave() has handed its keys off: from then on we refuse to be adopted. */
  leaving = false
  /**
   * Machines that told us they left, and when. A reply they sent before
   * leaving can still be in flight (or be relayed by a neighbour that was not
   * told); it must not make us adopt them again. See docs/chord.md, "leave".
   */
  readonly departed = new Map<string, number>()

  // Who is believed (trust.ts).
  /** When a probe of a machine as a closer successor last failed (see heal.ts probeCloserSuccessor). */
  readonly unreachable = new Map<string, number>()
  /** Machines that answered a request of ours or sent us one, least recent first (see believed). */
  readonly heard = new Map<string, true>()
  /** Probes in flight of nodes named by others, by "address id", and their count per naming machine. */
  readonly probes = new Map<string, Promise<boolean>>()
  readonly probesBySender = new Map<string, number>()
  /** Requests refused because they named another machine than their sender, or an id not its own. */
  refusedMessages = 0

  constructor(opts: ChordNodeOptions, events: EventEmitter) {
    const { publicKey, transport, timers, random, bootstrap, ...config } = opts
    this.config = { ...DEFAULT_CONFIG, ...stripUndefined(config) }
    if (this.config.virtualNodes < 1) throw new RangeError('virtualNodes must be ≥ 1')
    if (this.config.successors < 1) throw new RangeError('successors must be ≥ 1')
    this.events = events
    this.publicKey = publicKey
    this.transport = transport
    this.timers = timers ?? systemTimers
    this.random = random ?? (() => randomInt(2 ** 32) / 2 ** 32)
    this.bootstrap = (bootstrap ?? []).filter((a) => a !== transport.address)
    this.vnodes = []
    for (let i = 0; i < this.config.virtualNodes; i++) {
      const v = new VirtualNode(virtualNodeId(publicKey, i), transport.address, i)
      if (this.byId.has(v.id)) continue
      this.vnodes.push(v)
      this.byId.set(v.id, v)
    }
    this.sorted = [...this.vnodes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    this.routing = new RoutingTable(transport.address)
  }

  get address(): string {
    return this.transport.address
  }

  get isMember(): boolean {
    return this.vnodes.some((v) => v.member)
  }

  // ---------------------------------------------------------------- state

  setSuccessors(v: VirtualNode, proposed: NodeRef[]): void {
    const list = this.departed.size === 0 ? proposed : proposed.filter((e) => !this.hasDeparted(e.address))
    if (sameList(v.successors, list)) return
    this.wake(v)
    const oldHead = v.successors[0]
    this.routing.replace(v.successors, list)
    v.successors = list
    if (list[0] && list[0].address !== oldHead?.address) this.remember(list[0].address)
    this.events.emit('successors-changed', { vnode: v.ref, successors: list } satisfies SuccessorsChange)
  }

  setPredecessor(v: VirtualNode, n: NodeRef | null, reason: RangeChangeReason): void {
    const old = v.predecessor
    if (n) this.routing.add(n)
    if (old) this.routing.remove(old)
    v.predecessor = n
    v.predecessorSeenAt = this.timers.now()
    if (n) this.remember(n.address)
    if (old?.id === n?.id) return
    this.wake(v)
    this.events.emit('range-changed', {
      vnode: v.ref,
      oldPredecessor: old,
      newPredecessor: n,
      reason
    } satisfies RangeChange)
  }

  /** Returns whether the finger changed. */
  setFinger(v: VirtualNode, k: number, ref: NodeRef | undefined): boolean {
    const old = v.fingers.get(k)
    if (old === ref || (old && ref && old.id === ref.id && old.address === ref.address)) return false
    if (ref) this.routing.add(ref)
    if (old) this.routing.remove(old)
    if (ref) v.fingers.set(k, ref)
    else v.fingers.delete(k)
    return true
  }

  /** Ends v's quiet back-off (see stabilize.ts): it stabilizes next round. */
  wake(v: VirtualNode): void {
    v.quietRounds = 0
    v.skipRounds = 0
  }

  onRpcFailure(address: string, err: unknown): void {
    const code = (err as { code?: string }).code
    if (code === 'ENOTMEMBER') return
    this.heard.delete(address)
    this.forgetAddress(address)
    // A vnode resting in the quiet back-off whose successor just failed to
    // answer someone: stabilize it next round rather than MAX_SKIP later.
    for (const v of this.vnodes) if (v.successors[0]?.address === address) this.wake(v)
  }

  /** Drops fingers into a machine found dead; lists are repaired by stabilize. */
  forgetAddress(address: string): void {
    for (const v of this.vnodes) {
      for (const [k, f] of v.fingers) if (f.address === address) this.setFinger(v, k, undefined)
    }
  }

  /** Whether `address` told us it left the ring, recently enough that a reply naming it may be stale. */
  hasDeparted(address: string): boolean {
    const at = this.departed.get(address)
    if (at === undefined) return false
    if (this.timers.now() - at <= DEPARTED_ROUNDS * this.config.stabilizeMs) return true
    this.departed.delete(address)
    return false
  }

  /**
   * A request from a departed machine, later than any it could have sent
   * before leaving (those arrive within one timeout), means it came back.
   */
  maybeReturned(from: string): void {
    const at = this.departed.get(from)
    if (at !== undefined && this.timers.now() - at > this.config.rpcTimeoutMs) this.departed.delete(from)
  }

  remember(address: string, always = false): void {
    if (address === this.address || this.bootstrap.includes(address) || this.remembered.includes(address)) return
    if (this.remembered.length < this.config.rememberedPeers) this.remembered.push(address)
    else if (always || this.random() < 0.1)
      this.remembered[Math.floor(this.random() * this.remembered.length)] = address
  }

  allPeers(): string[] {
    return [...this.bootstrap, ...this.remembered]
  }

  /** The member vnode of ours closest before key (or at key). */
  closestOwnMember(key: Id): VirtualNode | null {
    const own = this.sorted
    const n = own.length
    let lo = 0
    let hi = n
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (own[mid].id <= key) lo = mid + 1
      else hi = mid
    }
    // own[lo - 1] is the last id ≤ key; walk backwards (wrapping) to a member.
    for (let i = 0; i < n; i++) {
      const v = own[(lo - 1 - i + 2 * n) % n]
      if (v.member) return v
    }
    return null
  }

  nextOwnVnode(v: VirtualNode): VirtualNode | null {
    const n = this.sorted.length
    if (n < 2) return null
    const i = this.sorted.indexOf(v)
    return this.sorted[(i + 1) % n]
  }

  // ------------------------------------------------------------- requests

  /** A request to a machine; our own machine is answered locally, without the network. */
  async rpc<T extends ChordRequest>(address: string, req: T, attempts = 1): Promise<ResponseOf[T['type']]> {
    if (this.closed) throw rpcError('ECLOSED', 'node closed')
    if (address === this.address) return (await this.answerLocally(address, req)) as ResponseOf[T['type']]
    for (let i = 1; ; i++) {
      try {
        const res = await this.transport.request(address, req, this.config.rpcTimeoutMs)
        return this.acceptAnswer(address, res) as ResponseOf[T['type']]
      } catch (err) {
        const code = (err as { code?: string }).code
        if (i >= attempts || code === 'ENOTMEMBER' || code === 'ECLOSED' || this.closed) throw err
      }
    }
  }

  assertOpen(): void {
    if (this.closed) throw rpcError('ECLOSED', 'node closed')
  }

  // --------------------------------------------------------------- timers

  /** Runs fn about every `ms` (±10% jitter so machines do not act in lock-step). */
  every(ms: number, fn: () => void): void {
    const schedule = (delay: number) => {
      const h = this.timers.setTimeout(() => {
        this.timerHandles.delete(h)
        if (this.closed) return
        fn()
        schedule(ms * (0.9 + 0.2 * this.random()))
      }, delay)
      this.timerHandles.add(h)
    }
    schedule(ms * this.random())
  }

  after(ms: number, fn: () => void): void {
    const h = this.timers.setTimeout(() => {
      this.timerHandles.delete(h)
      if (!this.closed) fn()
    }, ms)
    this.timerHandles.add(h)
  }

  stopTimers(): void {
    for (const h of this.timerHandles) this.timers.clearTimeout(h)
    this.timerHandles.clear()
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
