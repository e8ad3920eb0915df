// A small simulated ring for tests: real ChordNodes on the simulated network,
// driven tick by tick, with Zave's invariants checkable after every tick.

import { checkInvariants, type MemberState } from '../../lib/chord/invariants'
import { ChordNode, type ChordNodeOptions } from '../../lib/chord/node'
import { SimNetwork } from '../../lib/sim/network'
import { Oracle } from '../../lib/sim/oracle'
import { Prng } from '../../lib/sim/prng'
import { Scheduler } from '../../lib/sim/scheduler'

export interface RingOptions {
  seed?: number
  vnodes?: number
  successors?: number
  loss?: number
  /** Fixed public keys are derived from this prefix and the machine number. */
  chord?: Partial<ChordNodeOptions>
}

export class TestRing {
  readonly scheduler = new Scheduler()
  readonly network: SimNetwork
  readonly prng: Prng
  readonly nodes = new Map<string, ChordNode>()
  readonly oracle = new Oracle()
  /** Machines that started a graceful leave: gone, as far as the operating assumption goes. */
  readonly going = new Set<ChordNode>()
  violations: string[] = []
  private created = 0
  private opts: RingOptions

  constructor(opts: RingOptions = {}) {
    this.opts = opts
    this.prng = new Prng(opts.seed ?? 1)
    this.network = new SimNetwork(this.scheduler, this.prng.fork(), { lossRate: opts.loss ?? 0 })
  }

  /** A machine, not yet in any ring. `publicKey` fixes its ids. */
  machine(publicKey?: Buffer): ChordNode {
    const address = `m${this.created++}`
    const random = this.prng.fork()
    const key = publicKey ?? this.prng.bytes(32)
    const node = new ChordNode({
      publicKey: key,
      transport: this.network.transport(address, key),
      timers: this.scheduler,
      random: () => random.float(),
      virtualNodes: this.opts.vnodes ?? 1,
      successors: this.opts.successors ?? 4,
      stabilizeMs: 1000,
      rpcTimeoutMs: 500,
      fingerRefreshMs: 10_000,
      healMs: 2000,
      ...this.opts.chord
    })
    this.nodes.set(address, node)
    return node
  }

  /** Checks the invariants after every tick from now on. */
  watch(): void {
    this.scheduler.afterTick = () => this.check()
  }

  check(): string[] {
    const members: MemberState[] = []
    for (const n of this.live()) for (const v of n.vnodes) if (v.member) members.push(v)
    const report = checkInvariants(members, (a) => this.network.isUp(a))
    for (const v of report.violations) this.violations.push(`t=${this.scheduler.now()} ${v}`)
    return report.violations
  }

  live(): ChordNode[] {
    return [...this.nodes.values()].filter((n) => !n.isClosed && this.network.isUp(n.address))
  }

  /**
   * Zave's operating assumption: a machine may fail (or leave) only if every
   * member keeps a live member entry on another machine in its successor
   * list, and some other machine stays a member. Her invariants are promised
   * only for schedules that respect it (docs/chord.md, "Invariants checked").
   * Machines already leaving count as gone.
   */
  mayRemove(victim: ChordNode): boolean {
    const staying = this.live().filter((n) => n !== victim && !this.going.has(n))
    const members = new Map<bigint, string>()
    for (const n of staying) for (const v of n.vnodes) if (v.member) members.set(v.id, n.address)
    if (members.size === 0) return false
    for (const n of staying) {
      for (const v of n.vnodes) {
        if (!v.member || v.successors.length === 0) continue
        if (!v.successors.some((s) => members.get(s.id) === s.address)) return false
      }
    }
    return true
  }

  /** Starts a graceful leave (not awaited). */
  leave(node: ChordNode): void {
    this.going.add(node)
    node.leave().catch(() => {})
  }

  crash(node: ChordNode): void {
    node.close()
    this.network.crash(node.address)
  }

  /** Awaits a promise while virtual time runs. */
  async until<T>(promise: Promise<T>, maxMs = 60_000): Promise<T> {
    let settled = false
    let value: T | undefined
    let error: unknown
    let failed = false
    promise.then(
      (v) => {
        settled = true
        value = v
      },
      (e) => {
        settled = true
        failed = true
        error = e
      }
    )
    const end = this.scheduler.now() + maxMs
    while (!settled && this.scheduler.now() < end) await this.scheduler.runFor(10)
    if (!settled) throw new Error('timed out in virtual time')
    if (failed) throw error
    return value as T
  }

  async run(ms: number): Promise<void> {
    await this.scheduler.runFor(ms)
  }

  /** Runs stabilization rounds until every pointer is the true one (or maxRounds). */
  async settle(maxRounds = 60): Promise<number> {
    for (let i = 0; i <= maxRounds; i++) {
      if (this.consistent()) return i
      await this.run(1000)
    }
    return -1
  }

  consistent(): boolean {
    this.oracle.rebuild(this.live())
    return this.oracle.consistent(this.live())
  }
}

/** A ring of `count` machines: the first creates it, the others join through it one after the other. */
export async function build(ring: TestRing, count: number, keys?: Buffer[]): Promise<ChordNode[]> {
  const nodes = [ring.machine(keys?.[0])]
  await nodes[0].create()
  for (let i = 1; i < count; i++) {
    const n = ring.machine(keys?.[i])
    await ring.until(n.join([nodes[0].address]))
    nodes.push(n)
  }
  return nodes
}
