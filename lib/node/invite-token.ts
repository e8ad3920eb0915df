// An invite token carries what another machine needs to join a network: the
// network key and where to find its DHT. It is a secret: whoever holds it can
// join. Format: 'peerstore-invite2' + base64url(compact-encoded InviteToken ‖
// 4-byte check), the checked token text of lib/crypto/checked-token.ts, so a
// mistyped token is refused as damaged instead of joining another network.
//
// A device token ('peerstore-device2', `peerstore invite --device`) also
// carries the user's seed, so that a second computer of the same user mounts
// the same tree. It grants everything the user can do. A separate prefix, not
// an optional field, so that a plain invite never carries the seed by accident
// and builds that do not know it refuse it clearly instead of joining the
// network without the identity.
//
// The first formats, 'peerstore1' (invite) and 'peerstore2' (device), had no
// check: they are refused with a message to ask for a new token
// (docs/architecture.md, "Invite tokens", says why).

import c from 'compact-encoding'
import {
  type CheckedTokenKind,
  damagedTokenError,
  decodeCheckedToken,
  encodeCheckedToken,
  looksLikeToken,
  tokenError
} from '../crypto/checked-token'
import { configError, type HostPort } from './config'

const INVITE: CheckedTokenKind = {
  prefix: 'peerstore-invite2',
  what: 'invite token',
  askAgain: "ask for a new one ('peerstore invite' on a machine of the network, updated to this version)",
  uncheckedPrefixes: ['peerstore1']
}
const DEVICE: CheckedTokenKind = {
  prefix: 'peerstore-device2',
  what: 'device token',
  askAgain: "make a new one with 'peerstore invite --device' on your other computer (updated to this version)",
  uncheckedPrefixes: ['peerstore2']
}

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

/** An invite token, or a device token when `userSeed` is set. */
export function encodeInvite(token: InviteToken): string {
  if (token.userSeed) {
    if (token.userSeed.byteLength !== 32) throw configError('a user seed is 32 bytes')
    return encodeCheckedToken(DEVICE, c.encode(deviceEncoding, token))
  }
  return encodeCheckedToken(INVITE, c.encode(inviteEncoding, token))
}

/** The invite or device token in `text`; refuses a damaged one, one of the unchecked first formats, and any other text. */
export function decodeInvite(text: string): InviteToken {
  const kind = looksLikeToken(DEVICE, text) ? DEVICE : looksLikeToken(INVITE, text) ? INVITE : null
  if (!kind) {
    throw tokenError(
      `not a PeerStore invite token (it starts with '${INVITE.prefix}', or '${DEVICE.prefix}' for another computer of yours)`
    )
  }
  const bytes = decodeCheckedToken(kind, text)
  try {
    const state = c.state(0, bytes.byteLength, bytes)
    const token = (kind === DEVICE ? deviceEncoding : inviteEncoding).decode(state)
    if (state.start !== state.end) throw new Error('trailing bytes')
    return token
  } catch {
    // Only a token made wrong passes the check and still fails here.
    throw damagedTokenError(kind)
  }
}
