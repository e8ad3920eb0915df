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

import { randomInt } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { type ChordConfig, DEFAULT_CONFIG } from './config'
import { type Id, type KeyLike, RING_MASK, RING_SIZE, toId, virtualNodeId, virtualNodeIds } from './id'
import { distance, inHalfOpen, inOpen } from './interval'
import type {
  ChordRequest,
  ChordResponse,
  HintRequest,
  LeaveRequest,
  LookupResponse,
  NodeRef,
  ResponseOf,
  StateRequest,
  StateResponse
} from './messages'
import { RoutingTable } from './routing-table'
import { mergeLists, reconcile, sameList, withoutAddress } from './successor-list'
import { RpcError, type TimerHandle, type Timers, type Transport, systemTimers } from './transport'
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

export interface LookupOptions {
  /** Start at this machine instead of our own routing table (healing, joining). */
  via?: string
  /** Contact the owner before answering, skipping dead ones (costs one hop). */
  confirm?: boolean
  /** Machines to route around and leave out of the answer. */
  exclude?: readonly string[]
}

export interface LookupResult {
  /** The key's owner (its successor on the ring). */
  node: NodeRef
  /** The owner and the nodes after it, as known by the answering node. */
  successors: NodeRef[]
  /** Remote machines contacted; the origin does not count. */
  hops: number
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

/** Emitted by a leaving machine, per virtual node: hand keys in (predecessor, vnode] to successor. */
export interface Handoff {
  vnode: NodeRef
  predecessor: NodeRef | null
  successor: NodeRef | null
}

const LOOKUP_FANOUT = 3
/** Stabilization rounds a departed machine is kept out of our lists (then stale replies have drained). */
const DEPARTED_ROUNDS = 10
/** Predecessors followed from a confirmed owner towards the key (nodes that just joined in front of it). */
const CONFIRM_WALK_STEPS = 2
/** Quiet back-off of stabilize (see stabilizeVnode): at most this many rounds skipped in a row. */
const MAX_SKIP = 3
/** Quiet rounds per extra skipped round. */
const QUIET_PER_SKIP = 3
/** Predecessor pointers followed when verifying a finger before falling back to a lookup. */
const FINGER_WALK_STEPS = 3
/** Rounds a machine that failed a probe is not probed again as a closer successor. */
const UNREACHABLE_ROUNDS = 5
/** Predecessor pointers followed per stabilize round (and per join). */
const WALK_STEPS = 8
/** Machines remembered as having answered us: named by others, they are believed without a probe. */
const HEARD_MACHINES = 256
/**
 * Probes of nodes named by one machine (in its list, its leave) that may be
 * in flight at once; a node named beyond that is not believed. Bounds what
 * one peer can make us hold or contact (docs/chord.md, "Who is believed").
 */
const PROBES_PER_SENDER = 16
/** Probes in flight at once, over all senders. */
const MAX_PROBES = 256
/** Failed-probe entries kept (see unreachable); the oldest go first. */
const MAX_UNREACHABLE = 1024

export class ChordNode extends EventEmitter {
  readonly config: ChordConfig
  readonly publicKey: Uint8Array
  readonly transport: Transport
  readonly timers: Timers
  readonly vnodes: VirtualNode[]
  /** Set before leave() contacts neighbours; awaited so storage can hand keys off first. */
  beforeLeave: ((handoffs: Handoff[]) => Promise<void>) | null = null
  /** Start time of the last complete finger refresh (-1: none yet). */
  fingersRefreshedAt = -1

  private readonly byId = new Map<Id, VirtualNode>()
  /** Own virtual nodes sorted by id, for "closest own vnode preceding a key". */
  private readonly sorted: VirtualNode[]
  private readonly routing: RoutingTable
  private readonly random: () => number
  private readonly bootstrap: string[]
  private readonly remembered: string[] = []
  private timerHandles = new Set<TimerHandle>()
  private refreshingFingers = false
  private healing = false
  private started = false
  private closed = false
  /** Set once leave() has handed its keys off: from then on we refuse to be adopted. */
  private leaving = false
  /**
   * Machines that told us they left, and when. A reply they sent before
   * leaving can still be in flight (or be relayed by a neighbour that was not
   * told); it must not make us adopt them again. See docs/chord.md, "leave".
   */
  private readonly departed = new Map<string, number>()
  /** When a probe of a machine as a closer successor last failed (see probeCloserSuccessor). */
  private readonly unreachable = new Map<string, number>()
  /** Machines that answered a request of ours or sent us one, least recent first (see believed). */
  private readonly heard = new Map<string, true>()
  /** Probes in flight of nodes named by others, by "address id", and their count per naming machine. */
  private readonly probes = new Map<string, Promise<boolean>>()
  private readonly probesBySender = new Map<string, number>()
  /** Requests refused because they named another machine than their sender, or an id not its own. */
  refusedMessages = 0

  constructor(opts: ChordNodeOptions) {
    super()
    const { publicKey, transport, timers, random, bootstrap, ...config } = opts
    this.config = { ...DEFAULT_CONFIG, ...stripUndefined(config) }
    if (this.config.virtualNodes < 1) throw new RangeError('virtualNodes must be ≥ 1')
    if (this.config.successors < 1) throw new RangeError('successors must be ≥ 1')
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
    transport.setRequestHandler((from, req) => this.handleRequest(from, req))
  }

  get address(): string {
    return this.transport.address
  }

  /** The machine's primary id: SHA-256 of its public key (virtual node 0). */
  get id(): Id {
    return this.vnodes[0].id
  }

