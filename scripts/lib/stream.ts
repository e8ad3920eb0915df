// Large values in bounded pieces (see docs/transport.md).
//
// protomux-rpc ignores backpressure (platform.md §3): every request is written
// at once and every incoming request runs at once. So a large value is never
// one message; it is a sequence of ≤ PIECE_BYTES pieces, each its own RPC,
// with at most `window` of them unacknowledged. The window is what bounds
// memory, on both ends:
//
// - pull (downloads, e.g. GetFile of a 1 GiB value): pullPieces() asks for
//   byte ranges, ≤ window requests in flight, and starts the next one only
//   when the consumer has taken a piece;
// - push (uploads): sendStream() sends pieces of an AsyncIterable, and the
//   receiving respondStream() acknowledges a piece only when its handler has
//   consumed it, so a slow consumer slows the sender down instead of queueing.

import c from 'compact-encoding'
import { randomBytes } from '../../lib/crypto/keys'
import { netError } from '../../lib/net/errors'
import type { Encoding, Peer, PeerNetwork } from '../../lib/net/peer-network'

/** Size of one piece of a streamed value. */
export const PIECE_BYTES = 1024 * 1024

/**
 * Pieces in flight per stream. protomux-rpc ignores backpressure, so this
 * window is the only thing bounding memory; more than 4 gains nothing on one
 * connection (platform.md §4).
 */
export const STREAM_WINDOW = 4

/** The most unacknowledged pieces a receiver accepts for one stream, whatever window the sender uses. */
export const MAX_STREAM_WINDOW = 16

export interface PullOptions {
  /** First byte wanted. */
  start: number
  /** One past the last byte wanted. */
  end: number
  pieceBytes?: number
  window?: number
  /** Fetches bytes [start, end); must return exactly end - start bytes. */
  fetch: (start: number, end: number) => Promise<Buffer>
}

/**
 * Yields [start, end) in order as pieces of ≤ pieceBytes. At most `window`
 * pieces exist at once (fetching, fetched, or held by the consumer), because
 * the next fetch starts only when the consumer asks for the next piece.
 */
export async function* pullPieces(opts: PullOptions): AsyncGenerator<Buffer> {
  const pieceBytes = opts.pieceBytes ?? PIECE_BYTES
  const window = opts.window ?? STREAM_WINDOW
  if (pieceBytes < 1 || window < 1) throw new Error('pieceBytes and window must be positive')
  const inFlight: { start: number; end: number; bytes: Promise<Buffer> }[] = []
  let next = opts.start
  // The piece the consumer holds counts against the window until it asks for the next.
  const launch = (held: number) => {
    while (inFlight.length + held < window && next < opts.end) {
      const start = next
      const end = Math.min(opts.end, start + pieceBytes)
      next = end
      const bytes = opts.fetch(start, end)
      bytes.catch(() => {}) // observed below; avoid an unhandled rejection if we stop early
      inFlight.push({ start, end, bytes })
    }
  }
  launch(0)
  while (inFlight.length > 0) {
    const piece = inFlight.shift()!
    const bytes = await piece.bytes
    if (bytes.byteLength !== piece.end - piece.start) {
      throw netError('EBADMESSAGE', `piece [${piece.start}, ${piece.end}) came back with ${bytes.byteLength} bytes`)
    }
    launch(1)
    yield bytes
  }
}

// --- push: sendStream / respondStream -----------------------------------------

const FIRST = 1
const LAST = 2

interface StreamPiece {
  stream: Buffer
  seq: number
  flags: number
  /** Encoded header, on the first piece only. */
  header: Buffer
  bytes: Buffer
}

interface StreamAck {
  /** Set on the reply to the LAST piece: the encoded result of the handler. */
  result: Buffer | null
}

const streamPiece: Encoding<StreamPiece> = {
  preencode(state, m) {
    c.fixed32.preencode(state, m.stream)
    c.uint.preencode(state, m.seq)
    c.uint.preencode(state, m.flags)
    c.buffer.preencode(state, m.header)
    c.buffer.preencode(state, m.bytes)
  },
  encode(state, m) {
    c.fixed32.encode(state, m.stream)
    c.uint.encode(state, m.seq)
    c.uint.encode(state, m.flags)
    c.buffer.encode(state, m.header)
    c.buffer.encode(state, m.bytes)
  },
  decode(state) {
    return {
      stream: c.fixed32.decode(state) as Buffer,
      seq: c.uint.decode(state),
      flags: c.uint.decode(state),
      header: (c.buffer.decode(state) as Buffer | null) ?? Buffer.alloc(0),
      bytes: (c.buffer.decode(state) as Buffer | null) ?? Buffer.alloc(0)
    }
  }
}

