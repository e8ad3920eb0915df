// Whether this node reaches anyone, and what it does while it does not. A
// node configured to find others (bootstrap addresses) with no peer connected
// is *alone*: it says so (log and status: "no peer reachable since …,
// retrying") and keeps trying with backoff: the peers it remembers
// (known-peers.ts) are dialed at their DHT sockets, which needs no bootstrap,
// and the topic is announced and looked up again. Before, a node whose lookup
// "succeeded" on a restarted bootstrap (which holds no announcement) counted
// as online with 0 peers and waited for hyperswarm's 10-minute refresh.

import { safetyCatch } from '../common/resource'
import type { DhtAddress, PeerNetwork } from '../net'
import type { KnownPeers } from './known-peers'

/** Delays between attempts while alone; the last repeats. */
const RETRY_MS = [1_000, 2_000, 4_000, 8_000, 15_000]
/** How long one direct dial of a remembered peer may take. */
const DIAL_TIMEOUT_MS = 3_000
/** Alone this long before it is worth a line (a lookup's peers take a moment to connect). */
const LOG_AFTER_MS = 3_000
/** How often a node that stays alone says so again in its log. */
const REMIND_MS = 5 * 60_000

export interface ReachabilityOptions {
  network: PeerNetwork
  known: KnownPeers
  /** Only a node configured to find others can be alone. */
  networked: boolean
  log(line: string): void
}

export class Reachability {
  private readonly network: PeerNetwork
  private readonly known: KnownPeers
  private readonly networked: boolean
  private readonly log: (line: string) => void
  private aloneSinceMs: number | null = null
  private loggedAt = 0
  private attempts = 0
  private timer: NodeJS.Timeout | null = null
  private closed = false

  constructor(opts: ReachabilityOptions) {
    this.network = opts.network
    this.known = opts.known
    this.networked = opts.networked
    this.log = opts.log
    this.network.on('peer-address', (pk: Buffer, at: DhtAddress) => this.known.note(pk.toString('hex'), at))
    this.network.on('peer-add', () => this.onPeer())
    this.network.on('peer-remove', () => {
      if (this.network.peers().length === 0) this.becomeAlone()
    })
  }

  /** Since when no peer is connected (ms since the epoch), or null. */
  get aloneSince(): number | null {
    return this.aloneSinceMs
  }

  /** Once the network is listening: the remembered peers are dialed at once. */
  start(): void {
    if (!this.networked || this.network.peers().length > 0) return
    this.becomeAlone()
  }

  close(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.known.close()
  }

  private becomeAlone(): void {
    if (!this.networked || this.closed || this.aloneSinceMs !== null) return
    this.aloneSinceMs = Date.now()
    this.loggedAt = 0
    this.attempts = 0
    this.attempt().catch(safetyCatch)
  }

  private onPeer(): void {
    if (this.aloneSinceMs === null) return
    if (this.loggedAt > 0) {
      this.log(`peer reachable again after ${((Date.now() - this.aloneSinceMs) / 1000).toFixed(1)} s alone`)
    }
    this.aloneSinceMs = null
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  private async attempt(): Promise<void> {
    const known = this.known.list()
    // Both at once: a remembered peer answers in milliseconds, a lookup needs the DHT.
    const lookup = this.network.rejoin().catch(() => false)
    await Promise.all(known.map((p) => this.network.dialAt(Buffer.from(p.key, 'hex'), p, DIAL_TIMEOUT_MS)))
    if (this.network.peers().length === 0) await lookup
    if (this.closed || this.aloneSinceMs === null || this.network.peers().length > 0) return
    const delay = RETRY_MS[Math.min(this.attempts++, RETRY_MS.length - 1)]
    const now = Date.now()
    if (now - this.aloneSinceMs >= LOG_AFTER_MS && now - this.loggedAt >= REMIND_MS) {
      this.loggedAt = now
      this.log(
        `no peer reachable since ${new Date(this.aloneSinceMs).toISOString()} (${known.length} remembered, lookup on the DHT): retrying`
      )
    }
    this.timer = setTimeout(() => {
      this.timer = null
      this.attempt().catch(safetyCatch)
    }, delay)
  }
}
