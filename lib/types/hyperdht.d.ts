// The subset of hyperdht 6 that PeerStore uses: the DHT node, its encrypted
// connections (@hyperswarm/secret-stream) and the key pair helper.
declare module 'hyperdht' {
  import { EventEmitter } from 'node:events'

  export interface KeyPair {
    publicKey: Buffer
    secretKey: Buffer
  }

  export interface HostPort {
    host: string
    port: number
  }

  /** A Noise-encrypted duplex stream to one peer (a streamx Duplex). */
  export interface NoiseSecretStream extends EventEmitter {
    readonly isInitiator: boolean
    readonly publicKey: Buffer
    readonly remotePublicKey: Buffer
    /** The Noise session hash: identical on both ends, unique per connection. */
    readonly handshakeHash: Buffer
    readonly rawBytesRead: number
    readonly rawBytesWritten: number
    readonly destroyed: boolean
    readonly destroying: boolean
    /** The UDX stream under the encryption: the address of the remote socket this connection uses. */
    readonly rawStream?: { remoteHost?: string; remotePort?: number }
    userData: unknown
    write(data: Uint8Array): boolean
    end(data?: Uint8Array): void
    destroy(err?: Error): void
    pause(): void
    resume(): void
    setTimeout(ms: number): void
    setKeepAlive(ms: number): void
    sendKeepAlive(): void
  }

  export interface DHTOptions {
    bootstrap?: (string | HostPort)[]
    keyPair?: KeyPair
    seed?: Buffer
    host?: string
    port?: number
    ephemeral?: boolean
    firewalled?: boolean
  }

  export interface Server extends EventEmitter {
    listen(keyPair?: KeyPair): Promise<void>
    close(): Promise<void>
    refresh(): void
    address(): { host: string; port: number; publicKey: Buffer } | null
  }

  /** A UDP socket of udx-native (dht-rpc's and the holepunch pool's). */
  export interface UDXSocket extends EventEmitter {
    setRecvBufferSize(bytes: number): number
    setSendBufferSize(bytes: number): number
    getRecvBufferSize(): number
    getSendBufferSize(): number
  }

  /** udx-native's UDX, which creates every socket a DHT node uses. */
  export interface UDX {
    createSocket(...args: unknown[]): UDXSocket
  }

  export default class HyperDHT extends EventEmitter {
    constructor(opts?: DHTOptions)
    readonly udx: UDX
    static keyPair(seed?: Buffer): KeyPair
    /** The public DHT's bootstrap nodes, 'IP@NAME:PORT'. */
    static readonly BOOTSTRAP: string[]
    /** A non-ephemeral node at a fixed port: the bootstrap of a private network. */
    static bootstrapper(port: number, host: string, opts?: DHTOptions): HyperDHT
    readonly defaultKeyPair: KeyPair
    readonly online: boolean
    readonly destroyed: boolean
    readonly firewalled: boolean
    readonly ephemeral: boolean
    readonly listening: Set<Server>
    ready(): Promise<void>
    fullyBootstrapped(): Promise<void>
    address(): { host: string; family: number; port: number } | null
    /** `relayAddresses`: DHT nodes to send the handshake to first; the peer's own DHT socket connects with no lookup. */
    connect(remotePublicKey: Buffer, opts?: { keyPair?: KeyPair; relayAddresses?: HostPort[] }): NoiseSecretStream
    createServer(
      opts?: { firewall?: (remotePublicKey: Buffer, payload: unknown) => boolean },
      onconnection?: (conn: NoiseSecretStream) => void
    ): Server
    destroy(opts?: { force?: boolean }): Promise<void>
  }
}
