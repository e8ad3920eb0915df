// One machine in the Chord ring. It hosts `virtualNodes` points of the ring
// (for load balance), runs Zave's ring-maintenance rules for each of them,
// and routes lookups with one routing table shared by all of them.
//
// Protocol, in the words of docs/chord.md:
//   join      lookup(v) through any member gives v's successor s; v copies s's
//             list (reconcile) and only then is a member, and notifies s.
//   stabilize ask the first successor for (predecessor, list), dropping dead
//             successors from the head of the list; adopt the predecessor p if
//             p ∈ (v, s) and p answers; reconcile the list; notify (piggybacked).
//   rectify   on notify from n: adopt n as predecessor if there is none, if
//             n ∈ (pred, v), or if the current predecessor is found dead.
//   fingers   refreshed by lookups, only the levels that route anywhere useful.
//   heal      look ourselves up through a remembered peer; a closer successor
//             in another ring is adopted, which merges rings after a partition.
//
// The node never touches sockets or clocks: it talks through a Transport and
// schedules through Timers (transport.ts), so the same code runs in the
// simulator and over hyperswarm.
//
// This class is the facade. The state lives in a NodeCore (core.ts); each
// job is a module of transitions over it: lifecycle.ts (create, join, leave,
// close, timers), lookup.ts, stabilize.ts (and rectify), fingers.ts, heal.ts
// (closer successors, empty lists, partitions), handlers.ts (the requests
// other machines send) and trust.ts (who is believed).

import { EventEmitter } from 'node:events'
import type { ChordConfig } from './config'
import { type ChordNodeOptions, type Handoff, NodeCore } from './core'
import { fingerLevels, refreshFingers } from './fingers'
import { handleRequest } from './handlers'
import { addPeer, heal } from './heal'
import type { Id, KeyLike } from './id'
import { close, create, join, leave } from './lifecycle'
import { type LookupOptions, type LookupResult, findSuccessor, responsibleNodes, routeStep } from './lookup'
import type { ChordRequest, ChordResponse, LookupResponse, NodeRef } from './messages'
import { stabilize } from './stabilize'
import type { Timers, Transport } from './transport'
import { hear, sanitize, validRef } from './trust'
import type { VirtualNode } from './virtual-node'

export type { ChordNodeOptions, RangeChange, RangeChangeReason, SuccessorsChange } from './core'
export type { Handoff } from './core'
export { distinctMachines, type LookupOptions, type LookupResult } from './lookup'

export class ChordNode extends EventEmitter {
  readonly config: ChordConfig
  readonly publicKey: Uint8Array
  readonly transport: Transport
  readonly timers: Timers
  readonly vnodes: VirtualNode[]
  private readonly core: NodeCore

  constructor(opts: ChordNodeOptions) {
    super()
    const core = new NodeCore(opts, this)
    this.core = core
    this.config = core.config
    this.publicKey = core.publicKey
    this.transport = core.transport
    this.timers = core.timers
    this.vnodes = core.vnodes
    core.answerLocally = (from, req) => handleRequest(core, from, req)
    core.acceptAnswer = (from, res) => {
      hear(core, from)
      return sanitize(core, res)
    }
    core.transport.setRequestHandler((from, req) => handleRequest(core, from, req))
  }

  get address(): string {
    return this.core.address
  }

  /** The machine's primary id: SHA-256 of its public key (virtual node 0). */
  get id(): Id {
    return this.vnodes[0].id
  }

  get isMember(): boolean {
    return this.core.isMember
  }

  get isClosed(): boolean {
    return this.core.closed
  }

  /** Set before leave() contacts neighbours; awaited so storage can hand keys off first. */
  get beforeLeave(): ((handoffs: Handoff[]) => Promise<void>) | null {
    return this.core.beforeLeave
  }

  set beforeLeave(hook: ((handoffs: Handoff[]) => Promise<void>) | null) {
    this.core.beforeLeave = hook
  }

  /** Start time of the last complete finger refresh (-1: none yet). */
  get fingersRefreshedAt(): number {
    return this.core.fingersRefreshedAt
  }

  /** Requests refused because they named another machine than their sender, or an id not its own. */
  get refusedMessages(): number {
    return this.core.refusedMessages
  }

  /** Starts a new ring made of this machine alone. */
  async create(): Promise<void> {
    create(this.core)
  }

  /**
   * Joins the ring through any member among `bootstrap` (or the constructor's).
   * Each virtual node looks up its own successor through that member and
   * becomes a member once it has copied the successor's list.
   */
  join(bootstrap: string[] = this.core.bootstrap): Promise<void> {
    return join(this.core, bootstrap)
  }

  /** Graceful leave: tells each neighbour, after the hand-off hook ran. Then closes. */
  leave(): Promise<void> {
    return leave(this.core)
  }

  /** Stops at once, without telling anyone (a crash, as far as the ring can tell). */
  close(): void {
    close(this.core)
  }

  /**
   * Iterative lookup of key's owner, routing around machines that do not
   * answer (lookup.ts).
   */
  findSuccessor(key: KeyLike, opts: LookupOptions = {}): Promise<LookupResult> {
    return findSuccessor(this.core, key, opts)
  }

  /**
   * The machines responsible for key: its owner then the next machines on
   * the ring, k distinct machines in all (fewer when the ring is smaller).
   */
  responsibleNodes(key: KeyLike, k = 3, opts: LookupOptions = {}): Promise<NodeRef[]> {
    return responsibleNodes(this.core, key, k, opts)
  }

  /** The answer to one lookup step, from this machine's own state. */
  routeStep(key: Id, exclude: ReadonlySet<string>): LookupResponse {
    return routeStep(this.core, key, exclude)
  }

  /**
   * Answers a request from the machine at `from`. Wire this to the transport:
   * `from` must be the authenticated sender (see transport.ts), because a
   * notify, a hint or a leave is believed only about its sender itself.
   */
  handleRequest(from: string, req: ChordRequest): Promise<ChordResponse> {
    return handleRequest(this.core, from, req)
  }

  /** Whether ref's id is one of the ring ids of its machine's public key (trust.ts). */
  validRef(ref: NodeRef): boolean {
    return validRef(this.core, ref)
  }

  /** One stabilization round for every member virtual node. */
  stabilize(): Promise<void> {
    return stabilize(this.core)
  }

  /**
   * Looks one of our virtual nodes up through a remembered peer, which
   * merges our ring with the peer's if they differ (heal.ts).
   */
  heal(): Promise<boolean> {
    return heal(this.core)
  }

  /**
   * A peer address learned from outside the ring (discovery, a new
   * connection): remembered for healing, and looked through once soon, which
   * merges our ring with its ring if they differ.
   */
  addPeer(address: string): void {
    addPeer(this.core, address)
  }

  /**
   * Refreshes the fingers of every member virtual node, `concurrency`
   * lookups at a time. Resolves with the fraction of fingers that changed.
   */
  refreshFingers(concurrency = this.config.fingerConcurrency): Promise<number> {
    return refreshFingers(this.core, concurrency)
  }

  /** The finger levels worth keeping for v (fingers.ts). */
  fingerLevels(v: VirtualNode): [number, number] {
    return fingerLevels(this.core, v)
  }
}