  get isMember(): boolean {
    return this.vnodes.some((v) => v.member)
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** Starts a new ring made of this machine alone. */
  async create(): Promise<void> {
    this.assertOpen()
    const n = this.sorted.length
    for (let i = 0; i < n; i++) {
      const v = this.sorted[i]
      const list: NodeRef[] = []
      for (let j = 1; j < n && list.length < this.config.successors; j++) list.push(this.sorted[(i + j) % n].ref)
      v.member = true
      this.setSuccessors(v, list)
      if (n > 1) this.setPredecessor(v, this.sorted[(i - 1 + n) % n].ref, 'join')
    }
    this.start()
  }

  /**
   * Joins the ring through any member among `bootstrap` (or the constructor's).
   * Each virtual node looks up its own successor through that member and
   * becomes a member once it has copied the successor's list.
   */
  async join(bootstrap: string[] = this.bootstrap): Promise<void> {
    this.assertOpen()
    for (const a of bootstrap) if (a !== this.address && !this.bootstrap.includes(a)) this.bootstrap.push(a)
    if (this.isMember) {
      // Already in a ring (e.g. one we created alone): joining another ring
      // is the partition-merge case, done by looking ourselves up through it.
      for (const via of bootstrap) if (via !== this.address && (await this.healThrough(via))) return
      throw new RpcError('EPEERUNREACHABLE', 'no bootstrap peer answered with another ring')
    }
    let lastErr: unknown = new RpcError('EPEERUNREACHABLE', 'no bootstrap peer')
    for (const via of bootstrap) {
      if (via === this.address) continue
      try {
        // The first virtual node proves the peer is a member; the others may
        // then route through our own table, which now knows part of the ring.
        await this.joinVnode(this.vnodes[0], via)
        await Promise.allSettled(this.vnodes.slice(1).map((v) => this.joinVnode(v, via)))
        this.start()
        // A virtual node whose join failed (a lost reply, a dead successor)
        // tries again through our own, now populated, routing table.
        for (const v of this.vnodes) if (!v.member) this.retryJoin(v, 1)
        this.emit('joined')
        return
      } catch (err) {
        lastErr = err
      }
    }
    throw lastErr
  }

  private retryJoin(v: VirtualNode, attempt: number): void {
    this.after(this.config.stabilizeMs * Math.min(attempt, 10), () => {
      if (v.member) return
      this.joinVnode(v, this.allPeers()[0] ?? this.address).catch(() => this.retryJoin(v, attempt + 1))
    })
  }

  /** Graceful leave: tells each neighbour, after the hand-off hook ran. Then closes. */
  async leave(): Promise<void> {
    if (this.closed) return
    this.stopTimers()
    const handoffs: Handoff[] = []
    for (const v of this.vnodes) {
      if (!v.member) continue
      const succs = this.externalSuccessors(v)
      handoffs.push({ vnode: v.ref, predecessor: this.externalPredecessor(v), successor: succs[0] ?? null })
    }
    for (const h of handoffs) this.emit('leaving', h)
    if (this.beforeLeave) await this.beforeLeave(handoffs)
    // From here on a joiner or stabilizer that asks us gets ENOTMEMBER and
    // moves on, instead of copying a list that starts with a machine about to go.
    this.leaving = true
    // The neighbours as they are now: the hand-off may have taken a while,
    // and a node that joined next to us meanwhile must be told too.
    const sends: Promise<unknown>[] = []
    for (const v of this.vnodes) {
      if (!v.member) continue
      const succs = this.externalSuccessors(v)
      const pred = this.externalPredecessor(v)
      const s = succs[0]
      if (s) {
        sends.push(this.rpc(s.address, { type: 'leave', to: s.id, leaving: v.ref, predecessor: pred, successors: [] }))
      }
      if (pred) {
        sends.push(
          this.rpc(pred.address, { type: 'leave', to: pred.id, leaving: v.ref, predecessor: null, successors: succs })
        )
      }
    }
    await Promise.allSettled(sends)
    this.close()
  }

  /** Stops at once, without telling anyone (a crash, as far as the ring can tell). */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.stopTimers()
    for (const v of this.vnodes) v.member = false
    this.emit('close')
  }

  // ---------------------------------------------------------------- lookups

  /**
   * Iterative lookup of key's owner. Each step asks the closest preceding
   * machine known so far; unreachable machines are excluded and the lookup
   * backs up to the next candidate, so it routes around failures.
   */
  async findSuccessor(key: KeyLike, opts: LookupOptions = {}): Promise<LookupResult> {
    const k = toId(key)
    const dead = new Set<string>(opts.exclude)
    const stack: NodeRef[][] = []
    let hops = 0
    let restarts = 0
    let step: { done: boolean; nodes: NodeRef[] }
    if (opts.via && opts.via !== this.address) {
      step = { done: false, nodes: [] }
      stack.push([{ id: k, address: opts.via }])
    } else {
      step = this.routeStep(k, dead)
    }
    for (let i = 0; i < this.config.maxLookupSteps; i++) {
      if (step.done) {
        let nodes = step.nodes.filter((n) => !dead.has(n.address))
        if (opts.confirm) {
          const confirmed = await this.confirmOwner(k, nodes, dead)
          hops += confirmed.contacts
          nodes = confirmed.nodes
        }
        if (nodes.length > 0) return { node: nodes[0], successors: nodes, hops }
      } else if (step.nodes.length > 0) {
        stack.push(step.nodes.slice())
      }
      const next = popCandidate(stack, dead)
      if (!next) {
        // Every candidate so far failed: start again from what we know now.
        if (++restarts > 3 || opts.via) break
        step = this.routeStep(k, dead)
        if (!step.done && step.nodes.length === 0) break
        continue
      }
      hops++
      try {
        // Two attempts: one lost message must not make a live owner look dead.
        step = await this.rpc(next.address, { type: 'lookup', key: k, exclude: [...dead] }, 2)
      } catch (err) {
        dead.add(next.address)
        this.onRpcFailure(next.address, err)
        step = { done: false, nodes: [] }
      }
    }
    throw new RpcError('ETIMEDOUT', `lookup of ${k.toString(16).slice(0, 8)} failed after ${hops} hops`)
  }

  /**
   * The machines responsible for key: its owner then the next machines on
   * the ring, k distinct machines in all (fewer when the ring is smaller).
   */
  async responsibleNodes(key: KeyLike, k = 3, opts: LookupOptions = {}): Promise<NodeRef[]> {
    const res = await this.findSuccessor(key, opts)
    const list = res.successors.slice()
    // With virtual nodes r successors may span fewer than k machines: read
    // further along the ring until k machines or the list wraps.
    for (let i = 0; i < k && distinctMachines(list, k).length < k; i++) {
      const last = list[list.length - 1]
      try {
        const more = await this.rpc(last.address, { type: 'state', to: last.id, notify: null }, 2)
        const before = list.length
        for (const n of more.successors) if (!list.some((e) => e.id === n.id)) list.push(n)
        if (list.length === before) break
      } catch {
        break
      }
    }
    return distinctMachines(list, k)
  }

