// An invite token carries what another machine needs to join a network: the
// network key and where to find its DHT. It is a secret: whoever holds it can
// join. Format: 'peerstore1' + base64url(compact-encoded InviteToken).

import c from 'compact-encoding'
import { ConfigError, type HostPort } from './config'

const PREFIX = 'peerstore1'

export interface InviteToken {
  networkKey: Buffer
  bootstrap: HostPort[]
}

const hostPortEncoding = {
  preencode(state: c.State, hp: HostPort) {
    c.string.preencode(state, hp.host)
    c.uint16.preencode(state, hp.port)
  },
  encode(state: c.State, hp: HostPort) {
    c.string.encode(state, hp.host)
    c.uint16.encode(state, hp.port)
  },
  decode(state: c.State): HostPort {
    return { host: c.string.decode(state), port: c.uint16.decode(state) }
  }
}

const inviteEncoding = {
  preencode(state: c.State, t: InviteToken) {
    c.fixed32.preencode(state, t.networkKey)
    c.array(hostPortEncoding).preencode(state, t.bootstrap)
  },
  encode(state: c.State, t: InviteToken) {
    c.fixed32.encode(state, t.networkKey)
    c.array(hostPortEncoding).encode(state, t.bootstrap)
  },
  decode(state: c.State): InviteToken {
    return { networkKey: c.fixed32.decode(state) as Buffer, bootstrap: c.array(hostPortEncoding).decode(state) }
  }
}

export function encodeInvite(token: InviteToken): string {
  return PREFIX + Buffer.from(c.encode(inviteEncoding, token)).toString('base64url')
}

export function decodeInvite(text: string): InviteToken {
  const trimmed = text.trim()
  if (!trimmed.startsWith(PREFIX)) throw new ConfigError(`not a PeerStore invite token (it starts with '${PREFIX}')`)
  try {
    return c.decode(inviteEncoding, Buffer.from(trimmed.slice(PREFIX.length), 'base64url'))
  } catch {
    throw new ConfigError('the invite token is damaged (copy it again, whole)')
  }
}
