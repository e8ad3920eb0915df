// Checked token text: the one format of every token and id the CLI prints
// for a person to copy (invite and device tokens, share tokens, user ids):
//
//   prefix + base64url(payload ‖ check)
//   check = the first 4 bytes of SHA-256(domain ‖ payload)
//
// where `domain` is a namespace derived from the prefix, so the check covers
// the prefix too. A copy with one character changed, dropped, added or two
// swapped, or cut short, fails the check (a random one passes with odds of
// 1 in 2^32) and is refused as damaged, instead of decoding to a valid but
// different key: an invite mistyped inside its network key used to join a
// network of one and wait there, silently (issue 15).
//
// It lives in lib/crypto, not lib/common, because it is a hash over bytes
// and both layers that print tokens (lib/node, lib/volume) may import crypto.

import { codedError, type PeerStoreError } from '../common/errors'
import { namespace, sha256 } from './hash'

const CHECK_BYTES = 4

export interface CheckedTokenKind {
  /** The text every token of this kind starts with; a new format gets a new prefix. */
  prefix: string
  /** What the user calls it, in messages: 'invite token'. */
  what: string
  /** Where to get a new one, in the message for a token of an older format. */
  askAgain: string
  /** Prefixes of earlier formats of this kind, which carry no check and are refused as such. */
  uncheckedPrefixes?: readonly string[]
  /** The check's domain; default namespace('checked-token/' + prefix). User ids keep the one they had. */
  checkDomain?: Buffer
}

/** The error for a token that is not one; the caller's command exits 1 and prints the message. */
export function tokenError(message: string): PeerStoreError {
  return codedError('EINVAL', message)
}

/** A token whose text is not whole; also for a payload that passed the check but does not decode. */
export function damagedTokenError(kind: CheckedTokenKind): PeerStoreError {
  return tokenError(`the ${kind.what} is damaged (mistyped or cut short): copy it again, whole`)
}

function checkOf(kind: CheckedTokenKind, payload: Uint8Array): Buffer {
  const domain = kind.checkDomain ?? namespace(`checked-token/${kind.prefix}`)
  return sha256(domain, payload).subarray(0, CHECK_BYTES)
}

export function encodeCheckedToken(kind: CheckedTokenKind, payload: Uint8Array): string {
  return kind.prefix + Buffer.concat([payload, checkOf(kind, payload)]).toString('base64url')
}

/** Whether `text` claims to be of this kind (current format or an older one), so a caller can choose a decoder. */
export function looksLikeToken(kind: CheckedTokenKind, text: string): boolean {
  const compact = withoutWhitespace(text)
  return [kind.prefix, ...(kind.uncheckedPrefixes ?? [])].some((p) => compact.startsWith(p))
}

/**
 * The payload of a token of this kind. Refuses, with a message that names the
 * kind: text of no such kind, a token of an older format (no check: ask for a
 * new one), and a damaged one (wrong characters, wrong length, failed check).
 */
export function decodeCheckedToken(kind: CheckedTokenKind, text: string): Buffer {
  // A token wrapped across lines by a mail client or a terminal is still whole.
  const compact = withoutWhitespace(text)
  if (!compact.startsWith(kind.prefix)) {
    const old = kind.uncheckedPrefixes?.find((p) => compact.startsWith(p))
    if (old) {
      throw tokenError(
        `this ${kind.what} ('${old}…') is of an older format with no checksum, so a mistyped one cannot be told ` +
          `from a good one; ${kind.askAgain}`
      )
    }
    throw tokenError(`not a PeerStore ${kind.what} (it starts with '${kind.prefix}')`)
  }
  const damaged = damagedTokenError(kind)
  const body = compact.slice(kind.prefix.length)
  // Node's base64url decoder skips characters outside the alphabet and ignores
  // the spare low bits of the last one: only text that re-encodes to itself is
  // read, so two texts never decode to the same bytes.
  if (!/^[A-Za-z0-9_-]*$/.test(body)) throw damaged
  const raw = Buffer.from(body, 'base64url')
  if (raw.toString('base64url') !== body || raw.byteLength <= CHECK_BYTES) throw damaged
  const payload = raw.subarray(0, raw.byteLength - CHECK_BYTES)
  if (!checkOf(kind, payload).equals(raw.subarray(payload.byteLength))) throw damaged
  return Buffer.from(payload)
}

function withoutWhitespace(text: string): string {
  return text.replace(/\s+/g, '')
}