const streamAck: Encoding<StreamAck> = {
  preencode(state, m) {
    c.bool.preencode(state, m.result !== null)
    if (m.result !== null) c.buffer.preencode(state, m.result)
  },
  encode(state, m) {
    c.bool.encode(state, m.result !== null)
    if (m.result !== null) c.buffer.encode(state, m.result)
  },
  decode(state) {
    const hasResult = c.bool.decode(state)
    return { result: hasResult ? ((c.buffer.decode(state) as Buffer | null) ?? Buffer.alloc(0)) : null }
  }
}

export interface SendStreamOptions {
  pieceBytes?: number
  window?: number
  /** Bound on each piece's acknowledgement (default: the network's requestTimeoutMs). */
  timeoutMs?: number
  /** Called as pieces go out and come back, e.g. for progress bars (and tests of the window). */
  onProgress?: (p: { sentBytes: number; ackedBytes: number; inFlight: number }) => void
}

/**
 * Sends `source` to `peerKey`'s respondStream(method) handler in pieces of
 * ≤ pieceBytes, with ≤ window pieces unacknowledged, and resolves with the
 * handler's result. Source chunks larger than pieceBytes are sliced (without
 * copying); smaller ones are coalesced. The first failure (the handler's own
 * error code, ETIMEDOUT, ECHANNELCLOSED, …) stops reading the source and rejects.
 */
export async function sendStream<H, R>(
  net: PeerNetwork,
  peerKey: Buffer,
  method: string,
  header: H,
  headerEncoding: Encoding<H>,
  resultEncoding: Encoding<R>,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: SendStreamOptions = {}
): Promise<R> {
  const pieceBytes = opts.pieceBytes ?? PIECE_BYTES
  const window = Math.min(opts.window ?? STREAM_WINDOW, MAX_STREAM_WINDOW)
  const stream = randomBytes(32)
  const requestOpts = { timeoutMs: opts.timeoutMs }
  const inFlight = new Set<Promise<void>>()
  let failure: unknown = null
  let seq = 0
  let sentBytes = 0
  let ackedBytes = 0

  const send = (bytes: Buffer, flags: number) =>
    net.request(
      peerKey,
      method,
      { stream, seq: seq++, flags, header: flags & FIRST ? c.encode(headerEncoding, header) : Buffer.alloc(0), bytes },
      streamPiece,
      streamAck,
      requestOpts
    )

  const sendPiece = async (bytes: Buffer) => {
    while (inFlight.size >= window) await Promise.race(inFlight)
    if (failure) throw failure
    const size = bytes.byteLength
    const p: Promise<void> = send(bytes, seq === 0 ? FIRST : 0).then(
      () => {
        ackedBytes += size
        inFlight.delete(p)
        opts.onProgress?.({ sentBytes, ackedBytes, inFlight: inFlight.size })
      },
      (err) => {
        failure ??= err
        inFlight.delete(p)
      }
    )
    inFlight.add(p)
    sentBytes += size
    opts.onProgress?.({ sentBytes, ackedBytes, inFlight: inFlight.size })
  }

  try {
    let pending: Buffer[] = []
    let pendingBytes = 0
    for await (const chunk of source) {
      let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      while (buf.byteLength > 0) {
        const take = Math.min(buf.byteLength, pieceBytes - pendingBytes)
        pending.push(buf.subarray(0, take))
        pendingBytes += take
        buf = buf.subarray(take)
        if (pendingBytes === pieceBytes) {
          await sendPiece(pending.length === 1 ? pending[0] : Buffer.concat(pending))
          pending = []
          pendingBytes = 0
        }
      }
    }
    if (pendingBytes > 0) await sendPiece(pending.length === 1 ? pending[0] : Buffer.concat(pending))
    await Promise.all(inFlight)
    if (failure) throw failure
    const ack = await send(Buffer.alloc(0), LAST | (seq === 0 ? FIRST : 0))
    if (ack.result === null) throw netError('EBADMESSAGE', `${method}: stream ended without a result`)
    return c.decode(resultEncoding, ack.result)
  } catch (err) {
    await Promise.allSettled(inFlight)
    throw err
  }
}

export type StreamHandler<H, R> = (header: H, pieces: AsyncIterable<Buffer>, peer: Peer) => Promise<R>

export interface RespondStreamOptions {
  /** A stream with no new piece for this long fails with ETIMEDOUT (default 30 s). */
  idleTimeoutMs?: number
}

/**
 * Serves sendStream(method) calls: `handler` gets the header and an
 * AsyncIterable of the pieces in order. A piece is acknowledged when the
 * handler asks for the one after it, so a slow handler slows the sender. The
 * handler's result (or error, with its code) goes back to the sender.
 */
