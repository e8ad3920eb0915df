// The connections to other nodes, and who may have one.
//
// Every connection carries exactly one protomux-rpc channel, created
// synchronously in the `connection` handler (protomux rejects a remote open
// that arrives before the channel exists, platform.md §3). The channel's open
// handshake carries each side's capability proof (capability.ts); protomux
// calls onopen before it delivers any buffered message, and a throw there
// destroys the stream, so no request of an unproven peer ever reaches a
// handler. Peers that fail the proof or stay silent are remembered in a set
// the swarm firewall consults, so they are neither redialed nor accepted again.
//
// Per-peer state is keyed by the remote public key (hex). hyperswarm may hand
// us two connections for one key for a moment (de-duplication, platform.md
// §2.4), so a key maps to a list of sessions and the newest authenticated one
// that is still open serves requests.

import c from 'compact-encoding'
import type { NoiseSecretStream } from 'hyperdht'
import ProtomuxRPC from 'protomux-rpc'
import { capability, verifyCapability } from './capability'
import { PRE_ENCODED } from './codec'
import { type NetError, netError } from './errors'
import { Semaphore } from '../common/semaphore'
import { MAX_CONCURRENT_HANDLERS_PER_PEER, MAX_QUEUED_HANDLERS_PER_PEER, PROTOCOL } from './protocol'

export interface Session {
  hex: string
  publicKey: Buffer
  conn: NoiseSecretStream
  rpc: ProtomuxRPC
  authenticated: boolean
  closed: boolean
  limiter: Semaphore
  destroyTimer?: NodeJS.Timeout
}

export interface SessionEvents {
  /** Gives a new session its handlers, before any message of it can arrive. */
  attach(session: Session): void
  /** The session proved the network key; `first` when its peer had no authenticated session before. */
  authenticated(session: Session, first: boolean): void
  /** The session failed or skipped the proof; its peer is firewalled from now on. */
  rejected(session: Session, reason: string): void
  /** The last authenticated session of this peer closed. */
  gone(publicKey: Buffer): void
}

export interface SessionsOptions {
  networkKey: Buffer
  /** Bound on the capability proof of a new connection. */
  connectionTimeoutMs: number
  events: SessionEvents
}

// hyperdht sends keep-alives every 5 s; an idle-timeout below that would kill healthy idle connections.
const MIN_STREAM_TIMEOUT_MS = 7_500
// How long a rejected peer's stream may take to end gracefully before we destroy it.
const REJECT_GRACE_MS = 1_000
/**
 * A connection we dialed that has received nothing this long after it opened
 * never reached the peer. hyperdht opens a dialed stream as soon as the
 * handshake (relayed through the DHT) is done, before the first packet crosses;
 * measured on a 4-node loopback ring under load, 1 in 3 newcomers' first
 * packets were never answered and every such connection sat out the full
 * proof timeout (10 s) before hyperswarm dialed again. Closed early, without
 * holding it against the peer, the redial comes 6 s sooner.
 */
const FIRST_REPLY_MS = 4_000

export class Sessions {
  private readonly networkKey: Buffer
  private readonly connectionTimeoutMs: number
  private readonly events: SessionEvents
  private readonly byPeer = new Map<string, Session[]>()
  private readonly announced = new Set<string>()
  private readonly rejected = new Set<string>()
  /** Peers the operator cut off (block()); unlike `rejected`, this can be lifted. */
  private readonly blocked = new Set<string>()
  /** Encrypted bytes of connections that have closed; live ones are summed in wireBytes(). */
  private readonly closedWire = { sent: 0, received: 0 }
  private stopped = false

  constructor(opts: SessionsOptions) {
    this.networkKey = opts.networkKey
    this.connectionTimeoutMs = opts.connectionTimeoutMs
    this.events = opts.events
  }

  /** The swarm firewall: a peer that failed the proof is never accepted again. */
  isRejected(hex: string): boolean {
    return this.rejected.has(hex)
  }

  /** Why this peer may not be dialed, or null. */
  refusal(hex: string): NetError | null {
    if (this.rejected.has(hex)) return netError('EPEERUNREACHABLE', `peer ${short(hex)} failed the capability proof`)
    if (this.blocked.has(hex)) return netError('EPEERUNREACHABLE', `peer ${short(hex)} is blocked`)
    return null
  }

  /** Closes the peer's connections and refuses new ones until unblock(). */
  block(hex: string): void {
    this.blocked.add(hex)
    for (const session of this.byPeer.get(hex) ?? []) session.conn.destroy()
  }

  /** True if the peer was blocked. */
  unblock(hex: string): boolean {
    return this.blocked.delete(hex)
  }

  /** No more connections are accepted; the network is closing. */
  stop(): void {
    this.stopped = true
  }