  /** The answer to one lookup step, from this machine's own state. */
  routeStep(key: Id, exclude: ReadonlySet<string>): LookupResponse {
    const u = this.closestOwnMember(key)
    if (!u) {
      return {
        type: 'lookup',
        done: false,
        nodes: this.routing.closestPreceding(key, RING_SIZE, LOOKUP_FANOUT, exclude)
      }
    }
    const r = this.config.successors
    if (u.id === key) return { type: 'lookup', done: true, nodes: [u.ref, ...u.successors].slice(0, r) }
    const live = exclude.size === 0 ? u.successors : u.successors.filter((s) => !exclude.has(s.address))
    if (u.successors.length === 0) return { type: 'lookup', done: true, nodes: [u.ref] }
    if (live.length > 0 && inHalfOpen(key, u.id, live[0].id)) return { type: 'lookup', done: true, nodes: live.slice() }
    const nodes = this.routing.closestPreceding(key, distance(u.id, key), LOOKUP_FANOUT, exclude)
    if (nodes.length === 0 && live.length > 0) nodes.push(live[0])
    return { type: 'lookup', done: false, nodes }
  }

  // ------------------------------------------------------- request handling

  /**
   * Answers a request from the machine at `from`. Wire this to the transport:
   * `from` must be the authenticated sender (see transport.ts), because a
   * notify, a hint or a leave is believed only about its sender itself.
   */
  async handleRequest(from: string, req: ChordRequest): Promise<ChordResponse> {
    if (this.closed) throw new RpcError('ECLOSED', 'node closed')
    if (this.leaving && req.type !== 'leave') throw new RpcError('ENOTMEMBER', 'leaving the ring')
    if (req.type !== 'leave') this.maybeReturned(from)
    // The transport authenticated the sender: it exists and reaches us (see believed).
    if (from !== this.address) this.hear(from)
    switch (req.type) {
      case 'state':
        if (req.notify) this.checkSelf(from, req.notify, 'notify')
        return this.onState(req)
      case 'lookup':
        return this.routeStep(req.key, req.exclude.length > 0 ? new Set(req.exclude) : EMPTY_SET)
      case 'leave':
        this.checkSelf(from, req.leaving, 'leave')
        return this.onLeave(req)
      case 'hint':
        this.checkSelf(from, req.node, 'hint')
        return this.onHint(req)
      default:
        throw new RpcError('EBADMESSAGE', `unknown request type ${(req as { type: string }).type}`)
    }
  }

  /**
   * A notify, hint or leave speaks about its sender: the node it names must
   * be on the sender's machine (`from`, authenticated by the transport) and
   * carry one of that machine's ids. Anything else is a forgery: one member
   * could otherwise make us drop a live machine or adopt machines that do
   * not exist (issue 12, item 12).
   */
  private checkSelf(from: string, ref: NodeRef, what: string): void {
    if (ref.address === from && this.validRef(ref)) return
    this.refusedMessages++
    throw new RpcError('EBADMESSAGE', `a ${what} may only name its sender's own virtual nodes`)
  }

  /**
   * Whether ref's id is one of the ring ids of its machine's public key (as
   * told by the transport): a message cannot put a machine at a place of its
   * choosing, or name a machine that has no such key.
   */
  validRef(ref: NodeRef): boolean {
    if (ref.address === this.address) return this.byId.has(ref.id)
    const key = this.transport.publicKeyOf(ref.address)
    if (!key) return false
    return virtualNodeIds(key, Math.max(this.config.virtualNodes, this.config.maxVirtualNodes)).has(ref.id)
  }

  private onState(req: StateRequest): StateResponse {
    const v = this.byId.get(req.to)
    // Zave: a node that is still joining takes no part in the ring's
    // maintenance; answering with its empty list would make the asker adopt it.
    if (!v?.member) throw new RpcError('ENOTMEMBER', 'no such member here')
    if (req.notify) this.rectify(v, req.notify)
    return { type: 'state', predecessor: v.predecessor, successors: v.successors }
  }

  private onLeave(req: LeaveRequest): ResponseOf['leave'] {
    const v = this.byId.get(req.to)
    if (!v) throw new RpcError('ENOTMEMBER', 'no such virtual node here')
    const gone = req.leaving.address
    if (gone !== this.address) this.departed.set(gone, this.timers.now())
    wake(v)
    // What the leaver says about other machines (its predecessor, its list)
    // is believed at once only for machines we already know (believed); the
    // others are asked first, after the ack: the leaver must not wait for
    // our probes, and a forged list costs us probes, never our view.
    const named = (e: NodeRef | null): e is NodeRef => !!e && e.address !== gone && e.id !== v.id && this.validRef(e)
    const offeredPred = named(req.predecessor) ? req.predecessor : null
    const offered = mergeLists(v.id, [], req.successors.filter(named), this.config.successors)
    const known = offered.filter((e) => this.believed(e))
    const predKnown = !offeredPred || this.believed(offeredPred)
    this.applyLeave(v, gone, predKnown ? { predecessor: offeredPred } : null, known)
    const unknown = offered.filter((e) => !known.includes(e))
    if (!predKnown || unknown.length > 0) {
      const check = predKnown ? unknown : [offeredPred!, ...unknown]
      this.verified(gone, check)
        .then((ok) => {
          if (this.closed) return
          const pred = !predKnown && ok.includes(offeredPred!) ? offeredPred : null
          this.applyLeave(
            v,
            gone,
            predKnown ? null : { predecessor: pred },
            unknown.filter((e) => ok.includes(e))
          )
        })
        .catch(() => {})
    }
    this.forgetAddress(gone)
    return { type: 'ack' }
  }

