// Finding the other nodes of the network: the swarm joins the topic derived
// from the network key as server and client, and this module keeps that
// announcement fresh. hyperswarm itself refreshes only every ~10 min, so a
// failed announce (no reachable bootstrap yet) is retried with backoff, and a
// successful one is repeated twice soon after, then every minute: a bootstrap
// that restarted holds no announcement at all, and until every member has
// announced again a newcomer's lookup finds nobody (issue 15: a returning node
// sat alone for 5 minutes). The node is online while the latest announce
// succeeded; a lone node (no bootstrap) always is. Whether anyone answered is
// the node's business (lib/node/reachability.ts), which rejoins while alone.

import type Hyperswarm from 'hyperswarm'
import type { PeerDiscoverySession } from 'hyperswarm'
import { safetyCatch } from '../common/resource'

const REJOIN_BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 30_000, 60_000]
const EARLY_REJOIN_MS = [2_000, 10_000]
/** A few DHT queries a minute per node: cheap next to a newcomer waiting 10 minutes. */
const STEADY_REJOIN_MS = 60_000

export interface DiscoveryOptions {
  /** Null for a lone node (no bootstrap addresses, no socket): online at once, never announces. */
  swarm: Hyperswarm | null
  topic: Buffer
  /** Called on every change of `online`. */
  onChange(online: boolean): void
}

export class Discovery {
  private readonly swarm: Hyperswarm | null
  private readonly topic: Buffer
  private readonly onChange: (online: boolean) => void
  private session: PeerDiscoverySession | null = null
  private rejoinTimer: NodeJS.Timeout | null = null
  private rejoinAttempts = 0
  private earlyRejoins = 0
  private lastFlush: Promise<boolean> = Promise.resolve(false)
  private stopped = false
  private flushing = false
  private _online = false

  constructor(opts: DiscoveryOptions) {
    this.swarm = opts.swarm
    this.topic = opts.topic
    this.onChange = opts.onChange
  }

  get online(): boolean {
    return this._online
  }

  /** Joins the topic; the swarm must be listening. Never waits for the DHT: see flushed(). */
  start(): void {
    if (!this.swarm) {
      this.setOnline(true)
      return
    }
    this.session = this.swarm.join(this.topic, { server: true, client: true })
    this.lastFlush = this.watchFlush()
  }

  /** Resolves when the latest announce/lookup of the topic finished: true if it succeeded. */
  flushed(): Promise<boolean> {
    return this.lastFlush
  }

  /** Announces and looks up the topic again (and re-announces the server). */
  async rejoin(): Promise<boolean> {
    if (!this.swarm || !this.session || this.stopped) return false
    // A refresh restarts the lookup under way: callers retrying every few seconds never let one finish.
    if (this.flushing) return this.lastFlush
    this.swarm.server.refresh()
    await this.session.refresh().catch(() => {})
    this.lastFlush = this.watchFlush()
    return this.lastFlush
  }

  /** No more rejoins; the network is closing. */
  stop(): void {
    this.stopped = true
    if (this.rejoinTimer) clearTimeout(this.rejoinTimer)
    this.rejoinTimer = null
  }

  /** Once the swarm is destroyed. */
  markOffline(): void {
    this.setOnline(false)
  }

  private async watchFlush(): Promise<boolean> {
    const session = this.session
    if (!session) return false
    this.flushing = true
    const ok = await session.flushed().catch(() => false)
    this.flushing = false
    if (this.stopped) return ok
    this.setOnline(ok)
    if (ok) {
      this.rejoinAttempts = 0
      // Nodes that start together announce concurrently and can miss each other; hyperswarm
      // would look again only after ~10 min, so look again twice soon after the first success.
      if (this.earlyRejoins < EARLY_REJOIN_MS.length) this.scheduleRejoin(EARLY_REJOIN_MS[this.earlyRejoins++])
      else this.scheduleRejoin(STEADY_REJOIN_MS)
    } else {
      this.scheduleRejoin(REJOIN_BACKOFF_MS[Math.min(this.rejoinAttempts++, REJOIN_BACKOFF_MS.length - 1)])
    }
    return ok
  }

  private scheduleRejoin(delayMs: number): void {
    if (this.rejoinTimer || this.stopped) return
    this.rejoinTimer = setTimeout(() => {
      this.rejoinTimer = null
      this.rejoin().catch(safetyCatch)
    }, delayMs)
  }

  private setOnline(online: boolean): void {
    if (this._online === online) return
    this._online = online
    this.onChange(online)
  }
}
