// What travels between users when one shares with another, with explicit
// compact-encoding schemas:
//
// - a user id ('peerstore-user1…'): the Ed25519 user key and a 4-byte
//   checksum, so that a mistyped id is refused instead of sharing with nobody;
// - a capability: the owner, one inode id and that inode's key, which is
//   enough to read the inode's record and, through the keys its directory
//   entries carry, everything below it (docs/volume.md, "Sharing");
// - a share token ('peerstore-share1…'): one capability sealed to the
//   recipient's X25519 key, for delivery out of band;
// - an inbox: every capability one owner grants one recipient, sealed to the
//   recipient, the value of a record the owner signs (records.ts).

import c from 'compact-encoding'
import { codedError, type PeerStoreError } from '../../common/errors'
import { namespace, sha256 } from '../../crypto/hash'
import { curvePublicKey } from '../../crypto/share-keys'
import type { InodeType } from '../inode'

const USER_PREFIX = 'peerstore-user1'
const TOKEN_PREFIX = 'peerstore-share1'
const NS_USER_CHECK = namespace('share/user-id-check')
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

function base64urlBody(text: string, prefix: string, what: string): Buffer {
  const body = text.trim().slice(prefix.length)
  // base64url decoding skips characters outside its alphabet: refuse them, so a mangled id is not half-read.
  if (!/^[A-Za-z0-9_-]+$/.test(body)) throw shareError(`the ${what} is damaged (copy it again, whole)`)
  return Buffer.from(body, 'base64url')
}

export function encodeUserId(publicKey: Buffer): string {
  const check = sha256(NS_USER_CHECK, publicKey).subarray(0, 4)
  return USER_PREFIX + Buffer.concat([publicKey, check]).toString('base64url')
}

/** The Ed25519 user key of a user id; refuses a damaged id or one that is no valid key. */
export function decodeUserId(text: string): Buffer {
  if (!text.trim().startsWith(USER_PREFIX)) {
    throw shareError(`not a PeerStore user id (it starts with '${USER_PREFIX}'; see 'peerstore whoami')`)
  }
  const raw = base64urlBody(text, USER_PREFIX, 'user id')
  const pk = raw.subarray(0, 32)
  if (raw.byteLength !== 36 || !sha256(NS_USER_CHECK, pk).subarray(0, 4).equals(raw.subarray(32))) {
    throw shareError('the user id is damaged (copy it again, whole)')
  }
  curvePublicKey(pk) // throws for bytes that are no user key
  return Buffer.from(pk)
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
  return TOKEN_PREFIX + Buffer.from(c.encode(tokenEncoding, t)).toString('base64url')
}

export function decodeShareToken(text: string): TokenBody {
  if (!text.trim().startsWith(TOKEN_PREFIX)) {
    throw shareError(`not a PeerStore share token (it starts with '${TOKEN_PREFIX}')`)
  }
  const body = base64urlBody(text, TOKEN_PREFIX, 'share token')
  try {
    return decodeExact(tokenEncoding, body)
  } catch {
    throw shareError('the share token is damaged (copy it again, whole)')
  }
}
