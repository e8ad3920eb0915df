// lib/chord's Transport over PeerNetwork: a Chord request is one RPC on the
// authenticated connection to the machine whose public key is the address.

import { type ChordRequest, type ChordResponse, type RequestHandler, RpcError, type Transport } from '../chord'
import type { PeerNetwork } from '../net'
import { chordRequestEncoding, chordResponseEncoding } from '../net/chord-messages'

export const CHORD_METHOD = 'Chord'

export class NetChordTransport implements Transport {
  readonly address: string
  private handler: RequestHandler | null = null

  constructor(private readonly network: PeerNetwork) {
    this.address = network.publicKey.toString('hex')
    network.respond(CHORD_METHOD, chordRequestEncoding, chordResponseEncoding, async (req, peer) => {
      if (!this.handler) throw new RpcError('ENOTMEMBER', 'this node has not joined the ring yet')
      return this.handler(peer.publicKey.toString('hex'), req)
    })
  }

  async request(to: string, req: ChordRequest, timeoutMs: number): Promise<ChordResponse> {
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
      if (code === 'ETIMEDOUT' || code === 'ENOTMEMBER' || code === 'EBADMESSAGE') throw new RpcError(code, message)
      // A closed channel or a failed dial both mean: this peer is not reachable now.
      throw new RpcError('EPEERUNREACHABLE', message)
    }
  }

  setRequestHandler(handler: RequestHandler): void {
    this.handler = handler
  }
}