  /**
   * The leaver `gone` is out of v's list (and of its predecessor if `pred`
   * is given: then pred.predecessor replaces it); `offered` nodes it named
   * are spliced into the list.
   */
  private applyLeave(
    v: VirtualNode,
    gone: string,
    pred: { predecessor: NodeRef | null } | null,
    offered: readonly NodeRef[]
  ): void {
    if (pred && v.predecessor && v.predecessor.address === gone) this.setPredecessor(v, pred.predecessor, 'leave')
    const kept = withoutAddress(v.successors, gone)
    if (kept.length !== v.successors.length || offered.length > 0) {
      let list = mergeLists(v.id, kept, offered, this.config.successors)
      // An empty list would say "I am alone". If we still have a predecessor
      // we are not: it is a live member, and stabilize walks on from it.
      const p = v.predecessor
      if (list.length === 0 && p && p.address !== gone && p.id !== v.id) list = [p]
      this.setSuccessors(v, list)
    }
  }

  private onHint(req: HintRequest): ResponseOf['hint'] {
    const v = this.byId.get(req.to)
    if (!v) throw new RpcError('ENOTMEMBER', 'no such virtual node here')
    wake(v)
    const s = v.successors[0]
    if (
      v.member &&
      req.node.id !== v.id &&
      !this.hasDeparted(req.node.address) &&
      (!s || inOpen(req.node.id, v.id, s.id))
    ) {
      this.adoptSuccessor(v, req.node).catch(() => {})
    }
    return { type: 'ack' }
  }

  /** Zave's rectify: the notifier n becomes our predecessor if it is a better one or ours is dead. */
  private rectify(v: VirtualNode, n: NodeRef): void {
    if (n.id === v.id || this.hasDeparted(n.address)) return
    const p = v.predecessor
    if (!p) {
      this.setPredecessor(v, n, 'repair')
      return
    }
    if (p.id === n.id) {
      v.predecessorSeenAt = this.timers.now()
      return
    }
    if (inOpen(n.id, p.id, v.id)) {
      this.setPredecessor(v, n, 'join')
      return
    }
    // n precedes our predecessor: fine while the predecessor is alive, which
    // we only doubt once it has missed stabilizing with us for two rounds.
    // A quiet predecessor stabilizes with us only every few rounds, so this
    // check can be a false alarm; it costs one ping, and notifiers from
    // before our predecessor are rare outside repair.
    if (this.timers.now() - v.predecessorSeenAt > 2 * this.config.stabilizeMs) this.checkPredecessor(v, n)
  }

  private checkPredecessor(v: VirtualNode, candidate: NodeRef): void {
    const pending = v.pendingPredecessor
    if (!pending || inOpen(candidate.id, pending.id, v.id)) v.pendingPredecessor = candidate
    if (v.checkingPredecessor) return
    const p = v.predecessor!
    v.checkingPredecessor = true
    this.rpc(p.address, { type: 'state', to: p.id, notify: null }, 2).then(
      () => {
        v.checkingPredecessor = false
        v.pendingPredecessor = null
        if (v.predecessor?.id === p.id) v.predecessorSeenAt = this.timers.now()
      },
      (err) => {
        v.checkingPredecessor = false
        const next = v.pendingPredecessor
        v.pendingPredecessor = null
        this.onRpcFailure(p.address, err)
        if (v.predecessor?.id === p.id && !this.closed) this.setPredecessor(v, next, 'failure')
      }
    )
  }

  // ------------------------------------------------------------ maintenance

  /** One stabilization round for every member virtual node. */
  async stabilize(): Promise<void> {
    if (this.closed) return
    await Promise.all(this.vnodes.filter((v) => v.member).map((v) => this.stabilizeVnode(v)))
  }

  /**
   * One stabilize round of v, then the quiet back-off: a vnode whose round
   * changed nothing, and whose successor names it as predecessor, stabilizes
   * less often (every 2nd round after QUIET_PER_SKIP quiet rounds, up to every
   * (MAX_SKIP + 1)th). Any change of its successors or predecessor, a hint or
   * a leave wakes it at once. A settled ring thus costs a fraction of a
   * message per vnode per round; a dead successor is noticed up to MAX_SKIP
   * rounds later, which lookups route around meanwhile (confirm, retries).
   */
  private async stabilizeVnode(v: VirtualNode): Promise<void> {
    const before = v.successors
    const seenBy = await this.stabilizeOnce(v)
    const quiet = seenBy && v.successors === before
    v.quietRounds = quiet ? v.quietRounds + 1 : 0
    v.skipRounds = Math.min(MAX_SKIP, Math.floor(v.quietRounds / QUIET_PER_SKIP))
  }

  /** Zave's stabilize for v. Returns whether v's successor answered naming v as its predecessor. */
  private async stabilizeOnce(v: VirtualNode): Promise<boolean> {
    let s: NodeRef | null = null
    let res: StateResponse | null = null
    while (v.successors.length > 0 && !this.closed) {
      s = v.successors[0]
      try {
        res = await this.rpc(s.address, { type: 'state', to: s.id, notify: v.ref }, 2)
        break
      } catch (err) {
        this.onRpcFailure(s.address, err)
        // Zave: a dead first successor is dropped and the next one tried.
        if (v.successors[0]?.id === s.id) this.setSuccessors(v, v.successors.slice(1))
        s = null
      }
    }
    if (this.closed) return false
    if (!s || !res) {
      await this.repairEmptyList(v)
      return false
    }
    // Adopt the successor's predecessor while it lies between us; walking
    // several steps per round lets a node catch up with a burst of joins.
    let behind = false
    for (let step = 0; ; step++) {
      const p: NodeRef | null = res.predecessor
      if (!p || p.id === v.id || !inOpen(p.id, v.id, s.id)) break
      if (step === WALK_STEPS) {
        behind = true
        break
      }
      try {
        const pres: StateResponse = await this.rpc(p.address, { type: 'state', to: p.id, notify: v.ref }, 2)
        if (this.closed) return false
        s = p
        res = pres
      } catch (err) {
        this.onRpcFailure(p.address, err)
        break
      }
    }
    if (behind) {
      // Many nodes joined between us and our successor: rather than walk
      // back to them one per step, ask the ring who owns our own id with our
      // machine left out. The answer comes from the node before us, which
      // does not know us yet, and its list starts with our true successor.
      // (Looking up v.id + 1 instead would end at v itself as soon as anyone
      // knows v, and v answers with the stale pointer: two nodes behind in
      // the same stretch then keep each other behind for hundreds of rounds.)
      if (s.address !== this.address) {
        try {
          const found = await this.findSuccessor(v.id, { via: s.address, exclude: [this.address] })
          const closer = found.successors.find((n) => inOpen(n.id, v.id, s!.id))
          if (closer) {
            res = await this.rpc(closer.address, { type: 'state', to: closer.id, notify: v.ref }, 2)
            s = closer
          }
        } catch {}
      }
    }
    const proposed = await this.verified(s.address, reconcile(v.id, s, res.successors, this.config.successors))
    if (this.closed) return false
    const head = v.successors[0]
    if (!head || head.id === s.id || inOpen(s.id, v.id, head.id)) this.setSuccessors(v, proposed)
    await this.probeCloserSuccessor(v, s)
    return res.predecessor?.id === v.id
  }

