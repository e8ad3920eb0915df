// Where peers' DHT sockets are. A connection's own remote address is some
// socket of the peer's pool, not the DHT socket that answers a handshake; with
// the DHT socket's address a peer is dialed directly (dialer.ts), with no
// bootstrap and no lookup: that is how a node finds its ring again after
// every bootstrap restarted or with none running (issue 15).
//
// Each node answers DhtAddress for itself and for the peers it is connected
// to. A new peer is asked for its own address (kept here, and told to the
// node through 'peer-address' so its home remembers it); a peer to dial whose
// address is unknown (Chord names machines by key only) is asked of the
// connected peers. Nodes older than this method answer EUNKNOWNMETHOD: they
// are then found by the topic lookup alone, as before.

import c from 'compact-encoding'
import type { Encoding } from './codec'
import { netError } from './errors'

export const DHT_ADDRESS_METHOD = 'DhtAddress'
/** Addresses kept; the oldest learnt goes first. */
const MAX_ADDRESSES = 1024
/** Connected peers asked where an unknown peer is. */
const PEERS_ASKED = 3
const ASK_TIMEOUT_MS = 3_000

export interface DhtAddress {
  host: string
  port: number
}

export const dhtAddressEncoding: Encoding<DhtAddress> = {
  preencode(state, v) {
    c.string.preencode(state, v.host)
    c.uint.preencode(state, v.port)
  },
  encode(state, v) {
    c.string.encode(state, v.host)
    c.uint.encode(state, v.port)
  },
  decode(state) {
    const host = c.string.decode(state)
    const port = c.uint.decode(state)
    if (host.length === 0 || host.length > 255 || port < 1 || port > 65535) throw new Error('bad DHT address')
    return { host, port }
  }
}

const peerKeyEncoding: Encoding<Buffer> = c.fixed32 as unknown as Encoding<Buffer>

export interface AddressBookDeps {
  publicKey: Buffer
  /** This node's own DHT socket, or null before it listens. */
  ownAddress(): DhtAddress | null
  peers(): Buffer[]
  ask(peerKey: Buffer, about: Buffer, timeoutMs: number): Promise<DhtAddress>
  dialDirect(peerKey: Buffer, at: DhtAddress): void
  /** A connected peer said where its own DHT socket is. */
  learnt(peerKey: Buffer, at: DhtAddress): void
}

export class AddressBook {
  private readonly deps: AddressBookDeps
  private readonly addresses = new Map<string, DhtAddress>()

  constructor(deps: AddressBookDeps) {
    this.deps = deps
  }

  /** The handler of DhtAddress: where this node, or a peer it knows, listens. */
  readonly method = {
    name: DHT_ADDRESS_METHOD,
    requestEncoding: peerKeyEncoding,
    responseEncoding: dhtAddressEncoding,
    handler: async (about: Buffer): Promise<DhtAddress> => {
      const at = about.equals(this.deps.publicKey) ? this.deps.ownAddress() : this.addresses.get(about.toString('hex'))
      if (!at) throw netError('EPEERUNREACHABLE', 'address unknown')
      return at
    }
  }

  get(peerKey: Buffer): DhtAddress | undefined {
    return this.addresses.get(peerKey.toString('hex'))
  }

  set(peerKey: Buffer, at: DhtAddress): void {
    const hex = peerKey.toString('hex')
    this.addresses.delete(hex)
    this.addresses.set(hex, at)
    if (this.addresses.size > MAX_ADDRESSES) this.addresses.delete(this.addresses.keys().next().value as string)
  }

  /** Asks a newly connected peer where its DHT socket is (the connection came from `connectionHost`). */
  learnFrom(peerKey: Buffer, connectionHost: string | undefined): void {
    this.deps
      .ask(peerKey, peerKey, ASK_TIMEOUT_MS)
      .then((reported) => {
        const at = dialableAddress(reported, connectionHost)
        if (!at) return
        this.set(peerKey, at)
        this.deps.learnt(peerKey, at)
      })
      // An older node without the method, or one gone already: nothing to learn.
      .catch(noop)
  }

  /** Dials a peer where it was last known to listen, and asks a few connected peers where it is now. */
  locate(peerKey: Buffer): void {
    const known = this.get(peerKey)
    if (known) this.deps.dialDirect(peerKey, known)
    const asked = this.deps
      .peers()
      .filter((p) => !p.equals(peerKey))
      .slice(0, PEERS_ASKED)
    for (const via of asked) {
      this.deps
        .ask(via, peerKey, ASK_TIMEOUT_MS)
        .then((at) => {
          const before = this.get(peerKey)
          if (before && before.host === at.host && before.port === at.port) return
          this.set(peerKey, at)
          this.deps.dialDirect(peerKey, at)
        })
        .catch(noop)
    }
  }
}

/** The address to dial: a wildcard bind address means "the host the connection came from". */
export function dialableAddress(reported: DhtAddress, connectionHost: string | undefined): DhtAddress | null {
  const wildcard = reported.host === '0.0.0.0' || reported.host === '::'
  const host = wildcard ? connectionHost : reported.host
  return host ? { host, port: reported.port } : null
}

function noop(): void {}