export function respondStream<H, R>(
  net: PeerNetwork,
  method: string,
  headerEncoding: Encoding<H>,
  resultEncoding: Encoding<R>,
  handler: StreamHandler<H, R>,
  opts: RespondStreamOptions = {}
): void {
  const idleTimeoutMs = opts.idleTimeoutMs ?? 30_000
  const streams = new Map<string, IncomingStream>()

  net.on('peer-remove', (publicKey: Buffer) => {
    const prefix = publicKey.toString('hex')
    for (const [id, s] of streams) {
      if (id.startsWith(prefix)) s.fail(netError('ECHANNELCLOSED', 'sender disconnected'))
    }
  })

  net.respond(method, streamPiece, streamAck, async (piece, peer) => {
    const id = `${peer.publicKey.toString('hex')}/${piece.stream.toString('hex')}`
    let s = streams.get(id)
    if (piece.flags & FIRST) {
      if (s) throw netError('EBADMESSAGE', 'stream started twice')
      if (piece.seq !== 0) throw netError('EBADMESSAGE', 'first piece must have seq 0')
      const header = c.decode(headerEncoding, piece.header)
      s = new IncomingStream(idleTimeoutMs, () => streams.delete(id))
      streams.set(id, s)
      s.start((pieces) => handler(header, pieces, peer).then((r) => c.encode(resultEncoding, r) as Buffer))
    }
    if (!s) throw netError('EBADMESSAGE', 'unknown stream (it failed or ended)')
    return s.receive(piece)
  })
}

interface Deferred<T> {
  promise: Promise<T>
  resolve(value: T): void
  reject(err: unknown): void
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (err: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(() => {})
  return { promise, resolve, reject }
}

/** Receiver-side state of one push stream: reorders pieces, feeds the handler, acknowledges on consumption. */
class IncomingStream {
  private readonly pieces = new Map<number, { bytes: Buffer; ack: Deferred<StreamAck> }>()
  private nextSeq = 0
  private lastSeq = -1
  private wake: (() => void) | null = null
  private error: unknown = null
  private finished = false
  private result = deferred<Buffer>()
  private idleTimer: NodeJS.Timeout | null = null

  constructor(
    private readonly idleTimeoutMs: number,
    private readonly onDone: () => void
  ) {
    this.touch()
  }

  start(run: (pieces: AsyncIterable<Buffer>) => Promise<Buffer>): void {
    run(this.iterate()).then(
      (r) => this.finish(r),
      (err) => this.fail(err)
    )
  }

  receive(piece: StreamPiece): Promise<StreamAck> {
    if (this.error) return Promise.reject(this.error)
    if (piece.flags & LAST) {
      this.lastSeq = piece.seq
      this.wakeUp()
      // The stream is forgotten only once the sender has its answer, so late pieces still find it.
      return this.result.promise.then(
        (result) => {
          this.close()
          return { result }
        },
        (err) => {
          this.close()
          throw err
        }
      )
    }
    // The handler already returned without reading everything: nothing more to hold.
    if (this.finished) return Promise.resolve({ result: null })
    this.touch()
    if (piece.seq < this.nextSeq || this.pieces.has(piece.seq)) {
      throw netError('EBADMESSAGE', `duplicate piece ${piece.seq}`)
    }
    if (this.pieces.size >= MAX_STREAM_WINDOW) {
      const err = netError('EMSGSIZE', `more than ${MAX_STREAM_WINDOW} unacknowledged pieces`)
      this.fail(err)
      throw err
    }
    const ack = deferred<StreamAck>()
    this.pieces.set(piece.seq, { bytes: piece.bytes, ack })
    this.wakeUp()
    return ack.promise
  }

  private async *iterate(): AsyncGenerator<Buffer> {
    while (true) {
      if (this.error) throw this.error
      const piece = this.pieces.get(this.nextSeq)
      if (piece) {
        yield piece.bytes
        // The handler asked for the next piece: this one is consumed, let the sender send another.
        this.pieces.delete(this.nextSeq++)
        piece.ack.resolve({ result: null })
        continue
      }
      if (this.lastSeq === this.nextSeq) return
      await new Promise<void>((resolve) => {
        this.wake = resolve
      })
    }
  }

  private wakeUp(): void {
    const wake = this.wake
    this.wake = null
    wake?.()
  }

  private touch(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer)
    this.idleTimer = setTimeout(() => {
      // A finished stream whose LAST piece never came is just forgotten.
      if (this.finished) this.close()
      else this.fail(netError('ETIMEDOUT', 'stream idle too long'))
    }, this.idleTimeoutMs)
  }

  private finish(result: Buffer): void {
    // A handler may stop reading early: acknowledge what it left, the result says the rest.
    this.finished = true
    for (const p of this.pieces.values()) p.ack.resolve({ result: null })
    this.pieces.clear()
    this.result.resolve(result)
  }

  fail(err: unknown): void {
    if (this.error) return
    this.error = err
    for (const p of this.pieces.values()) p.ack.reject(err)
    this.pieces.clear()
    this.result.reject(err)
    this.wakeUp()
    this.close()
  }

  private stopIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer)
    this.idleTimer = null
  }

  private close(): void {
    this.stopIdleTimer()
    this.onDone()
  }
}