  /**
   * A node we know of (a finger, another vnode's neighbour, one of our own
   * vnodes) that lies between v and its successor s is a better successor
   * if it answers. Stabilize alone only learns of it once s hears from it,
   * which after a burst of joins can take many rounds (two interleaved
   * chains each look right from inside). In a settled ring no such node is
   * known, so this costs nothing there.
   */
  private async probeCloserSuccessor(v: VirtualNode, s: NodeRef): Promise<void> {
    const bound = distance(v.id, s.id)
    const now = this.timers.now()
    const own = this.nextOwnVnode(v)
    let x: NodeRef | null = own?.member && distance(v.id, own.id) < bound ? own.ref : null
    const remote = this.routing.firstAfter(
      v.id,
      x ? distance(v.id, x.id) : bound,
      (e) => this.recentlyUnreachable(e.address) || this.hasDeparted(e.address)
    )
    if (remote) x = remote
    if (!x || this.closed) return
    if (!(await this.adoptSuccessor(v, x)) && x.address !== this.address) this.markUnreachable(x.address, now)
  }

  /**
   * A member whose successor list ran empty: alone in the ring, or every
   * successor died. Alone, it adopts whoever notified it; otherwise it looks
   * for its successor like a joining node, through anything it still knows.
   */
  private async repairEmptyList(v: VirtualNode): Promise<void> {
    const p = v.predecessor
    if (p && p.id !== v.id) {
      try {
        const res = await this.rpc(p.address, { type: 'state', to: p.id, notify: v.ref }, 2)
        const list = await this.verified(p.address, reconcile(v.id, p, res.successors, this.config.successors))
        if (v.successors.length === 0) this.setSuccessors(v, list)
        return
      } catch (err) {
        this.onRpcFailure(p.address, err)
        if (v.predecessor?.id === p.id) this.setPredecessor(v, null, 'failure')
      }
    }
    if (this.routing.size === 0 && this.allPeers().length === 0) return
    try {
      const res = await this.findSuccessor((v.id + 1n) & RING_MASK)
      if (v.successors.length === 0 && res.node.id !== v.id) await this.adoptSuccessor(v, res.node)
    } catch {
      // Nothing reachable now; the heal timer retries through remembered peers.
    }
  }

  /** Makes `s` the first successor of v if it answers, copying its list. */
  private async adoptSuccessor(v: VirtualNode, s: NodeRef): Promise<boolean> {
    try {
      const res = await this.rpc(s.address, { type: 'state', to: s.id, notify: v.ref }, 2)
      const list = await this.verified(s.address, reconcile(v.id, s, res.successors, this.config.successors))
      const current = v.successors[0]
      if (!this.closed && (!current || inOpen(s.id, v.id, current.id))) {
        this.setSuccessors(v, list)
        return true
      }
    } catch (err) {
      this.onRpcFailure(s.address, err)
    }
    return false
  }

  /**
   * Whether a node named by another machine may enter our routing state
   * without a probe: it is on our machine, or on a machine our routing
   * table already holds (every entry got there by this same rule), or on a
   * machine that recently answered a request of ours or sent us one (the
   * transport authenticated it, so it exists and reaches us).
   */
  private believed(ref: NodeRef): boolean {
    if (ref.address === this.address) return this.byId.has(ref.id)
    return this.routing.hasMachine(ref.address) || this.heard.has(ref.address)
  }

  /**
   * The entries of `list` (named by the machine at `from`) we may believe:
   * the believed ones, and the others once they answered a probe. Order is
   * kept. A node that does not answer, or that `from` names beyond
   * PROBES_PER_SENDER probes in flight, is left out; stabilize offers it
   * again next round if it is real.
   */
  private async verified(from: string, list: NodeRef[]): Promise<NodeRef[]> {
    if (list.every((e) => this.believed(e))) return list
    const unknown = list.filter((e) => !this.believed(e))
    const answered = await Promise.all(unknown.map((e) => this.probe(from, e)))
    const refused = new Set(unknown.filter((_, i) => !answered[i]))
    return refused.size === 0 ? list : list.filter((e) => !refused.has(e))
  }

  /** Asks `ref` itself whether it is a member (one state request); shared by concurrent askers. */
  private probe(from: string, ref: NodeRef): Promise<boolean> {
    if (this.closed || this.hasDeparted(ref.address) || this.recentlyUnreachable(ref.address)) {
      return Promise.resolve(false)
    }
    const key = `${ref.address} ${ref.id}`
    const pending = this.probes.get(key)
    if (pending) return pending
    const inFlight = this.probesBySender.get(from) ?? 0
    if (inFlight >= PROBES_PER_SENDER || this.probes.size >= MAX_PROBES) return Promise.resolve(false)
    this.probesBySender.set(from, inFlight + 1)
    const p = this.rpc(ref.address, { type: 'state', to: ref.id, notify: null }, 2)
      .then(
        () => true,
        (err) => {
          const code = (err as { code?: string }).code
          if (code !== 'ENOTMEMBER' && code !== 'ECLOSED') this.markUnreachable(ref.address)
          this.onRpcFailure(ref.address, err)
          return false
        }
      )
      .finally(() => {
        this.probes.delete(key)
        const n = (this.probesBySender.get(from) ?? 1) - 1
        if (n > 0) this.probesBySender.set(from, n)
        else this.probesBySender.delete(from)
      })
    this.probes.set(key, p)
    return p
  }

  private recentlyUnreachable(address: string): boolean {
    const failed = this.unreachable.get(address)
    return failed !== undefined && this.timers.now() - failed < UNREACHABLE_ROUNDS * this.config.stabilizeMs
  }

