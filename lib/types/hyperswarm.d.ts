// The subset of hyperswarm 4 that PeerStore uses.
declare module 'hyperswarm' {
  import { EventEmitter } from 'node:events'
  import type HyperDHT from 'hyperdht'
  import type { KeyPair, NoiseSecretStream } from 'hyperdht'

  export interface PeerInfo {
    readonly publicKey: Buffer
    readonly topics: Buffer[]
    readonly banned: boolean
    readonly client: boolean
    readonly explicit: boolean
  }

  export interface PeerDiscoverySession {
    refresh(opts?: { client?: boolean; server?: boolean }): Promise<void>
    /** Resolves false when the announce/lookup failed (e.g. no reachable bootstrap). */
    flushed(): Promise<boolean>
    destroy(): Promise<void>
  }

  export interface HyperswarmOptions {
    keyPair?: KeyPair
    seed?: Buffer
    dht?: HyperDHT
    bootstrap?: { host: string; port: number }[]
    maxPeers?: number
    maxParallel?: number
    /** Synchronous; return true to reject. Runs on the server at the handshake, and before dialing. */
    firewall?: (remotePublicKey: Buffer, payload: unknown) => boolean
  }

  export default class Hyperswarm extends EventEmitter {
    constructor(opts?: HyperswarmOptions)
    readonly keyPair: KeyPair
    readonly dht: HyperDHT
    readonly server: import('hyperdht').Server
    readonly connections: Set<NoiseSecretStream>
    readonly peers: Map<string, PeerInfo>
    readonly destroyed: boolean
    readonly connecting: number
    listen(): Promise<void>
    join(topic: Buffer, opts?: { server?: boolean; client?: boolean }): PeerDiscoverySession
    leave(topic: Buffer): Promise<void>
    joinPeer(publicKey: Buffer): void
    leavePeer(publicKey: Buffer): void
    status(topic: Buffer): unknown
    flush(): Promise<boolean>
    destroy(opts?: { force?: boolean }): Promise<void>
    on(event: 'connection', listener: (conn: NoiseSecretStream, info: PeerInfo) => void): this
    on(event: 'update', listener: () => void): this
    on(event: 'ban', listener: (info: PeerInfo, err: Error) => void): this
  }
}
