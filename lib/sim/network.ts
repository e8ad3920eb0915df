// The simulated network: per-message latency drawn from a seeded
// distribution, message loss, machines that crash without goodbye, and
// partitions. A request that is lost, or sent to a crashed or unreachable
// machine, fails with ETIMEDOUT when its timeout expires, as on a real network.

import type { ChordRequest, ChordResponse } from '../chord/messages'
import { type RequestHandler, rpcError, type Transport } from '../chord/transport'
import type { Prng } from './prng'
import type { Scheduler } from './scheduler'

export interface NetworkOptions {
  /** Smallest one-way latency. */
  minLatencyMs: number
  /** Mean one-way latency (min + exponential tail). */
  meanLatencyMs: number
  /** Probability that one message (request or response) is lost. */
  lossRate: number
}

export const DEFAULT_NETWORK: NetworkOptions = { minLatencyMs: 5, meanLatencyMs: 40, lossRate: 0.001 }

export class SimNetwork {
  readonly scheduler: Scheduler
  readonly options: NetworkOptions
  private readonly random: Prng
  private readonly handlers = new Map<string, RequestHandler>()
  private readonly keys = new Map<string, Uint8Array>()
  private readonly crashed = new Set<string>()
  private groups: Map<string, number> | null = null
  messages = 0

  constructor(scheduler: Scheduler, random: Prng, options: Partial<NetworkOptions> = {}) {
    this.scheduler = scheduler
    this.random = random
    this.options = { ...DEFAULT_NETWORK, ...options }
  }

  /** `publicKey` is the machine's: Chord checks the ids a message names against it (publicKeyOf). */
  transport(address: string, publicKey: Uint8Array): SimTransport {
    this.keys.set(address, publicKey)
    return new SimTransport(this, address)
  }

  publicKeyOf(address: string): Uint8Array | null {
    return this.keys.get(address) ?? null
  }

  register(address: string, handler: RequestHandler): void {
    this.handlers.set(address, handler)
    this.crashed.delete(address)
  }

  /** The machine stops answering and its own pending requests never complete. */
  crash(address: string): void {
    this.crashed.add(address)
    this.handlers.delete(address)
  }

  isUp(address: string): boolean {
    return this.handlers.has(address) && !this.crashed.has(address)
  }

  /** Splits the network: machines only reach machines of their own group. null heals. */
  partition(groups: Map<string, number> | null): void {
    this.groups = groups
  }

  canReach(from: string, to: string): boolean {
    if (!this.isUp(to)) return false
    if (!this.groups) return true
    return (this.groups.get(from) ?? 0) === (this.groups.get(to) ?? 0)
  }

  latency(): number {
    const { minLatencyMs, meanLatencyMs } = this.options
    return Math.max(1, Math.round(minLatencyMs + this.random.exp(meanLatencyMs - minLatencyMs)))
  }

  lost(): boolean {
    return this.options.lossRate > 0 && this.random.float() < this.options.lossRate
  }

  send(from: string, to: string, req: ChordRequest, timeoutMs: number): Promise<ChordResponse> {
    this.messages++
    const sched = this.scheduler
    const sentAt = sched.now()
    return new Promise((resolve, reject) => {
      const timeout = () => sched.at(sentAt + timeoutMs, () => reject(rpcError('ETIMEDOUT', `${to} did not answer`)))
      const there = this.latency()
      const back = this.latency()
      if (there + back > timeoutMs || this.lost()) return void timeout()
      sched.at(sentAt + there, () => {
        const handler = this.handlers.get(to)
        if (!handler || !this.canReach(from, to)) return void timeout()
        this.messages++
        const lostBack = this.lost()
        handler(from, req).then(
          (res) => {
            if (lostBack) return void timeout()
            sched.at(sentAt + there + back, () => {
              if (this.canReach(to, from)) resolve(res)
              else if (this.isUp(from)) timeout()
            })
          },
          (err) => {
            if (lostBack || (err as { code?: string }).code === 'ECLOSED') return void timeout()
            sched.at(sentAt + there + back, () => reject(err))
          }
        )
      })
    })
  }
}

export class SimTransport implements Transport {
  readonly address: string
  private readonly net: SimNetwork

  constructor(net: SimNetwork, address: string) {
    this.net = net
    this.address = address
  }

  request(to: string, req: ChordRequest, timeoutMs: number): Promise<ChordResponse> {
    return this.net.send(this.address, to, req, timeoutMs)
  }

  setRequestHandler(handler: RequestHandler): void {
    this.net.register(this.address, handler)
  }

  publicKeyOf(address: string): Uint8Array | null {
    return this.net.publicKeyOf(address)
  }
}