  private markUnreachable(address: string, at = this.timers.now()): void {
    this.unreachable.delete(address)
    this.unreachable.set(address, at)
    if (this.unreachable.size > MAX_UNREACHABLE) this.unreachable.delete(this.unreachable.keys().next().value as string)
  }

  /**
   * A machine answered a request of ours, or sent one: it exists (see
   * believed), and an earlier failed probe of it no longer counts (after a
   * partition heals, the other half is probed again at once).
   */
  private hear(address: string): void {
    if (this.unreachable.size > 0) this.unreachable.delete(address)
    if (this.heard.delete(address) || this.heard.size < HEARD_MACHINES) {
      this.heard.set(address, true)
      return
    }
    this.heard.delete(this.heard.keys().next().value as string)
    this.heard.set(address, true)
  }

  /**
   * Drops from an answer every NodeRef whose id is not one of its machine's
   * ids (validRef): nothing downstream ever sees a machine at a forged place.
   */
  private sanitize(res: ChordResponse): ChordResponse {
    const ok = (e: NodeRef) => this.validRef(e)
    switch (res.type) {
      case 'state': {
        const predecessor = res.predecessor && !ok(res.predecessor) ? null : res.predecessor
        const successors = res.successors.every(ok) ? res.successors : res.successors.filter(ok)
        if (predecessor === res.predecessor && successors === res.successors) return res
        return { type: 'state', predecessor, successors }
      }
      case 'lookup':
        return res.nodes.every(ok) ? res : { type: 'lookup', done: res.done, nodes: res.nodes.filter(ok) }
      default:
        return res
    }
  }

  private async joinVnode(v: VirtualNode, via: string): Promise<void> {
    const res = await this.findSuccessor(v.id, { via: this.isMember ? undefined : via })
    let s = res.node
    let tail = res.successors.slice(1)
    if (s.id === v.id) {
      // Our id is already in the ring (we are rejoining): our successor follows it.
      if (tail.length === 0) throw new RpcError('ENOTMEMBER', 'ring holds only our own id')
      s = tail[0]
      tail = tail.slice(1)
    }
    // Walk back to the closest successor (others may have joined in front
    // of s meanwhile), then copy its list before becoming a member (Zave).
    let state = await this.rpc(s.address, { type: 'state', to: s.id, notify: null }, 2)
    for (let step = 0; step < WALK_STEPS; step++) {
      const p = state.predecessor
      if (!p || p.id === v.id || !inOpen(p.id, v.id, s.id)) break
      try {
        state = await this.rpc(p.address, { type: 'state', to: p.id, notify: null }, 2)
        s = p
        tail = []
      } catch {
        break
      }
    }
    const list = (
      await this.verified(
        s.address,
        reconcile(v.id, s, state.successors.length > 0 ? state.successors : tail, this.config.successors)
      )
    ).filter((e) => !this.hasDeparted(e.address))
    if (list.length === 0) throw new RpcError('ENOTMEMBER', 'no successor found')
    v.member = true
    this.setSuccessors(v, list)
    this.emit('vnode-joined', v.ref)
    // Announce ourselves to the successor now (notify) and to the
    // predecessor it had (hint), rather than waiting for their next rounds.
    this.rpc(s.address, { type: 'state', to: s.id, notify: v.ref }, 2).catch(() => {})
    const p = state.predecessor
    if (p && p.id !== v.id && !inOpen(p.id, v.id, s.id)) {
      this.rpc(p.address, { type: 'hint', to: p.id, node: v.ref }).catch(() => {})
    }
  }