  /** The newest authenticated, open session to the peer. */
  current(hex: string): Session | null {
    const list = this.byPeer.get(hex)
    if (!list) return null
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i].authenticated && !list[i].closed) return list[i]
    }
    return null
  }

  *all(): Iterable<Session> {
    for (const list of this.byPeer.values()) yield* list
  }

  /** Public keys of the peers with an authenticated connection now. */
  peers(): Buffer[] {
    return [...this.announced].map((hex) => Buffer.from(hex, 'hex'))
  }

  wireBytes(): { sent: number; received: number } {
    let { sent, received } = this.closedWire
    for (const s of this.all()) {
      sent += s.conn.rawBytesWritten
      received += s.conn.rawBytesRead
    }
    return { sent, received }
  }

  /** The swarm's `connection` handler. */
  accept(conn: NoiseSecretStream): void {
    // A secret-stream error is always followed by 'close', which is where we clean up.
    conn.on('error', noop)
    const publicKey = Buffer.from(conn.remotePublicKey)
    const hex = publicKey.toString('hex')
    if (this.stopped || this.rejected.has(hex) || this.blocked.has(hex)) {
      conn.destroy()
      return
    }
    conn.setTimeout(Math.max(this.connectionTimeoutMs, MIN_STREAM_TIMEOUT_MS))

    // Synchronously, before any await: see the header comment.
    const rpc = new ProtomuxRPC(conn, {
      protocol: PROTOCOL,
      valueEncoding: PRE_ENCODED,
      handshake: capability(conn.isInitiator, this.networkKey, conn.handshakeHash),
      handshakeEncoding: c.fixed32
    })
    const session: Session = {
      hex,
      publicKey,
      conn,
      rpc,
      authenticated: false,
      closed: false,
      limiter: new Semaphore(MAX_CONCURRENT_HANDLERS_PER_PEER, MAX_QUEUED_HANDLERS_PER_PEER)
    }
    let list = this.byPeer.get(hex)
    if (!list) {
      list = []
      this.byPeer.set(hex, list)
    }
    list.push(session)
    this.events.attach(session)

    const proofTimer = setTimeout(() => {
      if (!session.authenticated) this.reject(session, 'no capability proof in time')
    }, this.connectionTimeoutMs)
    const silentTimer = conn.isInitiator
      ? setTimeout(
          () => {
            if (!session.authenticated && conn.rawBytesRead === 0) conn.destroy()
          },
          Math.min(FIRST_REPLY_MS, this.connectionTimeoutMs / 2)
        )
      : null

    rpc.on('open', (remoteProof: unknown) => {
      clearTimeout(proofTimer)
      if (silentTimer) clearTimeout(silentTimer)
      if (!verifyCapability(remoteProof, conn.isInitiator, this.networkKey, conn.handshakeHash)) {
        this.reject(session, 'invalid capability')
        return
      }
      session.authenticated = true
      this.onAuthenticated(session)
    })
    conn.on('close', () => {
      clearTimeout(proofTimer)
      if (silentTimer) clearTimeout(silentTimer)
      if (session.destroyTimer) clearTimeout(session.destroyTimer)
      this.onClosed(session)
    })
  }

  /**
   * Drops a peer that failed or skipped the capability proof, and firewalls it.
   *
   * We run inside protomux's onopen, before it delivers the requests the peer
   * pipelined behind its open. Closing the channel here clears protomux-rpc's
   * responders, so those requests hit no handler and their replies are never
   * sent (and the dispatcher refuses any unauthenticated session anyway). The
   * stream is ended rather than destroyed: a destroy discards our own open
   * frame, and the remote then learns of the failure only by its timeout
   * (measured: 10 s instead of a few ms). A remote that never ends its side is
   * destroyed soon after.
   */
  private reject(session: Session, reason: string): void {
    this.rejected.add(session.hex)
    session.rpc.destroy(netError('EPEERUNREACHABLE', reason))
    session.conn.end()
    session.destroyTimer = setTimeout(() => session.conn.destroy(), REJECT_GRACE_MS)
    this.events.rejected(session, reason)
  }

  private onAuthenticated(session: Session): void {
    if (session.closed) return
    const first = !this.announced.has(session.hex)
    if (first) this.announced.add(session.hex)
    this.events.authenticated(session, first)
  }

  private onClosed(session: Session): void {
    session.closed = true
    const list = this.byPeer.get(session.hex)
    if (list) {
      const i = list.indexOf(session)
      if (i !== -1) {
        list.splice(i, 1)
        this.closedWire.sent += session.conn.rawBytesWritten
        this.closedWire.received += session.conn.rawBytesRead
      }
      if (list.length === 0) this.byPeer.delete(session.hex)
    }
    if (this.announced.has(session.hex) && this.current(session.hex) === null) {
      this.announced.delete(session.hex)
      this.events.gone(session.publicKey)
    }
  }
}

export function short(hex: string): string {
  return hex.slice(0, 12)
}

function noop(): void {}
