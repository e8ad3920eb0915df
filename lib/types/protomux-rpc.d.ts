// The subset of protomux-rpc 1 that PeerStore uses. Errors it produces carry
// `code` (REQUEST_ERROR, TIMEOUT_EXCEEDED, CHANNEL_CLOSED, CHANNEL_DESTROYED,
// UNKNOWN_METHOD, DECODE_ERROR, ENCODE_ERROR); a REQUEST_ERROR carries the
// remote handler's error as `cause` ({ message, code }).
declare module 'protomux-rpc' {
  import { EventEmitter } from 'node:events'
  import type { Encoder } from 'compact-encoding'
  import type Protomux from 'protomux'

  export interface EncodingOptions {
    valueEncoding?: Encoder<unknown>
    requestEncoding?: Encoder<unknown>
    responseEncoding?: Encoder<unknown>
  }

  export interface RequestOptions extends EncodingOptions {
    /** Milliseconds; the default (-1) waits forever. */
    timeout?: number
  }

  export default class ProtomuxRPC extends EventEmitter {
    constructor(
      stream: unknown,
      opts?: {
        id?: Buffer | null
        protocol?: string
        valueEncoding?: Encoder<unknown>
        handshake?: unknown
        handshakeEncoding?: Encoder<unknown>
      }
    )
    readonly opened: boolean
    readonly closed: boolean
    readonly mux: Protomux
    readonly stream: unknown
    fullyOpened(): Promise<void>
    respond<T = unknown>(method: string, options: EncodingOptions, handler: (value: T) => unknown): this
    respond<T = unknown>(method: string, handler: (value: T) => unknown): this
    unrespond(method: string): this
    request<T = unknown>(method: string, value: unknown, options?: RequestOptions): Promise<T>
    event(method: string, value: unknown, options?: EncodingOptions): void
    cork(): void
    uncork(): void
    end(): Promise<void>
    destroy(err?: Error): void
    on(event: 'open', listener: (handshake: unknown) => void): this
    on(event: 'close' | 'destroy', listener: () => void): this
  }
}
