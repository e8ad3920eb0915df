// A DHT bootstrap for private and offline networks: the fixed address new
// nodes are given (`--bootstrap HOST:PORT`) to find the rest.
//
// It is a small DHT of its own, not one node: the bootstrapper at PORT and
// `nodes - 1` more persistent nodes at the ports after it. hyperdht expects
// many DHT nodes; with the bootstrapper alone, every announcement and every
// handshake went through that one node, and a machine joining a loopback
// ring of four took 1 s or 12-38 s, bimodally; with five nodes, under 2 s
// (docs/nat.md, "Join times"). Every node's port must be reachable, like the
// bootstrapper's.

import HyperDHT from 'hyperdht'

/** DHT nodes a bootstrap runs by default (the bootstrapper included). */
export const DEFAULT_BOOTSTRAP_DHT_NODES = 5

export interface BootstrapNode {
  address(): { host: string; port: number }
  /** The UDP ports of all its DHT nodes, the bootstrapper's first. */
  ports(): number[]
  close(): Promise<void>
}

export async function startBootstrapNode(
  port: number,
  host: string,
  nodes = DEFAULT_BOOTSTRAP_DHT_NODES
): Promise<BootstrapNode> {
  // bootstrapper() would bind 0.0.0.0 unless a host is given (platform notes §2.9).
  const first = HyperDHT.bootstrapper(port, host, { host })
  const dhts: HyperDHT[] = [first]
  const close = async () => {
    for (const dht of dhts.reverse()) await dht.destroy()
  }
  try {
    await first.ready()
    const bootstrap = [{ host, port }]
    for (let i = 1; i < nodes; i++) {
      dhts.push(await startPersistentNode(bootstrap, host, port + i))
    }
  } catch (err) {
    await close()
    throw err
  }
  return {
    address: () => ({ host, port: first.address()?.port ?? port }),
    ports: () => dhts.map((d) => d.address()?.port ?? 0),
    close
  }
}

/** A non-ephemeral DHT node at `port` (dht-rpc takes a free port itself when that one is taken). */
async function startPersistentNode(
  bootstrap: { host: string; port: number }[],
  host: string,
  port: number
): Promise<HyperDHT> {
  const dht = new HyperDHT({ ephemeral: false, firewalled: false, bootstrap, host, port: port > 65535 ? 0 : port })
  try {
    await dht.fullyBootstrapped()
    return dht
  } catch (err) {
    await dht.destroy()
    throw err
  }
}
