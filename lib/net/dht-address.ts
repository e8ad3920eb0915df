// Where a peer's DHT socket is, asked over its authenticated session. A
// connection's own remote address is some socket of the peer's pool, not the
// DHT socket that answers a handshake; with the DHT socket's address a peer
// can be dialed again directly (dialer.ts), without any bootstrap or lookup.
// Nodes older than this method answer EUNKNOWNMETHOD and are simply not
// remembered by address.

import c from 'compact-encoding'
import type { Encoding } from './codec'

export const DHT_ADDRESS_METHOD = 'DhtAddress'

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
    if (host.length > 255 || port < 1 || port > 65535) throw new Error('bad DHT address')
    return { host, port }
  }
}

export const noBody: Encoding<null> = c.none as unknown as Encoding<null>

/** The address to dial: a wildcard bind address means "the host the connection came from". */
export function dialableAddress(reported: DhtAddress, connectionHost: string | undefined): DhtAddress | null {
  const wildcard = reported.host === '0.0.0.0' || reported.host === '::' || reported.host === ''
  const host = wildcard ? connectionHost : reported.host
  return host ? { host, port: reported.port } : null
}
