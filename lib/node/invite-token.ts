// An invite token carries what another machine needs to join a network: the
// network key and where to find its DHT. It is a secret: whoever holds it can
// join. Format: 'peerstore1' + base64url(compact-encoded InviteToken).
//
// A device token ('peerstore2', `peerstore invite --device`) also carries the
// user's seed, so that a second computer of the same user mounts the same
// tree. It grants everything the user can do. A separate prefix, not an
// optional field, so that a plain invite never carries the seed by accident
// and older builds, which know only 'peerstore1', refuse it clearly instead
// of joining the network without the identity.

import c from 'compact-encoding'
import { configError, type HostPort } from './config'

const PREFIX = 'peerstore1'
const DEVICE_PREFIX = 'peerstore2'

export interface InviteToken {
  networkKey: Buffer
  bootstrap: HostPort[]
  /** The user's identity seed (32 bytes); only in device tokens. */
  userSeed?: Buffer
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

const deviceEncoding = {
  preencode(state: c.State, t: InviteToken) {
    inviteEncoding.preencode(state, t)
    c.fixed32.preencode(state, t.userSeed!)
  },
  encode(state: c.State, t: InviteToken) {
    inviteEncoding.encode(state, t)
    c.fixed32.encode(state, t.userSeed!)
  },
  decode(state: c.State): InviteToken {
    const t = inviteEncoding.decode(state)
    return { ...t, userSeed: Buffer.from(c.fixed32.decode(state)) }
  }
}

/** A 'peerstore1' token, or a 'peerstore2' device token when `userSeed` is set. */
export function encodeInvite(token: InviteToken): string {
  if (token.userSeed) {
    if (token.userSeed.byteLength !== 32) throw configError('a user seed is 32 bytes')
    return DEVICE_PREFIX + Buffer.from(c.encode(deviceEncoding, token)).toString('base64url')
  }
  return PREFIX + Buffer.from(c.encode(inviteEncoding, token)).toString('base64url')
}

export function decodeInvite(text: string): InviteToken {
  const trimmed = text.trim()
  const device = trimmed.startsWith(DEVICE_PREFIX)
  if (!device && !trimmed.startsWith(PREFIX)) {
    throw configError(`not a PeerStore invite token (it starts with '${PREFIX}' or '${DEVICE_PREFIX}')`)
  }
  const body = trimmed.slice(PREFIX.length)
  // base64url decoding skips characters outside its alphabet: refuse them, so a mangled token is not half-read.
  if (!/^[A-Za-z0-9_-]+$/.test(body)) throw configError('the invite token is damaged (copy it again, whole)')
  try {
    const bytes = Buffer.from(body, 'base64url')
    const state = c.state(0, bytes.byteLength, bytes)
    const token = (device ? deviceEncoding : inviteEncoding).decode(state)
    // Trailing bytes mean a truncated or spliced token of another kind.
    if (state.start !== state.end) throw new Error('trailing bytes')
    return token
  } catch {
    throw configError('the invite token is damaged (copy it again, whole)')
  }
}
