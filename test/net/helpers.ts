// Fixtures for transport tests: a @hyperswarm/testnet bound to 127.0.0.1 and
// PeerNetworks on it, all closed in teardown even when a test fails.

import createTestnet, { type Testnet } from '@hyperswarm/testnet'
import type { Test } from 'brittle'
import c from 'compact-encoding'
import HyperDHT, { type NoiseSecretStream } from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import ProtomuxRPC from 'protomux-rpc'
import { keyPairFromSeed, randomBytes } from '../../lib/crypto/keys'
import { capability } from '../../lib/net/capability'
import { PeerNetwork, type PeerNetworkOptions } from '../../lib/net/peer-network'
import { PROTOCOL } from '../../lib/net/protocol'

export interface Fixture {
  testnet: Testnet
  networkKey: Buffer
  /** Creates a PeerNetwork on the testnet (ready() already awaited), closed in teardown. */
  node(opts?: Partial<PeerNetworkOptions>): Promise<PeerNetwork>
}

export async function createFixture(t: Test): Promise<Fixture> {
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  const nets: PeerNetwork[] = []
  // Networks first, the testnet last (brittle runs teardowns in order).
  t.teardown(async () => {
    await Promise.allSettled(nets.map((n) => n.close()))
  })
  t.teardown(() => testnet.destroy(), { order: Number.MAX_SAFE_INTEGER })
  const networkKey = randomBytes(32)
  return {
    testnet,
    networkKey,
    async node(opts = {}) {
      const net = new PeerNetwork({
        keyPair: keyPairFromSeed(randomBytes(32)),
        networkKey,
        bootstrap: testnet.bootstrap,
        ...opts
      })
      nets.push(net)
      await net.ready()
      return net
    }
  }
}

/**
 * A hand-built peer that speaks the wire protocol directly (no PeerNetwork),
 * to send what a well-behaved node never would. `proof`: 'valid' knows the
 * network key, 'wrong' proves another key, 'silent' never opens the channel.
 */
export async function rawPeer(
  t: Test,
  fixture: Fixture,
  target: Buffer,
  proof: 'valid' | 'wrong' | 'silent'
): Promise<{ conn: NoiseSecretStream; rpc: ProtomuxRPC | null; swarm: Hyperswarm }> {
  const keyPair = keyPairFromSeed(randomBytes(32))
  const dht = new HyperDHT({ keyPair, bootstrap: fixture.testnet.bootstrap, host: '127.0.0.1' })
  const swarm = new Hyperswarm({ keyPair, dht })
  t.teardown(() => swarm.destroy())
  const conn = await new Promise<NoiseSecretStream>((resolve) => {
    swarm.on('connection', (conn) => {
      conn.on('error', () => {})
      resolve(conn)
    })
    swarm.joinPeer(target)
  })
  if (proof === 'silent') return { conn, rpc: null, swarm }
  const key = proof === 'valid' ? fixture.networkKey : randomBytes(32)
  const rpc = new ProtomuxRPC(conn, {
    protocol: PROTOCOL,
    valueEncoding: c.raw,
    handshake: capability(conn.isInitiator, key, conn.handshakeHash),
    handshakeEncoding: c.fixed32
  })
  return { conn, rpc, swarm }
}
