// Serving requests: the table of handlers by method name, attached to every
// session present and future, and the three ways a request reaches one: from
// a remote peer (through its session's bounded queue), from this node to
// itself with encoding (the same semantics as a remote call, no socket), and
// from this node to itself without (directLocal).

import { decodeOrThrow, type Encoding, encodeBounded, encodedLength, PRE_ENCODED } from './codec'
import { netError, toWireError } from './errors'
import { MAX_MESSAGE_BYTES } from './protocol'
import type { Session, Sessions } from './session'

export interface Peer {
  publicKey: Buffer
}

export type Handler<Req, Res> = (req: Req, peer: Peer) => Promise<Res>

export interface RespondOptions {
  /**
   * A call from this node to itself hands the handler the caller's request
   * object and the caller the handler's response object, with no encoding in
   * between. Only for handlers that neither keep nor change what they are
   * given: it saves copying (and re-hashing: the ring client passes PostFileCall.knownHash) a
   * 1 MiB value a node writes to itself.
   */
  directLocal?: boolean
}

interface Responder {
  requestEncoding: Encoding<unknown>
  responseEncoding: Encoding<unknown>
  handler: Handler<unknown, unknown>
  directLocal: boolean
}

export class Dispatcher {
  private readonly publicKey: Buffer
  private readonly sessions: Sessions
  private readonly responders = new Map<string, Responder>()
  private readonly heard: (hex: string) => void

  /** `publicKey`: this node's, the peer a call to itself comes from; `heard` is told of every remote request. */
  constructor(publicKey: Buffer, sessions: Sessions, heard: (hex: string) => void = () => {}) {
    this.publicKey = publicKey
    this.sessions = sessions
    this.heard = heard
  }

  /** See PeerNetwork.respond(). */
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
    for (const session of this.sessions.all()) this.attachOne(session, method)
  }

  /** See PeerNetwork.unrespond(). */
  unrespond(method: string): void {
    this.responders.delete(method)
  }

  has(method: string): boolean {
    return this.responders.has(method)
  }

  isDirectLocal(method: string): boolean {
    return this.responders.get(method)?.directLocal ?? false
  }

  /** Serves every method on a new session. */
  attach(session: Session): void {
    for (const method of this.responders.keys()) this.attachOne(session, method)
  }

  /** A directLocal call to ourselves: same size limit and error semantics as serveLocal, no encoding. */
  async serveDirect<Req, Res>(method: string, req: Req, requestEncoding: Encoding<Req>): Promise<Res> {
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
      throw netError(e.code, e.message, { remote: true })
    }
  }

  /** A call to ourselves with encoding: the handler's failure comes back as a remote one would. */
  serveLocal(method: string, raw: Buffer): Promise<Buffer> {
    return this.runHandler(method, raw, { publicKey: this.publicKey }).catch((err) => {
      const e = toWireError(err)
      throw netError(e.code, e.message, { remote: true })
    })
  }

  private attachOne(session: Session, method: string): void {
    session.rpc.respond(method, { valueEncoding: PRE_ENCODED }, (raw: Buffer) => this.serve(session, method, raw))
  }

  /** Runs a handler for a remote request. Every failure becomes a wire error { code, message }. */
  private async serve(session: Session, method: string, raw: Buffer): Promise<Buffer> {
    // protomux never delivers a request before the proof (see session.ts); this guards against a regression.
    if (!session.authenticated) throw toWireError(netError('EPEERUNREACHABLE', 'not authenticated'))
    this.heard(session.hex)
    try {
      return await session.limiter.run(() => this.runHandler(method, raw, { publicKey: session.publicKey }))
    } catch (err) {
      throw toWireError(err)
    }
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
}
