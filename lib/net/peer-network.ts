// PeerNetwork: an authenticated RPC network between the nodes of one
// PeerStore network (one 32-byte network key).
//
// One hyperswarm (over one hyperdht, both with the node's persistent key pair;
// swarm.ts) joins the topic derived from the network key as server and client
// (discovery.ts); a lone node has none and opens no socket. Every connection
// carries one protomux-rpc channel whose open handshake proves the network
// key (session.ts); requests to a peer without a connection dial it on
// demand (dialer.ts); handlers serve every connection (dispatch.ts); bodies
// are encoded and bounded once, here and there (codec.ts).
// This class wires them together and is the one API the layers above use.

import { EventEmitter } from 'node:events'
import type Hyperswarm from 'hyperswarm'
import type { KeyPair } from '../crypto/keys'
import { topicFor } from './capability'
import { decodeOrThrow, type Encoding, encodeBounded, PRE_ENCODED } from './codec'
import { AddressBook, type DhtAddress } from './dht-address'
import { Dialer } from './dialer'
import { Discovery } from './discovery'
import { type Handler, Dispatcher, type RespondOptions } from './dispatch'
import { fromRpcError, type NetError, netError } from './errors'
import { DEFAULT_CONNECTION_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from './protocol'
import { Sessions, short } from './session'
import { bootstrapInUse, createSwarm, defaultHost, type HostPort } from './swarm'
import { safetyCatch } from '../common/resource'

export type { Encoding } from './codec'
export type { DhtAddress } from './dht-address'
export type { Handler, Peer, RespondOptions } from './dispatch'
export type { HostPort } from './swarm'

export interface PeerNetworkOptions {
  /** The node's persistent Ed25519 key pair; its public key is the node's identity. */
  keyPair: KeyPair
  /** The secret that defines the network. Only its hash is ever published (as the topic). */
  networkKey: Buffer
  /** DHT bootstrap nodes. `[]` is a lone node that opens no socket at all; omitted means the public DHT. */
  bootstrap?: HostPort[]
  /** Bind address of the DHT socket. Defaults to 127.0.0.1 when every bootstrap address is loopback. */
  host?: string
  /** Port of the DHT socket (default: hyperdht's choice). */
  port?: number
  requestTimeoutMs?: number
  /** Bound on connecting on demand and on the capability proof of a new connection. */
  connectionTimeoutMs?: number
  /** Most connections the swarm keeps (hyperswarm's default is 64). */
  maxPeers?: number
}

export interface RequestOptions {
  timeoutMs?: number
}

/** A request encoded once by encodeRequest(), to send() to one or more peers. */
export interface EncodedRequest<Req> {
  readonly method: string
  readonly value: Req
  readonly requestEncoding: Encoding<Req>
  readonly body: Buffer
}

/**
 * Events: 'peer-add' / 'peer-remove' (publicKey), 'peer-rejected' (publicKey, reason),
 * 'online' / 'offline', 'peer-address' (publicKey, DhtAddress: where a new peer's DHT socket is).
 */
export class PeerNetwork extends EventEmitter {
  readonly keyPair: KeyPair
  readonly publicKey: Buffer
  readonly topic: Buffer
  readonly requestTimeoutMs: number
  readonly connectionTimeoutMs: number
  readonly lone: boolean
  /** The DHT bootstrap nodes in use (HOST:PORT; the public DHT's when none were given); empty when lone. */
  readonly bootstrap: string[]

  private readonly host: string | undefined
  /** Null for a lone node. */
  private readonly swarm: Hyperswarm | null
  private readonly discovery: Discovery
  private readonly sessions: Sessions
  private readonly dialer: Dialer
  private readonly addresses: AddressBook
  /** When each peer (hex) was last heard from: status shows it as "last seen". */
  private readonly heard = new Map<string, number>()
  private readonly dispatch: Dispatcher
  private opening: Promise<void> | null = null
  private closing: Promise<void> | null = null

  constructor(opts: PeerNetworkOptions) {
    super()
    this.keyPair = opts.keyPair
    this.publicKey = opts.keyPair.publicKey
    const networkKey = Buffer.from(opts.networkKey)
    this.topic = topicFor(networkKey)
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    this.connectionTimeoutMs = opts.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS
    this.lone = opts.bootstrap !== undefined && opts.bootstrap.length === 0
    this.bootstrap = this.lone ? [] : bootstrapInUse(opts.bootstrap)
    this.host = opts.host ?? defaultHost(opts.bootstrap)

    this.sessions = new Sessions({
      networkKey,
      connectionTimeoutMs: this.connectionTimeoutMs,
      events: {
        attach: (session) => this.dispatch.attach(session),
        authenticated: (session, first) => {
          this.heard.set(session.hex, Date.now())
          if (first) {
            this.emit('peer-add', session.publicKey)
            this.addresses.learnFrom(session.publicKey, session.conn.rawStream?.remoteHost)
          }
          this.dialer.settle(session.hex, { session })
        },
        rejected: (session, reason) => {
          this.dialer.settle(session.hex, {
            error: netError('EPEERUNREACHABLE', `peer ${short(session.hex)} rejected: ${reason}`)
          })
          this.emit('peer-rejected', session.publicKey, reason)
        },
        gone: (publicKey) => this.emit('peer-remove', publicKey)
      }
    })
    this.dispatch = new Dispatcher(this.publicKey, this.sessions, (hex) => this.heard.set(hex, Date.now()))
    this.addresses = new AddressBook({
      publicKey: this.publicKey,
      ownAddress: () => this.address(),
      peers: () => this.peers(),
      ask: (peerKey, about, timeoutMs) =>
        this.request(peerKey, m.name, about, m.requestEncoding, m.responseEncoding, { timeoutMs }),
      dialDirect: (peerKey, at) => this.dialDirect(peerKey, at),
      // The node remembers it in its home (lib/node/known-peers.ts).
      learnt: (peerKey, at) => this.emit('peer-address', peerKey, at)
    })
    const m = this.addresses.method
    this.dispatch.respond(m.name, m.requestEncoding, m.responseEncoding, m.handler)

    this.swarm = this.lone
      ? null
      : createSwarm({
          keyPair: this.keyPair,
          bootstrap: opts.bootstrap,
          host: this.host,
          port: opts.port,
          maxPeers: opts.maxPeers,
          firewall: (remotePublicKey) => this.sessions.isRejected(remotePublicKey.toString('hex'))
        })
    this.swarm?.on('connection', (conn) => this.sessions.accept(conn))
    this.discovery = new Discovery({
      swarm: this.swarm,
      topic: this.topic,
      onChange: (online) => this.emit(online ? 'online' : 'offline')
    })
    this.dialer = new Dialer(
      this.swarm,
      this.sessions,
      (hex) => this.refusal(hex),
      (peerKey, at) => this.dialDirect(peerKey, at),
      (peerKey) => this.addresses.locate(peerKey)
    )
  }

  /**
   * Connects to a peer at its DHT socket, with no lookup (a remembered peer,
   * when every bootstrap may be down). True once a session to it is authenticated.
   */
  async dialAt(peerKey: Buffer, at: DhtAddress, timeoutMs = this.connectionTimeoutMs): Promise<boolean> {
    if (!this.addresses.get(peerKey)) this.addresses.set(peerKey, at)
    try {
      await this.dialer.connect(peerKey, timeoutMs, at)
      return true
    } catch {
      return false
    }
  }

  // hyperswarm cannot be told a peer's address (joinPeer always looks it up), so
  // this connection is made on the DHT directly, with the same key pair; the
  // remote's swarm de-duplicates it like any other, and Sessions keeps the newest.
  private dialDirect(peerKey: Buffer, at: DhtAddress): void {
    if (this.closing || !this.swarm || this.swarm.destroyed) return
    const conn = this.swarm.dht.connect(peerKey, { relayAddresses: [at], keyPair: this.keyPair })
    conn.on('error', noop)
    conn.on('open', () => this.sessions.accept(conn))
  }

  /** True once the topic is announced (always true for a lone node); false while discovery keeps failing. */
  get online(): boolean {
    return this.discovery.online
  }

  /** Binds the DHT socket, listens and joins the topic (a lone node: nothing). Never waits for the DHT: see flushed(). */
  ready(): Promise<void> {
    if (!this.opening) this.opening = this.open()
    return this.opening
  }

  private async open(): Promise<void> {
    if (this.closing) throw netError('ECHANNELCLOSED', 'network closed')
    await this.swarm?.listen()
    if (this.closing) return
    this.discovery.start()
  }

  /** Resolves when the latest announce/lookup of the topic finished: true if it succeeded. */
  flushed(): Promise<boolean> {
    return this.discovery.flushed()
  }

  /**
   * Announces and looks up the topic again (and re-announces the server).
   * Needed when the first announce failed (no reachable bootstrap yet), and
   * useful after a partition heals; hyperswarm itself only refreshes every ~10 min.
   */
  rejoin(): Promise<boolean> {
    return this.discovery.rejoin()
  }

  /** This node's DHT socket address, to give other nodes as `--bootstrap`. Null before ready(), and for a lone node. */
  address(): HostPort | null {
    const a = this.swarm?.dht.address()
    if (!a) return null
    return { host: this.host && this.host !== '0.0.0.0' ? this.host : a.host, port: a.port }
  }

  /**
   * Cuts a peer off: its connections are closed and none is accepted or made
   * until unblockPeer(). Not the swarm firewall, whose bans cannot be lifted.
   * Operators use it to evict a machine; tests use it to partition a network.
   */
  blockPeer(peerKey: Buffer): void {
    this.sessions.block(peerKey.toString('hex'))
  }

  /** Lifts blockPeer() and looks the topic up again, so the peer is found without waiting. */
  unblockPeer(peerKey: Buffer): void {
    if (this.sessions.unblock(peerKey.toString('hex'))) this.rejoin().catch(safetyCatch)
  }

  /** Public keys of the peers with an authenticated connection now. */
  peers(): Buffer[] {
    return this.sessions.peers()
  }

  /**
   * Encrypted bytes this node has written to and read from its connections
   * (secret-stream's raw counters: every message, Chord and repair included).
   * The ring benchmark divides them by the bytes stored to show what replication costs on the wire.
   */
  wireBytes(): { sent: number; received: number } {
    return this.sessions.wireBytes()
  }

  /** When a message last came from this peer (a request, an answer, a handshake; ms since the epoch), or null. */
  lastHeard(peerKey: Buffer): number | null {
    return this.heard.get(peerKey.toString('hex')) ?? null
  }

  /** The DHT address this node knows the peer by, or null. */
  dhtAddressOf(peerKey: Buffer): DhtAddress | null {
    return this.addresses.get(peerKey) ?? null
  }

  isConnected(peerKey: Buffer): boolean {
    return this.sessions.current(peerKey.toString('hex')) !== null
  }

  /**
   * Serves `method` on every connection, present and future. The handler's
   * thrown `code` and `message` reach the caller; nothing else of the error does.
   */
  respond<Req, Res>(
    method: string,
    requestEncoding: Encoding<Req>,
    responseEncoding: Encoding<Res>,
    handler: Handler<Req, Res>,
    opts: RespondOptions = {}
  ): void {
    this.dispatch.respond(method, requestEncoding, responseEncoding, handler, opts)
  }

  /**
   * Stops serving `method`: a request for it then fails with EUNKNOWNMETHOD,
   * as on a node that never served it. Services call it when they close, so
   * a closed service's handler never runs on a network that lives on.
   */
  unrespond(method: string): void {
    this.dispatch.unrespond(method)
  }

  /**
   * Calls `method` on the peer with this public key, connecting on demand.
   * One deadline (timeoutMs, default requestTimeoutMs) bounds connecting and
   * answering. Rejects with a NetError: EPEERUNREACHABLE, ETIMEDOUT,
   * ECHANNELCLOSED, EMSGSIZE, EBADMESSAGE, EUNKNOWNMETHOD, EBUSY, or the remote
   * handler's own code (with remote: true). Never throws synchronously.
   */
  async request<Req, Res>(
    peerKey: Buffer,
    method: string,
    req: Req,
    requestEncoding: Encoding<Req>,
    responseEncoding: Encoding<Res>,
    opts: RequestOptions = {}
  ): Promise<Res> {
    if (peerKey.equals(this.publicKey) && this.dispatch.isDirectLocal(method)) {
      return this.dispatch.serveDirect(method, req, requestEncoding)
    }
    return this.send(peerKey, this.encodeRequest(method, req, requestEncoding), responseEncoding, opts)
  }

  /**
   * Encodes a request once, for sending the same body to several peers with
   * send() (the owner's copies to its replicas: one 1 MiB encoding, not one per replica).
   */
  encodeRequest<Req>(method: string, req: Req, requestEncoding: Encoding<Req>): EncodedRequest<Req> {
    return { method, value: req, requestEncoding, body: encodeBounded(requestEncoding, req, `${method} request`) }
  }

  /** request() with a body from encodeRequest(). */
  async send<Req, Res>(
    peerKey: Buffer,
    encoded: EncodedRequest<Req>,
    responseEncoding: Encoding<Res>,
    opts: RequestOptions = {}
  ): Promise<Res> {
    const { method, body } = encoded
    const timeoutMs = opts.timeoutMs ?? this.requestTimeoutMs
    const deadline = Date.now() + timeoutMs

    if (peerKey.equals(this.publicKey)) {
      if (this.dispatch.isDirectLocal(method))
        return this.dispatch.serveDirect(method, encoded.value, encoded.requestEncoding)
      // A node asking itself (Chord does, e.g. when it is its own successor): no socket, same semantics.
      const raw = await this.dispatch.serveLocal(method, body)
      return decodeOrThrow(responseEncoding, raw, `${method} response`)
    }

    const session = await this.dialer.connect(peerKey, timeoutMs)
    let raw: Buffer
    try {
      raw = await session.rpc.request(method, body, {
        valueEncoding: PRE_ENCODED,
        timeout: Math.max(1, deadline - Date.now())
      })
    } catch (err) {
      throw fromRpcError(err, method)
    }
    this.heard.set(session.hex, Date.now())
    return decodeOrThrow(responseEncoding, raw, `${method} response`)
  }

  /**
   * Sends a one-way message (no answer, no retry) over the connection the
   * peer has now, and never dials: a watch event is only worth sending to a
   * watcher that is still connected (its subscription ended with its
   * connection otherwise). Returns false when there is no such connection.
   * To this node itself the handler runs directly. The receiver serves it
   * like a request (same handlers, limits and decoding) but sends no answer.
   */
  event<T>(peerKey: Buffer, method: string, value: T, encoding: Encoding<T>): boolean {
    const body = encodeBounded(encoding, value, `${method} event`)
    if (peerKey.equals(this.publicKey)) {
      if (!this.dispatch.has(method)) return false
      this.dispatch.serveLocal(method, body).catch(noop)
      return true
    }
    const session = this.sessions.current(peerKey.toString('hex'))
    if (!session || session.rpc.closed) return false
    try {
      session.rpc.event(method, body, { valueEncoding: PRE_ENCODED })
    } catch {
      // The channel closed under us: the same as no connection.
      return false
    }
    return true
  }

  /** Why a peer without a session may not be dialed now, or null. */
  private refusal(hex: string): NetError | null {
    if (this.closing) return netError('ECHANNELCLOSED', 'network closed')
    const refused = this.sessions.refusal(hex)
    if (refused) return refused
    if (!this.opening) return netError('EPEERUNREACHABLE', 'network not ready')
    if (this.lone) return netError('EPEERUNREACHABLE', 'a lone node (no discovery configured) reaches no other machine')
    return null
  }

  // Not a ReadyResource: close() must cut a pending open short and destroy the swarm even after a failed open.
  close(): Promise<void> {
    if (!this.closing) this.closing = this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    this.discovery.stop()
    this.sessions.stop()
    this.dialer.settleAll(() => netError('ECHANNELCLOSED', 'network closed'))
    await this.opening?.catch(() => {})
    // swarm.destroy also destroys the DHT we gave it, and its connections.
    await this.swarm?.destroy()
    this.discovery.markOffline()
  }
}

function noop(): void {}
