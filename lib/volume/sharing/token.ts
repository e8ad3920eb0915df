// What travels between users when one shares with another, with explicit
// compact-encoding schemas:
//
// - a user id ('peerstore-user1…'): the Ed25519 user key and a 4-byte
//   checksum, so that a mistyped id is refused instead of sharing with nobody;
// - a capability: the owner, one inode id and that inode's key, which is
//   enough to read the inode's record and, through the keys its directory
//   entries carry, everything below it (docs/volume.md, "Sharing");
// - a share token ('peerstore-share2…'): one capability sealed to the
//   recipient's X25519 key, for delivery out of band, with a 4-byte checksum
//   (the first format, 'peerstore-share1', had none and is refused);
// - an inbox: every capability one owner grants one recipient, sealed to the
//   recipient, the value of a record the owner signs (records.ts).
//
// User ids and share tokens are checked token text (lib/crypto/checked-token.ts).

import c from 'compact-encoding'
import { codedError, type PeerStoreError } from '../../common/errors'
import {
  type CheckedTokenKind,
  damagedTokenError,
  decodeCheckedToken,
  encodeCheckedToken,
  looksLikeToken
} from '../../crypto/checked-token'
import { namespace } from '../../crypto/hash'
import { curvePublicKey } from '../../crypto/share-keys'
import type { InodeType } from '../inode'

const USER_ID: CheckedTokenKind = {
  prefix: 'peerstore-user1',
  what: 'user id',
  askAgain: "ask them for it again ('peerstore whoami')",
  // The domain user ids had before the checked token text was shared: the ids already given out stay valid.
  checkDomain: namespace('share/user-id-check')
}
const SHARE_TOKEN: CheckedTokenKind = {
  prefix: 'peerstore-share2',
  what: 'share token',
  askAgain:
    "ask the sharer to run 'peerstore share' again (updated to this version), or follow them with 'peerstore accept USERID'",
  uncheckedPrefixes: ['peerstore-share1']
}
// By index on the wire: new types only ever go at the end.
const TYPES: InodeType[] = ['file', 'dir', 'symlink', 'fifo', 'chardev', 'blockdev', 'socket']

/** A share, user id or token refused; EINVAL unless the caller names another code. */
export function shareError(message: string, code = 'EINVAL'): PeerStoreError {
  return codedError(code, message)
}

export interface Capability {
  /** The sharer's Ed25519 user key: the records live at recordKey(owner, inodeId). */
  owner: Buffer
  inodeId: Buffer
  inodeKey: Buffer
  type: InodeType
  /** The name the owner gave it, shown under @shared. */
  name: string
}

export const capabilityEncoding = {
  preencode(state: c.State, cap: Capability) {
    c.fixed32.preencode(state, cap.owner)
    c.fixed32.preencode(state, cap.inodeId)
    c.fixed32.preencode(state, cap.inodeKey)
    c.uint8.preencode(state, 0)
    c.string.preencode(state, cap.name)
  },
  encode(state: c.State, cap: Capability) {
    c.fixed32.encode(state, cap.owner)
    c.fixed32.encode(state, cap.inodeId)
    c.fixed32.encode(state, cap.inodeKey)
    c.uint8.encode(state, TYPES.indexOf(cap.type))
    c.string.encode(state, cap.name)
  },
  decode(state: c.State): Capability {
    const owner = Buffer.from(c.fixed32.decode(state))
    const inodeId = Buffer.from(c.fixed32.decode(state))
    const inodeKey = Buffer.from(c.fixed32.decode(state))
    const type = TYPES[c.uint8.decode(state)]
    if (!type) throw new Error('unknown inode type')
    return { owner, inodeId, inodeKey, type, name: c.string.decode(state) }
  }
}

/** The inbox: a format version, then the capabilities. */
const inboxEncoding = {
  preencode(state: c.State, caps: Capability[]) {
    c.uint.preencode(state, 1)
    c.array(capabilityEncoding).preencode(state, caps)
  },
  encode(state: c.State, caps: Capability[]) {
    c.uint.encode(state, 1)
    c.array(capabilityEncoding).encode(state, caps)
  },
  decode(state: c.State): Capability[] {
    if (c.uint.decode(state) !== 1) throw new Error('unknown inbox version')
    return c.array(capabilityEncoding).decode(state)
  }
}

interface TokenBody {
  owner: Buffer
  /** Who it is sealed to: lets a wrong recipient be told so before any crypto. */
  recipient: Buffer
  sealed: Buffer
}

const tokenEncoding = {
  preencode(state: c.State, t: TokenBody) {
    c.fixed32.preencode(state, t.owner)
    c.fixed32.preencode(state, t.recipient)
    c.buffer.preencode(state, t.sealed)
  },
  encode(state: c.State, t: TokenBody) {
    c.fixed32.encode(state, t.owner)
    c.fixed32.encode(state, t.recipient)
    c.buffer.encode(state, t.sealed)
  },
  decode(state: c.State): TokenBody {
    return {
      owner: Buffer.from(c.fixed32.decode(state)),
      recipient: Buffer.from(c.fixed32.decode(state)),
      sealed: Buffer.from((c.buffer.decode(state) as Buffer | null) ?? Buffer.alloc(0))
    }
  }
}

/** Decodes all of `bytes` with `enc`; trailing bytes mean a damaged or spliced value. */
function decodeExact<T>(enc: { decode(state: c.State): T }, bytes: Buffer): T {
  const state = c.state(0, bytes.byteLength, bytes)
  const value = enc.decode(state)
  if (state.start !== state.end) throw new Error('trailing bytes')
  return value
}

/** Whether `text` is meant as a user id (rather than a share token), damaged or not. */
export function isUserIdText(text: string): boolean {
  return looksLikeToken(USER_ID, text)
}

export function encodeUserId(publicKey: Buffer): string {
  return encodeCheckedToken(USER_ID, publicKey)
}

/** The Ed25519 user key of a user id; refuses a damaged id or one that is no valid key. */
export function decodeUserId(text: string): Buffer {
  if (!isUserIdText(text)) {
    throw shareError(`not a PeerStore user id (it starts with '${USER_ID.prefix}'; see 'peerstore whoami')`)
  }
  const pk = decodeCheckedToken(USER_ID, text)
  if (pk.byteLength !== 32) throw damagedTokenError(USER_ID)
  curvePublicKey(pk) // throws for bytes that are no user key
  return pk
}

export function encodeCapability(cap: Capability): Buffer {
  return c.encode(capabilityEncoding, cap) as Buffer
}

export function decodeCapability(bytes: Buffer): Capability {
  return decodeExact(capabilityEncoding, bytes)
}

export function encodeInbox(caps: Capability[]): Buffer {
  return c.encode(inboxEncoding, caps) as Buffer
}

export function decodeInbox(bytes: Buffer): Capability[] {
  return decodeExact(inboxEncoding, bytes)
}

export function encodeShareToken(t: TokenBody): string {
  return encodeCheckedToken(SHARE_TOKEN, c.encode(tokenEncoding, t))
}

export function decodeShareToken(text: string): TokenBody {
  const body = decodeCheckedToken(SHARE_TOKEN, text)
  try {
    return decodeExact(tokenEncoding, body)
  } catch {
    throw damagedTokenError(SHARE_TOKEN)
  }
}
