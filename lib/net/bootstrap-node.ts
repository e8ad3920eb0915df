// A DHT bootstrap node for private and offline networks: the fixed address
// new nodes are given (`--bootstrap HOST:PORT`) to find the rest.

import HyperDHT from 'hyperdht'

export interface BootstrapNode {
  address(): { host: string; port: number }
  close(): Promise<void>
}

export async function startBootstrapNode(port: number, host: string): Promise<BootstrapNode> {
  // bootstrapper() would bind 0.0.0.0 unless a host is given (platform notes §2.9).
  const dht = HyperDHT.bootstrapper(port, host, { host })
  await dht.ready()
  return {
    address: () => ({ host, port: dht.address()?.port ?? port }),
    close: () => dht.destroy()
  }
}