  /**
   * Refreshes the fingers of every member virtual node, `concurrency`
   * lookups at a time. Resolves with the fraction of fingers that changed.
   */
  async refreshFingers(concurrency = this.config.fingerConcurrency): Promise<number> {
    if (this.refreshingFingers || this.closed) return 0
    this.refreshingFingers = true
    const startedAt = this.timers.now()
    const tally = { levels: 0, changed: 0 }
    try {
      const queue = this.vnodes.filter((v) => v.member)
      const worker = async () => {
        for (let v = queue.shift(); v && !this.closed; v = queue.shift()) await this.refreshVnodeFingers(v, tally)
      }
      await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker))
      if (!this.closed) this.fingersRefreshedAt = startedAt
      return tally.levels === 0 ? 0 : tally.changed / tally.levels
    } finally {
      this.refreshingFingers = false
    }
  }

  /**
   * The finger levels worth keeping for v: those beyond its successor list's
   * reach (closer ones are in the list) and not far beyond the machine's next
   * own virtual node (farther ones are beaten by that vnode's own fingers).
   */
  fingerLevels(v: VirtualNode): [number, number] {
    const low = bitLength(v.successorReach())
    const next = this.nextOwnVnode(v)
    const gap = next ? distance(v.id, next.id) : RING_SIZE
    const high = Math.min(255, bitLength(gap))
    return [low, high]
  }

  private async refreshVnodeFingers(v: VirtualNode, tally: { levels: number; changed: number }): Promise<void> {
    const [low, high] = this.fingerLevels(v)
    let known: NodeRef | null = null
    for (let k = low; k <= high && v.member && !this.closed; k++) {
      const start = v.fingerStart(k)
      let found: NodeRef | null = null
      if (known && inHalfOpen(start, v.fingerStart(k - 1), known.id)) {
        found = known
      } else {
        found = await this.verifyFinger(v.fingers.get(k), start)
        if (!found) {
          try {
            found = (await this.findSuccessor(start)).node
          } catch {
            continue
          }
          // Named by the last node of the lookup: a finger only once it answered us.
          if (!this.believed(found) && !(await this.probe(this.address, found))) continue
        }
      }
      known = found
      if (found.id === v.id) continue
      tally.levels++
      if (this.setFinger(v, k, found)) tally.changed++
    }
  }

  /**
   * The finger f still is the successor of `start` if start ∈ (f.predecessor, f]:
   * one round trip to f instead of a lookup of ½·log2 N hops. If nodes joined
   * in [start, f) since, f's predecessor is one of them: walk back a few
   * steps, as stabilize does. Returns null when that does not settle it (no
   * finger yet, too many joins, a dead node), and the caller looks it up.
   */
  private async verifyFinger(f: NodeRef | undefined, start: Id): Promise<NodeRef | null> {
    let c = f
    for (let step = 0; c && step < FINGER_WALK_STEPS; step++) {
      if (this.hasDeparted(c.address)) return null
      try {
        const res = await this.rpc(c.address, { type: 'state', to: c.id, notify: null })
        const p = res.predecessor
        if (!p) return null
        if (inHalfOpen(start, p.id, c.id)) return c
        c = p // p ∈ [start, c): closer to start
      } catch (err) {
        this.onRpcFailure(c.address, err)
        return null
      }
    }
    return null
  }

  /**
   * Looks one of our virtual nodes up through a remembered peer. If that peer
   * is in another ring (a healed partition) the answer is a closer successor,
   * which we adopt; then we do the same for every virtual node at once.
   */
  async heal(): Promise<boolean> {
    const peers = this.allPeers()
    if (peers.length === 0) return false
    return this.healThrough(peers[Math.floor(this.random() * peers.length)])
  }

  /**
   * A peer address learned from outside the ring (discovery, a new
   * connection): remembered for healing, and looked through once soon, which
   * merges our ring with its ring if they differ.
   */
  addPeer(address: string): void {
    if (address === this.address || this.closed) return
    this.remember(address, true)
    if (this.started)
      this.after(this.config.rpcTimeoutMs * this.random(), () => this.healThrough(address).catch(() => {}))
  }

  private async healThrough(via: string): Promise<boolean> {
    const members = this.vnodes.filter((v) => v.member)
    if (this.healing || this.closed || members.length === 0) return false
    this.healing = true
    try {
      const first = members[Math.floor(this.random() * members.length)]
      if (!(await this.healVnode(first, via))) return false
      await Promise.all(members.filter((v) => v !== first).map((v) => this.healVnode(v, via)))
      return true
    } finally {
      this.healing = false
    }
  }

  private async healVnode(v: VirtualNode, via: string): Promise<boolean> {
    try {
      const res = await this.findSuccessor((v.id + 1n) & RING_MASK, { via })
      const s = res.node
      if (s.id === v.id || !v.member) return false
      const current = v.successors[0]
      if (current && !inOpen(s.id, v.id, current.id)) return false
      return await this.adoptSuccessor(v, s)
    } catch {
      return false
    }
  }

  // --------------------------------------------------------------- timers

  private start(): void {
    if (this.started) return
    this.started = true
    const { stabilizeMs, fingerRefreshMs, healMs } = this.config
    this.every(stabilizeMs, () => {
      // Per virtual node, so that one slow walk does not hold up the others.
      for (const v of this.vnodes) {
        if (!v.member || v.stabilizing) continue
        if (v.skipRounds > 0) {
          v.skipRounds--
          continue
        }
        v.stabilizing = true
        this.stabilizeVnode(v)
          .catch(() => {})
          .finally(() => {
            v.stabilizing = false
          })
      }
    })
    // Fingers are refreshed at once, then adaptively: soon again while many
    // of them changed (the ring is growing), up to fingerRefreshMs apart
    // once they stop changing.
    let interval = Math.min(fingerRefreshMs, 10 * stabilizeMs)
    const refresh = (concurrency: number) => {
      this.refreshFingers(concurrency)
        .catch(() => 0)
        .then((changed) => {
          interval = changed > 0.02 ? Math.max(10 * stabilizeMs, interval / 2) : Math.min(fingerRefreshMs, interval * 2)
          this.after(interval * (0.9 + 0.2 * this.random()), () => refresh(this.config.fingerConcurrency))
        })
    }
    this.after(0, () => refresh(2 * this.config.fingerConcurrency))
    if (healMs > 0) {
      this.every(healMs, () => {
        this.heal().catch(() => {})
      })
    }
  }

  /** Runs fn about every `ms` (±10% jitter so machines do not act in lock-step). */
  private every(ms: number, fn: () => void): void {
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

  private after(ms: number, fn: () => void): void {
    const h = this.timers.setTimeout(() => {
      this.timerHandles.delete(h)
      if (!this.closed) fn()
    }, ms)
    this.timerHandles.add(h)
  }

  private stopTimers(): void {
    for (const h of this.timerHandles) this.timers.clearTimeout(h)
    this.timerHandles.clear()
  }

  // ---------------------------------------------------------------- state

  private setSuccessors(v: VirtualNode, proposed: NodeRef[]): void {
    const list = this.departed.size === 0 ? proposed : proposed.filter((e) => !this.hasDeparted(e.address))
    if (sameList(v.successors, list)) return
    wake(v)
    const oldHead = v.successors[0]
    this.routing.replace(v.successors, list)
    v.successors = list
    if (list[0] && list[0].address !== oldHead?.address) this.remember(list[0].address)
    this.emit('successors-changed', { vnode: v.ref, successors: list } satisfies SuccessorsChange)
  }

  private setPredecessor(v: VirtualNode, n: NodeRef | null, reason: RangeChangeReason): void {
    const old = v.predecessor
    if (n) this.routing.add(n)
    if (old) this.routing.remove(old)
    v.predecessor = n
    v.predecessorSeenAt = this.timers.now()
    if (n) this.remember(n.address)
    if (old?.id === n?.id) return
    wake(v)
    this.emit('range-changed', { vnode: v.ref, oldPredecessor: old, newPredecessor: n, reason } satisfies RangeChange)
  }

  private onRpcFailure(address: string, err: unknown): void {
    const code = (err as { code?: string }).code
    if (code === 'ENOTMEMBER') return
    this.heard.delete(address)
    this.forgetAddress(address)
    // A vnode resting in the quiet back-off whose successor just failed to
    // answer someone: stabilize it next round rather than MAX_SKIP later.
    for (const v of this.vnodes) if (v.successors[0]?.address === address) wake(v)
  }

  /** Drops fingers into a machine found dead; lists are repaired by stabilize. */
  private forgetAddress(address: string): void {
    for (const v of this.vnodes) {
      for (const [k, f] of v.fingers) if (f.address === address) this.setFinger(v, k, undefined)
    }
  }

  /** Returns whether the finger changed. */
  private setFinger(v: VirtualNode, k: number, ref: NodeRef | undefined): boolean {
    const old = v.fingers.get(k)
    if (old === ref || (old && ref && old.id === ref.id && old.address === ref.address)) return false
    if (ref) this.routing.add(ref)
    if (old) this.routing.remove(old)
    if (ref) v.fingers.set(k, ref)
    else v.fingers.delete(k)
    return true
  }

  /** Whether `address` told us it left the ring, recently enough that a reply naming it may be stale. */
  private hasDeparted(address: string): boolean {
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
  private maybeReturned(from: string): void {
    const at = this.departed.get(from)
    if (at !== undefined && this.timers.now() - at > this.config.rpcTimeoutMs) this.departed.delete(from)
  }

  private remember(address: string, always = false): void {
    if (address === this.address || this.bootstrap.includes(address) || this.remembered.includes(address)) return
    if (this.remembered.length < this.config.rememberedPeers) this.remembered.push(address)
    else if (always || this.random() < 0.1)
      this.remembered[Math.floor(this.random() * this.remembered.length)] = address
  }

  private allPeers(): string[] {
    return [...this.bootstrap, ...this.remembered]
  }

  /** The member vnode of ours closest before key (or at key). */
  private closestOwnMember(key: Id): VirtualNode | null {
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

  private nextOwnVnode(v: VirtualNode): VirtualNode | null {
    const n = this.sorted.length
    if (n < 2) return null
    const i = this.sorted.indexOf(v)
    return this.sorted[(i + 1) % n]
  }

  /** v's predecessor, skipping our own virtual nodes (for leave). */
  private externalPredecessor(v: VirtualNode): NodeRef | null {
    let p = v.predecessor
    for (let i = 0; p && p.address === this.address && i < this.vnodes.length; i++) {
      p = this.byId.get(p.id)?.predecessor ?? null
    }
    return p && p.address !== this.address ? p : null
  }

  /**
   * v's successors on other machines, r of them if we know that many. Our own
   * vnodes in v's list are read through: their lists continue v's (for leave,
   * where a list of only our own vnodes would hand the neighbours nothing).
   */
  private externalSuccessors(v: VirtualNode): NodeRef[] {
    const out: NodeRef[] = []
    let last = 0n
    let list: readonly NodeRef[] = v.successors
    for (let expanded = 0; expanded <= this.vnodes.length && out.length < this.config.successors; expanded++) {
      let farthestOwn: VirtualNode | undefined
      for (const e of list) {
        const d = distance(v.id, e.id)
        if (d === 0n) break // wrapped back to v
        if (d <= last) continue
        last = d
        if (e.address !== this.address) out.push(e)
        else farthestOwn = this.byId.get(e.id)
        if (out.length >= this.config.successors) break
      }
      if (!farthestOwn?.member) break
      list = farthestOwn.successors
    }
    return out
  }

  /**
   * Contacts the owner candidates in order and returns the list from the
   * first that answers. The answer names its predecessor p: if p lies in
   * [key, owner), a node joined in front of the owner that the answering node
   * did not know yet, and p is the true owner; it is confirmed in turn.
   */
  private async confirmOwner(
    key: Id,
    nodes: NodeRef[],
    dead: Set<string>
  ): Promise<{ nodes: NodeRef[]; contacts: number }> {
    let contacts = 0
    for (let i = 0; i < nodes.length; i++) {
      let c = nodes[i]
      let list = nodes.slice(i)
      let confirmed: NodeRef[] | null = null
      for (let step = 0; step <= CONFIRM_WALK_STEPS; step++) {
        let pred: NodeRef | null
        if (c.address === this.address) {
          pred = this.byId.get(c.id)?.predecessor ?? null
        } else {
          contacts++
          try {
            pred = (await this.rpc(c.address, { type: 'state', to: c.id, notify: null }, 2)).predecessor
          } catch (err) {
            dead.add(c.address)
            this.onRpcFailure(c.address, err)
            break
          }
        }
        confirmed = list
        // A predecessor this lookup found unreachable is asked once more: two
        // lost messages in a row must not make us skip a live owner.
        if (!pred || distance(key, pred.id) >= distance(key, c.id)) break
        dead.delete(pred.address)
        c = pred
        list = [pred, ...list]
      }
      if (confirmed) return { nodes: confirmed, contacts }
    }
    return { nodes: [], contacts }
  }

  /** A request to a machine; our own machine is answered locally, without the network. */
  private async rpc<T extends ChordRequest>(address: string, req: T, attempts = 1): Promise<ResponseOf[T['type']]> {
    if (this.closed) throw new RpcError('ECLOSED', 'node closed')
    if (address === this.address) return (await this.handleRequest(address, req)) as ResponseOf[T['type']]
    for (let i = 1; ; i++) {
      try {
        const res = await this.transport.request(address, req, this.config.rpcTimeoutMs)
        this.hear(address)
        return this.sanitize(res) as ResponseOf[T['type']]
      } catch (err) {
        const code = (err as { code?: string }).code
        if (i >= attempts || code === 'ENOTMEMBER' || code === 'ECLOSED' || this.closed) throw err
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new RpcError('ECLOSED', 'node closed')
  }
}

const EMPTY_SET: ReadonlySet<string> = new Set()

function wake(v: VirtualNode): void {
  v.quietRounds = 0
  v.skipRounds = 0
}

function popCandidate(stack: NodeRef[][], dead: ReadonlySet<string>): NodeRef | undefined {
  while (stack.length > 0) {
    const top = stack[stack.length - 1]
    while (top.length > 0) {
      const c = top.shift()!
      if (!dead.has(c.address)) return c
    }
    stack.pop()
  }
  return undefined
}

/** The first k entries on distinct machines. */
export function distinctMachines(list: readonly NodeRef[], k: number): NodeRef[] {
  const seen = new Set<string>()
  const out: NodeRef[] = []
  for (const n of list) {
    if (out.length >= k) break
    if (seen.has(n.address)) continue
    seen.add(n.address)
    out.push(n)
  }
  return out
}

function bitLength(x: bigint): number {
  if (x === 0n) return 0
  return x.toString(16).length * 4 - (Math.clz32(Number.parseInt(x.toString(16)[0], 16)) - 28)
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
