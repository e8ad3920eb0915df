// The one hyperswarm (over one hyperdht) a networked node runs, and which DHT
// it finds the others on: the bootstrap list it was given (a private
// network's nodes, or a test's or a private deployment's DHT), or hyperdht's
// public one when it was given none. A lone node (an empty list) makes none,
// so it binds no socket at all.

import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import type { KeyPair } from '../crypto/keys'
import { enlargeSocketBuffers } from './socket-buffers'

/** Connection attempts under way at once (see createSwarm). */
const MAX_PARALLEL_DIALS = 16

export interface HostPort {
  host: string
  port: number
}

export interface SwarmOptions {
  keyPair: KeyPair
  /** DHT bootstrap nodes; undefined: hyperdht's public ones. */
  bootstrap: HostPort[] | undefined
  host: string | undefined
  port: number | undefined
  maxPeers: number | undefined
  /** True to refuse a peer (synchronous). */
  firewall: (remotePublicKey: Buffer) => boolean
}

export function createSwarm(opts: SwarmOptions): Hyperswarm {
  const dht = new HyperDHT({ keyPair: opts.keyPair, bootstrap: opts.bootstrap, host: opts.host, port: opts.port })
  enlargeSocketBuffers(dht)
  return new Hyperswarm({
    keyPair: opts.keyPair,
    dht,
    maxPeers: opts.maxPeers,
    // hyperswarm dials 3 peers at a time; announcements of nodes that crashed or moved
    // stay on the DHT for a while, and 3 dials to them held a newcomer off the live ones for 10 s.
    maxParallel: MAX_PARALLEL_DIALS,
    firewall: opts.firewall
  })
}

/** The DHT bootstrap nodes a node uses, as HOST:PORT text: hyperdht's public ones when none were given. */
export function bootstrapInUse(bootstrap: HostPort[] | undefined): string[] {
  if (bootstrap) return bootstrap.map((b) => (b.host.includes(':') ? `[${b.host}]:${b.port}` : `${b.host}:${b.port}`))
  // hyperdht writes them 'IP@NAME:PORT' (the IP saves a DNS lookup): the name is what a person recognises.
  return HyperDHT.BOOTSTRAP.map((b) => b.replace(/^[^@]*@/, ''))
}

/** Bind address when none is given: loopback for a DHT that is all on loopback (tests, one machine), else hyperdht's. */
export function defaultHost(bootstrap: HostPort[] | undefined): string | undefined {
  return bootstrap?.every((b) => isLoopback(b.host)) ? '127.0.0.1' : undefined
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host)
}
