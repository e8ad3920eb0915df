// Connecting on demand: a request to a peer without an authenticated session
// asks hyperswarm to dial it and waits, with a deadline, until one of its
// connections proves the network key (or is rejected). Several requests to
// the same peer share one dial. A peer whose DHT socket address is known is
// dialed there directly (no lookup: it works with every bootstrap down).

import type Hyperswarm from 'hyperswarm'
import type { DhtAddress } from './dht-address'
import { type NetError, netError } from './errors'
import { type Session, type Sessions, short } from './session'

interface Waiter {
  resolve(session: Session): void
  reject(err: Error): void
  timer: NodeJS.Timeout
}

export type DialResult = { session: Session } | { error: Error }

export class Dialer {
  /** Null for a lone node, which `refusal` keeps from dialing. */
  private readonly swarm: Hyperswarm | null
  private readonly sessions: Sessions
  private readonly refusal: (hex: string) => NetError | null
  private readonly dialDirect: (peerKey: Buffer, at: DhtAddress) => void
  private readonly locate: (peerKey: Buffer) => void
  private readonly waiters = new Map<string, Set<Waiter>>()

  /**
   * `refusal` says why a peer without a session may not be dialed now (null: it may);
   * `dialDirect` opens a connection to a peer's DHT socket and hands it to the sessions;
   * `locate` does so where the peer is known or said to be (dht-address.ts).
   */
  constructor(
    swarm: Hyperswarm | null,
    sessions: Sessions,
    refusal: (hex: string) => NetError | null,
    dialDirect: (peerKey: Buffer, at: DhtAddress) => void,
    locate: (peerKey: Buffer) => void
  ) {
    this.swarm = swarm
    this.sessions = sessions
    this.refusal = refusal
    this.dialDirect = dialDirect
    this.locate = locate
  }

  /** Resolves with an authenticated session to the peer, dialing it if needed (at its DHT socket `at` when given). */
  connect(peerKey: Buffer, timeoutMs: number, at?: DhtAddress): Promise<Session> {
    const hex = peerKey.toString('hex')
    const existing = this.sessions.current(hex)
    if (existing) return Promise.resolve(existing)
    const refused = this.refusal(hex)
    if (refused) return Promise.reject(refused)

    return new Promise<Session>((resolve, reject) => {
      let set = this.waiters.get(hex)
      const first = !set
      if (!set) {
        set = new Set()
        this.waiters.set(hex, set)
      }
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.drop(hex, waiter)
          reject(netError('EPEERUNREACHABLE', `no authenticated connection to ${short(hex)} within ${timeoutMs} ms`))
        }, timeoutMs)
      }
      set.add(waiter)
      if (at) {
        this.dialDirect(Buffer.from(peerKey), at)
      } else if (first) {
        // Both: the DHT lookup needs a reachable bootstrap, a known address does not.
        this.locate(Buffer.from(peerKey))
        // An explicit peer is redialed by hyperswarm with backoff until leavePeer (drop / settle).
        this.swarm?.joinPeer(Buffer.from(peerKey))
      }
    })
  }

  /** Hands the outcome of a peer's connection to everyone waiting for it, and stops dialing it. */
  settle(hex: string, result: DialResult): void {
    const set = this.waiters.get(hex)
    if (!set) return
    this.waiters.delete(hex)
    for (const w of set) {
      clearTimeout(w.timer)
      if ('session' in result) w.resolve(result.session)
      else w.reject(result.error)
    }
    if (this.swarm && !this.swarm.destroyed) this.swarm.leavePeer(Buffer.from(hex, 'hex'))
  }

  /** Fails every pending dial (the network is closing). */
  settleAll(error: () => Error): void {
    for (const hex of [...this.waiters.keys()]) this.settle(hex, { error: error() })
  }

  private drop(hex: string, waiter: Waiter): void {
    const set = this.waiters.get(hex)
    if (!set) return
    set.delete(waiter)
    if (set.size > 0) return
    this.waiters.delete(hex)
    // Dialing on demand must not turn into redialing forever.
    if (this.swarm && !this.swarm.destroyed) this.swarm.leavePeer(Buffer.from(hex, 'hex'))
  }
}
