// PeerNetwork: an authenticated RPC network between the nodes of one
// PeerStore network (one 32-byte network key).
//
// One hyperswarm (over one hyperdht, both with the node's persistent key pair)
// joins the topic derived from the network key as server and client. Every
// connection carries exactly one protomux-rpc channel, created synchronously
// in the `connection` handler (protomux rejects a remote open that arrives
// before the channel exists, platform.md §3). The channel's open handshake
// carries each side's capability proof (capability.ts); protomux calls onopen
// before it delivers any buffered message, and a throw there destroys the
// stream, so no request of an unproven peer ever reaches a handler. Peers that
// fail the proof or stay silent are remembered in a set the swarm firewall
// consults, so they are neither redialed nor accepted again.
//
// Per-peer state is keyed by the remote public key (hex). hyperswarm may hand
// us two connections for one key for a moment (de-duplication, platform.md
// §2.4), so a key maps to a list of sessions and the newest authenticated one
// that is still open serves requests.

import { EventEmitter } from 'node:events'
import c, { type Encoder } from 'compact-encoding'
import HyperDHT, { type NoiseSecretStream } from 'hyperdht'
import Hyperswarm, { type PeerDiscoverySession } from 'hyperswarm'
import ProtomuxRPC from 'protomux-rpc'
import type { KeyPair } from '../crypto/keys'
import { capability, topicFor, verifyCapability } from './capability'
import { fromRpcError, NetError, netError, toWireError } from './errors'
import { Limiter } from './limiter'
import {
  DEFAULT_CONNECTION_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  MAX_CONCURRENT_HANDLERS_PER_PEER,
  MAX_MESSAGE_BYTES,
  MAX_QUEUED_HANDLERS_PER_PEER,
  PROTOCOL
} from './protocol'
import { enlargeSocketBuffers } from './socket-buffers'

export interface HostPort {
  host: string
  port: number
}

export interface PeerNetworkOptions {
  /** The node's persistent Ed25519 key pair; its public key is the node's identity. */
  keyPair: KeyPair
  /** The secret that defines the network. Only its hash is ever published (as the topic). */
  networkKey: Buffer
  /** DHT bootstrap nodes. `[]` is a lone node that opens no socket to anyone; omitted means the public DHT. */
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

export interface Peer {
  publicKey: Buffer
}

export interface RequestOptions {
  timeoutMs?: number
}

export type Handler<Req, Res> = (req: Req, peer: Peer) => Promise<Res>

// compact-encoding's Encoder, without depending on its type export shape.
export interface Encoding<T> {
  preencode(state: c.State, value: T): void
  encode(state: c.State, value: T): void
  decode(state: c.State): T
}

interface Responder {
  requestEncoding: Encoding<unknown>
  responseEncoding: Encoding<unknown>
  handler: Handler<unknown, unknown>
  directLocal: boolean
}

export interface RespondOptions {
  /**
   * A call from this node to itself hands the handler the caller's request
   * object and the caller the handler's response object, with no encoding in
   * between. Only for handlers that neither keep nor change what they are
   * given: it saves copying (and re-hashing, see lib/storage/hashed.ts) a
   * 1 MiB value a node writes to itself.
   */
  directLocal?: boolean
}

/** A request encoded once by encodeRequest(), to send() to one or more peers. */
export interface EncodedRequest<Req> {
  readonly method: string
  readonly value: Req
  readonly requestEncoding: Encoding<Req>
  readonly body: Buffer
}

interface Session {
  hex: string
  publicKey: Buffer
  conn: NoiseSecretStream
  rpc: ProtomuxRPC
  authenticated: boolean
  closed: boolean
  limiter: Limiter
  destroyTimer?: NodeJS.Timeout
}

interface Waiter {
  resolve(session: Session): void
  reject(err: Error): void
  timer: NodeJS.Timeout
}

// hyperdht sends keep-alives every 5 s; an idle-timeout below that would kill healthy idle connections.
const MIN_STREAM_TIMEOUT_MS = 7_500
// How long a rejected peer's stream may take to end gracefully before we destroy it.
const REJECT_GRACE_MS = 1_000
const REJOIN_BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 30_000, 60_000]
const EARLY_REJOIN_MS = [2_000, 10_000]
/**
 * Bodies are encoded (and size-checked) by us before they reach protomux-rpc,
 * so it must not encode them again: with a null encoding it puts our buffer
 * straight into its frame, where c.raw would first copy it into a new one
 * (one 1 MiB copy and allocation less per PostFile, GetFile piece and
 * replica copy). Received values are the frame's bytes either way (a view,
 * no copy). protomux-rpc's types do not admit null, hence the cast.
 */
