// lib/chord's Transport over PeerNetwork: a Chord request is one RPC on the
// authenticated connection to the machine whose public key is the address.

import { type ChordRequest, type ChordResponse, type RequestHandler, rpcError, type Transport } from '../chord'
import type { PeerNetwork } from '../net'
import { chordRequestEncoding, chordResponseEncoding } from '../chord/wire'

export const CHORD_METHOD = 'Chord'

/** How long a machine whose connection closed is answered for at once, unless it reconnects. */
const DEPARTED_MS = 10_000

const ADDRESS = /^[0-9a-f]{64}$/

export class NetChordTransport implements Transport {
  readonly address: string
  private handler: RequestHandler | null = null
  /** Machines whose last connection closed, with when: peer departure fed to Chord. */
  private readonly departed = new Map<string, number>()

  constructor(private readonly network: PeerNetwork) {
    this.address = network.publicKey.toString('hex')
  }

  private readonly onPeerRemove = (pk: Buffer) => this.departed.set(pk.toString('hex'), Date.now())
  private readonly onPeerAdd = (pk: Buffer) => this.departed.delete(pk.toString('hex'))

  /** Serves Chord requests and follows peer departures until close(). */
  start(): void {
    this.network.on('peer-remove', this.onPeerRemove)
    this.network.on('peer-add', this.onPeerAdd)
    this.network.respond(CHORD_METHOD, chordRequestEncoding, chordResponseEncoding, async (req, peer) => {
      if (!this.handler) throw rpcError('ENOTMEMBER', 'this node has not joined the ring yet')
      return this.handler(peer.publicKey.toString('hex'), req)
    })
  }

  close(): void {
    this.network.unrespond(CHORD_METHOD)
    this.network.off('peer-remove', this.onPeerRemove)
    this.network.off('peer-add', this.onPeerAdd)
  }

  async request(to: string, req: ChordRequest, timeoutMs: number): Promise<ChordResponse> {
    // A machine that just went away fails at once instead of after a dial timeout,
    // so stabilize and lookups route around it within one round.
    const gone = this.departed.get(to)
    if (gone !== undefined && Date.now() - gone < DEPARTED_MS) {
      throw rpcError('EPEERUNREACHABLE', `peer ${to.slice(0, 8)} disconnected`)
    }
    try {
      return await this.network.request(
        Buffer.from(to, 'hex'),
        CHORD_METHOD,
        req,
        chordRequestEncoding,
        chordResponseEncoding,
        { timeoutMs }
      )
    } catch (err) {
      const code = (err as { code?: string }).code
      const message = (err as Error).message
      if (code === 'ETIMEDOUT' || code === 'ENOTMEMBER' || code === 'EBADMESSAGE') throw rpcError(code, message)
      // A closed channel or a failed dial both mean: this peer is not reachable now.
      throw rpcError('EPEERUNREACHABLE', message)
    }
  }

  setRequestHandler(handler: RequestHandler): void {
    this.handler = handler
  }

  /** An address is the machine's hex public key (64 lowercase hex digits, as PeerNetwork writes it). */
  publicKeyOf(address: string): Uint8Array | null {
    return ADDRESS.test(address) ? Buffer.from(address, 'hex') : null
  }
}
