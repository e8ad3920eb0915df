// The local control socket of a running node (`<home>/control.sock`, owner
// only), the way the ipfs CLI talks to its daemon: commands such as `status`
// and `block get` find the running node here. One JSON object per line each
// way; binary values travel as base64 inside the handlers' own params.

import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { codedError } from '../common/errors'
import { ReadyResource } from '../common/resource'

export type ControlHandler = (params: Record<string, unknown>) => Promise<unknown>

interface ControlRequest {
  id: number
  method: string
  params: Record<string, unknown>
}

interface ControlResponse {
  id: number
  result?: unknown
  error?: { message: string; code?: string }
}

export function controlSocketPath(home: string): string {
  return path.join(home, 'control.sock')
}

/** Splits a byte stream into lines and parses each as JSON. */
function onJsonLines(socket: net.Socket, onMessage: (msg: unknown) => void): void {
  let pending = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => {
    pending += chunk
    let nl = pending.indexOf('\n')
    while (nl !== -1) {
      const line = pending.slice(0, nl)
      pending = pending.slice(nl + 1)
      if (line.trim()) {
        try {
          onMessage(JSON.parse(line))
        } catch {
          socket.destroy()
          return
        }
      }
      nl = pending.indexOf('\n')
    }
  })
}

/**
 * Listens on the control socket between ready() and close() (ReadyResource:
 * a second call of either returns the first one's promise). A ready() that
 * fails with EBUSY (another node owns this home) leaves that node's socket
 * alone: ReadyResource runs no _close after a failed open.
 */
export class ControlServer extends ReadyResource {
  readonly socketPath: string
  private server: net.Server | null = null
  private sockets = new Set<net.Socket>()

  constructor(
    home: string,
    private handlers: Record<string, ControlHandler>
  ) {
    super()
    this.socketPath = controlSocketPath(home)
  }

  protected override async _open(): Promise<void> {
    await removeStaleSocket(this.socketPath)
    const server = net.createServer((socket) => this.onConnection(socket))
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      // listen() creates the socket file (bind) before it returns, so a umask
      // set and restored around that call alone makes the file 0600 from its
      // first moment; the rest of the process never runs under this umask.
      const oldMask = process.umask(0o177)
      try {
        server.listen(this.socketPath, () => {
          server.off('error', reject)
          resolve()
        })
      } finally {
        process.umask(oldMask)
      }
    })
    // Set explicitly too, before any request is read: this mode is what keeps other users off the node.
    fs.chmodSync(this.socketPath, 0o600)
  }

  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket)
    socket.on('close', () => this.sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    onJsonLines(socket, async (msg) => {
      const req = msg as ControlRequest
      const reply: ControlResponse = { id: req.id }
      const handler = Object.hasOwn(this.handlers, req.method) ? this.handlers[req.method] : undefined
      if (!handler) {
        reply.error = { message: `unknown control method '${req.method}'`, code: 'EINVAL' }
      } else {
        try {
          reply.result = await handler(req.params ?? {})
        } catch (err) {
          const e = err as Error & { code?: string }
          reply.error = { message: e.message, code: e.code }
        }
      }
      if (!socket.destroyed) socket.write(`${JSON.stringify(reply)}\n`)
    })
  }

  protected override async _close(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    const server = this.server
    this.server = null
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
    fs.rmSync(this.socketPath, { force: true })
  }
}

/** A socket file left by a node that crashed would make listen() fail with EADDRINUSE. */
async function removeStaleSocket(socketPath: string): Promise<void> {
  if (!fs.existsSync(socketPath)) return
  const client = await ControlClient.connect(socketPath)
  if (client) {
    client.close()
    throw codedError('EBUSY', `a node is already running for this home (${socketPath})`)
  }
  fs.rmSync(socketPath, { force: true })
}

/** The node's error as the caller sees it: the same code and message (a handler's error without a code stays without). */
function remoteError(error: { message: string; code?: string }): Error {
  return error.code ? codedError(error.code, error.message) : new Error(error.message)
}

/** How long a control call waits for its answer unless the caller says otherwise. */
export const CONTROL_CALL_TIMEOUT_MS = 30_000
/** How long connecting to a control socket may take: a local socket answers at once, or nobody listens. */
const CONNECT_TIMEOUT_MS = 5_000

/** PEERSTORE_CONTROL_TIMEOUT_MS replaces every control call's timeout (tests of a stuck process use a short one). */
function timeoutOverride(): number | undefined {
  const n = Number(process.env.PEERSTORE_CONTROL_TIMEOUT_MS)
  return Number.isFinite(n) && n > 0 ? n : undefined
}

export class ControlClient {
  private nextId = 1
  private waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()

  private constructor(private socket: net.Socket) {
    onJsonLines(socket, (msg) => {
      const res = msg as ControlResponse
      const w = this.waiting.get(res.id)
      if (!w) return
      this.waiting.delete(res.id)
      if (res.error) w.reject(remoteError(res.error))
      else w.resolve(res.result)
    })
    socket.on('close', () => {
      for (const w of this.waiting.values()) w.reject(codedError('ECONNRESET', 'the node went away'))
      this.waiting.clear()
    })
    socket.on('error', () => {})
  }

  /** Connects to a running node, or returns null when none is listening there (or it does not accept in time). */
  static connect(socketPath: string, opts: { timeoutMs?: number } = {}): Promise<ControlClient | null> {
    return new Promise((resolve) => {
      const socket = net.connect(socketPath)
      const timer = setTimeout(() => {
        socket.destroy()
        resolve(null)
      }, opts.timeoutMs ?? CONNECT_TIMEOUT_MS)
      socket.once('connect', () => {
        clearTimeout(timer)
        resolve(new ControlClient(socket))
      })
      socket.once('error', () => {
        clearTimeout(timer)
        resolve(null)
      })
    })
  }

  /** Fails with ETIMEDOUT when the node has not answered within `timeoutMs` (a wedged node never hangs the caller). */
  call<T = unknown>(
    method: string,
    params: Record<string, unknown> = {},
    opts: { timeoutMs?: number } = {}
  ): Promise<T> {
    const id = this.nextId++
    const timeoutMs = timeoutOverride() ?? opts.timeoutMs ?? CONTROL_CALL_TIMEOUT_MS
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id)
        reject(
          codedError(
            'ETIMEDOUT',
            `the peerstore process running for this home did not answer '${method}' within ${timeoutMs / 1000} s (is it stuck?)`
          )
        )
      }, timeoutMs)
      const done =
        <V>(fn: (v: V) => void) =>
        (v: V) => {
          clearTimeout(timer)
          fn(v)
        }
      this.waiting.set(id, { resolve: done(resolve as (v: unknown) => void), reject: done(reject) })
      this.socket.write(`${JSON.stringify({ id, method, params })}\n`)
    })
  }

  close(): void {
    this.socket.end()
    this.socket.destroy()
  }
}