const PRE_ENCODED = null as unknown as Encoder<unknown>

export class PeerNetwork extends EventEmitter {
  readonly keyPair: KeyPair
  readonly publicKey: Buffer
  readonly topic: Buffer
  readonly requestTimeoutMs: number
  readonly connectionTimeoutMs: number
  readonly lone: boolean

  private readonly networkKey: Buffer
  private readonly host: string | undefined
  private readonly swarm: Hyperswarm
  private readonly responders = new Map<string, Responder>()
  private readonly sessions = new Map<string, Session[]>()
  private readonly announced = new Set<string>()
  private readonly rejected = new Set<string>()
  /** Peers the operator cut off (blockPeer); unlike `rejected`, this can be lifted. */
  private readonly blocked = new Set<string>()
  private readonly waiters = new Map<string, Set<Waiter>>()
  private discovery: PeerDiscoverySession | null = null
  private rejoinTimer: NodeJS.Timeout | null = null
  private rejoinAttempts = 0
  private earlyRejoins = 0
  private opening: Promise<void> | null = null
  private closing: Promise<void> | null = null
  private lastFlush: Promise<boolean> = Promise.resolve(false)
  private _online = false
  /** Encrypted bytes of connections that have closed; live ones are summed in wireBytes(). */
  private readonly closedWire = { sent: 0, received: 0 }

  constructor(opts: PeerNetworkOptions) {
    super()
    this.keyPair = opts.keyPair
    this.publicKey = opts.keyPair.publicKey
    this.networkKey = Buffer.from(opts.networkKey)
    this.topic = topicFor(this.networkKey)
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    this.connectionTimeoutMs = opts.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS
    this.lone = opts.bootstrap !== undefined && opts.bootstrap.length === 0
    this.host = opts.host ?? (opts.bootstrap?.every((b) => isLoopback(b.host)) ? '127.0.0.1' : undefined)

    const dht = new HyperDHT({ keyPair: this.keyPair, bootstrap: opts.bootstrap, host: this.host, port: opts.port })
    enlargeSocketBuffers(dht)
    this.swarm = new Hyperswarm({
      keyPair: this.keyPair,
      dht,
      maxPeers: opts.maxPeers,
      firewall: (remotePublicKey) => this.rejected.has(remotePublicKey.toString('hex'))
    })
    this.swarm.on('connection', (conn) => this.onConnection(conn))
  }

  /** True once the topic is announced (always true for a lone node); false while discovery keeps failing. */
  get online(): boolean {
    return this._online
  }

  /** Binds the DHT socket, listens and joins the topic. Never waits for the DHT: see flushed(). */
  ready(): Promise<void> {
    if (!this.opening) this.opening = this.open()
    return this.opening
  }

  private async open(): Promise<void> {
    if (this.closing) throw netError('ECHANNELCLOSED', 'network closed')
    await this.swarm.listen()
    if (this.closing) return
    this.discovery = this.swarm.join(this.topic, { server: true, client: true })
    if (this.lone) {
      this.setOnline(true)
      return
    }
    this.lastFlush = this.watchFlush()
  }

  /** Resolves when the latest announce/lookup of the topic finished: true if it succeeded. */
  flushed(): Promise<boolean> {
    return this.lastFlush
  }

  /**
   * Announces and looks up the topic again (and re-announces the server).
   * Needed when the first announce failed (no reachable bootstrap yet), and
   * useful after a partition heals; hyperswarm itself only refreshes every ~10 min.
   */
  async rejoin(): Promise<boolean> {
    if (!this.discovery || this.closing) return false
    this.swarm.server.refresh()
    await this.discovery.refresh().catch(() => {})
    this.lastFlush = this.watchFlush()
    return this.lastFlush
  }

  private async watchFlush(): Promise<boolean> {
    const discovery = this.discovery
    if (!discovery) return false
    const ok = await discovery.flushed().catch(() => false)
    if (this.closing) return ok
    this.setOnline(ok)
    if (ok) {
      this.rejoinAttempts = 0
      // Nodes that start together announce concurrently and can miss each other; hyperswarm
      // would look again only after ~10 min, so look again twice soon after the first success.
      if (this.earlyRejoins < EARLY_REJOIN_MS.length) this.scheduleRejoin(EARLY_REJOIN_MS[this.earlyRejoins++])
    } else {
      this.scheduleRejoin(REJOIN_BACKOFF_MS[Math.min(this.rejoinAttempts++, REJOIN_BACKOFF_MS.length - 1)])
    }
    return ok
  }

