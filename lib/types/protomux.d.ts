// The subset of protomux 3 that PeerStore uses.
declare module 'protomux' {
  import type { Encoder } from 'compact-encoding'

  export interface Message<T = unknown> {
    /** Returns the stream's write() result: false means "wait for drain". */
    send(value: T): boolean
  }

  export interface Channel {
    readonly protocol: string
    readonly id: Buffer | null
    readonly opened: boolean
    readonly closed: boolean
    readonly drained: boolean
    addMessage<T>(opts: { encoding?: Encoder<T>; onmessage?: (value: T, channel: Channel) => unknown }): Message<T>
    open(handshake?: unknown): void
    close(): void
    cork(): void
    uncork(): void
    fullyOpened(): Promise<boolean>
  }

  export default class Protomux {
    static from(stream: unknown): Protomux
    readonly stream: unknown
    readonly drained: boolean
    createChannel(opts: {
      protocol: string
      id?: Buffer | null
      handshake?: Encoder<unknown> | null
      unique?: boolean
      onopen?: (handshake: unknown, channel: Channel) => unknown
      onclose?: (isRemote: boolean, channel: Channel) => unknown
      ondestroy?: (channel: Channel) => unknown
      ondrain?: (channel: Channel) => unknown
    }): Channel | null
    pair(opts: { protocol: string; id?: Buffer | null }, notify: (id: Buffer | null) => unknown): void
    unpair(opts: { protocol: string; id?: Buffer | null }): void
    opened(opts: { protocol: string; id?: Buffer | null }): boolean
    destroy(err?: Error): void
  }
}
