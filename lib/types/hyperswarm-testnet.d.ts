// @hyperswarm/testnet 3 (a re-export of hyperdht/testnet): a small local DHT
// for tests. Always pass host '127.0.0.1'.
declare module '@hyperswarm/testnet' {
  import type HyperDHT from 'hyperdht'

  export interface Testnet {
    readonly nodes: HyperDHT[]
    readonly bootstrap: { host: string; port: number }[]
    createNode(opts?: Record<string, unknown>): HyperDHT
    destroy(): Promise<void>
    [Symbol.iterator](): Iterator<HyperDHT>
  }

  export default function createTestnet(
    size?: number,
    opts?: { host?: string; port?: number; bootstrap?: { host: string; port: number }[]; teardown?: unknown }
  ): Promise<Testnet>
}