  private scheduleRejoin(delayMs: number): void {
    if (this.rejoinTimer || this.closing) return
    this.rejoinTimer = setTimeout(() => {
      this.rejoinTimer = null
      this.rejoin().catch(() => {})
    }, delayMs)
  }

  private setOnline(online: boolean): void {
    if (this._online === online) return
    this._online = online
    this.emit(online ? 'online' : 'offline')
  }

  /** This node's DHT socket address, to give other nodes as `--bootstrap`. Null before ready(). */
  address(): HostPort | null {
    const a = this.swarm.dht.address()
    if (!a) return null
    return { host: this.host && this.host !== '0.0.0.0' ? this.host : a.host, port: a.port }
  }

  /**
   * Cuts a peer off: its connections are closed and none is accepted or made
   * until unblockPeer(). Not the swarm firewall, whose bans cannot be lifted.
   * Operators use it to evict a machine; tests use it to partition a network.
   */
  blockPeer(peerKey: Buffer): void {
    const hex = peerKey.toString('hex')
    this.blocked.add(hex)
    for (const session of this.sessions.get(hex) ?? []) session.conn.destroy()
  }

  /** Lifts blockPeer() and looks the topic up again, so the peer is found without waiting. */
  unblockPeer(peerKey: Buffer): void {
    if (this.blocked.delete(peerKey.toString('hex'))) this.rejoin().catch(() => {})
  }

  /** Public keys of the peers with an authenticated connection now. */
  peers(): Buffer[] {
    return [...this.announced].map((hex) => Buffer.from(hex, 'hex'))
  }

  /**
   * Encrypted bytes this node has written to and read from its connections
   * (secret-stream's raw counters: every message, Chord and repair included).
   * The ring benchmark divides them by the bytes stored to show what replication costs on the wire.
   */
  wireBytes(): { sent: number; received: number } {
    let { sent, received } = this.closedWire
    for (const list of this.sessions.values()) {
      for (const s of list) {
        sent += s.conn.rawBytesWritten
        received += s.conn.rawBytesRead
      }
    }
    return { sent, received }
  }

