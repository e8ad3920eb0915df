// A user's revocation list (docs/devices.md, "The device list and the
// revocation list"): a record of the user's at a name any storage node can
// compute from the user key alone, whose value is in clear (the nodes read
// it) and which only the user key itself may sign, so a revoked device can
// never take itself off it.

import c from 'compact-encoding'
import { namespace, sha256 } from './hash'
import type { SignedRecord } from './record'

const NS_REVOCATIONS = namespace('devices/revocations')

export interface Revocation {
  device: Buffer
  /** ms since the epoch. */
  revokedAt: number
  /** The device's name when it was revoked, for messages. */
  name: string
}

const revocationEncoding = {
  preencode(state: c.State, r: Revocation) {
    c.fixed32.preencode(state, r.device)
    c.uint.preencode(state, r.revokedAt)
    c.string.preencode(state, r.name)
  },
  encode(state: c.State, r: Revocation) {
    c.fixed32.encode(state, r.device)
    c.uint.encode(state, r.revokedAt)
    c.string.encode(state, r.name)
  },
  decode(state: c.State): Revocation {
    return { device: c.fixed32.decode(state) as Buffer, revokedAt: c.uint.decode(state), name: c.string.decode(state) }
  }
}

const listEncoding = c.array(revocationEncoding)

/** The record name of `user`'s revocation list. */
export function revocationListName(user: Uint8Array): Buffer {
  return sha256(NS_REVOCATIONS, user)
}

/** True when `r` sits at its owner's revocation-list name. */
export function isRevocationList(r: SignedRecord): boolean {
  return r.name.equals(revocationListName(r.owner))
}

export function encodeRevocations(list: Revocation[]): Buffer {
  return c.encode(listEncoding, list) as Buffer
}

/** The revocations in a list record; a tombstone or an empty value is an empty list. */
export function decodeRevocations(r: SignedRecord | null): Revocation[] {
  if (!r || r.deleted || r.value.byteLength === 0) return []
  return c.decode(listEncoding, r.value) as Revocation[]
}