  isConnected(peerKey: Buffer): boolean {
    return this.currentSession(peerKey.toString('hex')) !== null
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
    this.responders.set(method, {
      requestEncoding: requestEncoding as Encoding<unknown>,
      responseEncoding: responseEncoding as Encoding<unknown>,
      handler: handler as Handler<unknown, unknown>,
      directLocal: opts.directLocal ?? false
    })
    for (const list of this.sessions.values()) {
      for (const session of list) this.attachResponder(session, method)
    }
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
    if (peerKey.equals(this.publicKey) && this.responders.get(method)?.directLocal) {
      return this.serveDirect(method, req, requestEncoding)
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
      if (this.responders.get(method)?.directLocal)
        return this.serveDirect(method, encoded.value, encoded.requestEncoding)
      // A node asking itself (Chord does, e.g. when it is its own successor): no socket, same semantics.
      const raw = await this.serveLocal(method, body)
      return decodeOrThrow(responseEncoding, raw, `${method} response`)
    }

    const session = await this.connect(peerKey, timeoutMs)
    let raw: Buffer
    try {
      raw = await session.rpc.request(method, body, {
        valueEncoding: PRE_ENCODED,
        timeout: Math.max(1, deadline - Date.now())
      })
    } catch (err) {
      throw fromRpcError(err, method)
    }
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
      if (!this.responders.has(method)) return false
      this.serveLocal(method, body).catch(noop)
      return true
    }
    const session = this.currentSession(peerKey.toString('hex'))
    if (!session || session.rpc.closed) return false
    try {
      session.rpc.event(method, body, { valueEncoding: PRE_ENCODED })
    } catch {
      // The channel closed under us: the same as no connection.
      return false
    }
    return true
  }

  /** Resolves with an authenticated session to the peer, dialing it if needed. */
  private connect(peerKey: Buffer, timeoutMs: number): Promise<Session> {
    const hex = peerKey.toString('hex')
    const existing = this.currentSession(hex)
    if (existing) return Promise.resolve(existing)
    if (this.closing) return Promise.reject(netError('ECHANNELCLOSED', 'network closed'))
    if (this.rejected.has(hex)) {
      return Promise.reject(netError('EPEERUNREACHABLE', `peer ${short(hex)} failed the capability proof`))
    }
    if (this.blocked.has(hex)) return Promise.reject(netError('EPEERUNREACHABLE', `peer ${short(hex)} is blocked`))
    if (!this.opening) return Promise.reject(netError('EPEERUNREACHABLE', 'network not ready'))

    return new Promise<Session>((resolve, reject) => {
      let set = this.waiters.get(hex)
      if (!set) {
        set = new Set()
        this.waiters.set(hex, set)
      }
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.dropWaiter(hex, waiter)
          reject(netError('EPEERUNREACHABLE', `no authenticated connection to ${short(hex)} within ${timeoutMs} ms`))
        }, timeoutMs)
      }
      set.add(waiter)
      // An explicit peer is redialed by hyperswarm with backoff until leavePeer (dropWaiter / settleWaiters).
      this.swarm.joinPeer(Buffer.from(peerKey))
    })
  }

  private dropWaiter(hex: string, waiter: Waiter): void {
    const set = this.waiters.get(hex)
    if (!set) return
    set.delete(waiter)
    if (set.size > 0) return
    this.waiters.delete(hex)
    // Dialing on demand must not turn into redialing forever.
    if (!this.swarm.destroyed) this.swarm.leavePeer(Buffer.from(hex, 'hex'))
  }

  private settleWaiters(hex: string, result: { session: Session } | { error: Error }): void {
    const set = this.waiters.get(hex)
    if (!set) return
    this.waiters.delete(hex)
    for (const w of set) {
      clearTimeout(w.timer)
      if ('session' in result) w.resolve(result.session)
      else w.reject(result.error)
    }
    if (!this.swarm.destroyed) this.swarm.leavePeer(Buffer.from(hex, 'hex'))
  }

  private currentSession(hex: string): Session | null {
    const list = this.sessions.get(hex)
    if (!list) return null
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i].authenticated && !list[i].closed) return list[i]
    }
    return null
  }

  private onConnection(conn: NoiseSecretStream): void {
    // A secret-stream error is always followed by 'close', which is where we clean up.
    conn.on('error', noop)
    const publicKey = Buffer.from(conn.remotePublicKey)
    const hex = publicKey.toString('hex')
    if (this.closing || this.rejected.has(hex) || this.blocked.has(hex)) {
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
      limiter: new Limiter(MAX_CONCURRENT_HANDLERS_PER_PEER, MAX_QUEUED_HANDLERS_PER_PEER)
    }
    let list = this.sessions.get(hex)
    if (!list) {
      list = []
      this.sessions.set(hex, list)
    }
    list.push(session)
    for (const method of this.responders.keys()) this.attachResponder(session, method)

    const proofTimer = setTimeout(() => {
      if (!session.authenticated) this.rejectPeer(session, 'no capability proof in time')
    }, this.connectionTimeoutMs)

    rpc.on('open', (remoteProof: unknown) => {
      clearTimeout(proofTimer)
      if (!verifyCapability(remoteProof, conn.isInitiator, this.networkKey, conn.handshakeHash)) {
        this.rejectPeer(session, 'invalid capability')
        return
      }
      session.authenticated = true
      this.onAuthenticated(session)
    })
    conn.on('close', () => {
      clearTimeout(proofTimer)
      if (session.destroyTimer) clearTimeout(session.destroyTimer)
      this.onSessionClosed(session)
    })
  }

  /**
   * Drops a peer that failed or skipped the capability proof, and firewalls it.
   *
   * We run inside protomux's onopen, before it delivers the requests the peer
   * pipelined behind its open. Closing the channel here clears protomux-rpc's
   * responders, so those requests hit no handler and their replies are never
   * sent (and serve() refuses any unauthenticated session anyway). The stream
   * is ended rather than destroyed: a destroy discards our own open frame, and
   * the remote then learns of the failure only by its timeout (measured: 10 s
   * instead of a few ms). A remote that never ends its side is destroyed soon after.
   */
  private rejectPeer(session: Session, reason: string): void {
    this.rejected.add(session.hex)
    session.rpc.destroy(netError('EPEERUNREACHABLE', reason))
    session.conn.end()
    session.destroyTimer = setTimeout(() => session.conn.destroy(), REJECT_GRACE_MS)
    this.settleWaiters(session.hex, {
      error: netError('EPEERUNREACHABLE', `peer ${short(session.hex)} rejected: ${reason}`)
    })
    this.emit('peer-rejected', session.publicKey, reason)
  }

  private onAuthenticated(session: Session): void {
    if (session.closed) return
    if (!this.announced.has(session.hex)) {
      this.announced.add(session.hex)
      this.emit('peer-add', session.publicKey)
    }
    this.settleWaiters(session.hex, { session })
  }

  private onSessionClosed(session: Session): void {
    session.closed = true
    const list = this.sessions.get(session.hex)
    if (list) {
      const i = list.indexOf(session)
      if (i !== -1) {
        list.splice(i, 1)
        this.closedWire.sent += session.conn.rawBytesWritten
        this.closedWire.received += session.conn.rawBytesRead
      }
      if (list.length === 0) this.sessions.delete(session.hex)
    }
    if (this.announced.has(session.hex) && this.currentSession(session.hex) === null) {
      this.announced.delete(session.hex)
      this.emit('peer-remove', session.publicKey)
    }
  }

  private attachResponder(session: Session, method: string): void {
    session.rpc.respond(method, { valueEncoding: PRE_ENCODED }, (raw: Buffer) => this.serve(session, method, raw))
  }

  /** Runs a handler for a remote request. Every failure becomes a wire error { code, message }. */
  private async serve(session: Session, method: string, raw: Buffer): Promise<Buffer> {
    // protomux never delivers a request before the proof (see onConnection); this guards against a regression.
    if (!session.authenticated) throw toWireError(netError('EPEERUNREACHABLE', 'not authenticated'))
    try {
      return await session.limiter.run(() => this.runHandler(method, raw, { publicKey: session.publicKey }))
    } catch (err) {
      throw toWireError(err)
    }
  }

  /** A directLocal call to ourselves: same size limit and error semantics as serveLocal, no encoding. */
  private async serveDirect<Req, Res>(method: string, req: Req, requestEncoding: Encoding<Req>): Promise<Res> {
    const responder = this.responders.get(method)!
    // Refused before the handler runs, as encodeRequest() refuses it before sending.
    const size = encodedLength(requestEncoding, req, `${method} request`)
    if (size > MAX_MESSAGE_BYTES) {
      throw netError('EMSGSIZE', `${method} request of ${size} bytes exceeds ${MAX_MESSAGE_BYTES}`)
    }
    try {
      return (await responder.handler(req, { publicKey: this.publicKey })) as Res
    } catch (err) {
      const e = toWireError(err)
      throw new NetError(e.code, e.message, { remote: true })
    }
  }

  private serveLocal(method: string, raw: Buffer): Promise<Buffer> {
    return this.runHandler(method, raw, { publicKey: this.publicKey }).catch((err) => {
      const e = toWireError(err)
      throw new NetError(e.code, e.message, { remote: true })
    })
  }

  private async runHandler(method: string, raw: Buffer, peer: Peer): Promise<Buffer> {
    const responder = this.responders.get(method)
    if (!responder) throw netError('EUNKNOWNMETHOD', `unknown method '${method}'`)
    if (raw.byteLength > MAX_MESSAGE_BYTES) {
      throw netError('EMSGSIZE', `${method} request of ${raw.byteLength} bytes exceeds ${MAX_MESSAGE_BYTES}`)
    }
    const req = decodeOrThrow(responder.requestEncoding, raw, `${method} request`)
    const res = await responder.handler(req, peer)
    return encodeBounded(responder.responseEncoding, res, `${method} response`)
  }

  close(): Promise<void> {
    if (!this.closing) this.closing = this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    if (this.rejoinTimer) clearTimeout(this.rejoinTimer)
    this.rejoinTimer = null
    for (const hex of [...this.waiters.keys()]) {
      this.settleWaiters(hex, { error: netError('ECHANNELCLOSED', 'network closed') })
    }
    await this.opening?.catch(() => {})
    // swarm.destroy also destroys the DHT we gave it, and its connections.
    await this.swarm.destroy()
    this.setOnline(false)
  }
}

function encodeBounded<T>(encoding: Encoding<T>, value: T, what: string): Buffer {
  let buf: Buffer
  try {
    buf = c.encode(encoding, value) as Buffer
  } catch (err) {
    throw netError('EBADMESSAGE', `could not encode ${what}: ${(err as Error).message}`, err)
  }
  if (buf.byteLength > MAX_MESSAGE_BYTES) {
    throw netError('EMSGSIZE', `${what} of ${buf.byteLength} bytes exceeds ${MAX_MESSAGE_BYTES}`)
  }
  return buf
}

/** The encoded size, from preencode alone (no buffer is allocated). */
function encodedLength<T>(encoding: Encoding<T>, value: T, what: string): number {
  const state = { start: 0, end: 0, buffer: null } as unknown as c.State
  try {
    encoding.preencode(state, value)
  } catch (err) {
    throw netError('EBADMESSAGE', `could not encode ${what}: ${(err as Error).message}`, err)
  }
  return state.end
}

function decodeOrThrow<T>(encoding: Encoding<T>, raw: Buffer, what: string): T {
  try {
    return c.decode(encoding, raw)
  } catch (err) {
    throw netError('EBADMESSAGE', `could not decode ${what}: ${(err as Error).message}`, err)
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host)
}

function short(hex: string): string {
  return hex.slice(0, 12)
}

function noop(): void {}
