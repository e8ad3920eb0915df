// The two kinds of ring records sharing adds, both ordinary signed records
// of the sharer (storage nodes check them like any other):
//
// - the outbox: what this user shares with whom, encrypted under a key only
//   this user derives. `unshare` needs it to know who else keeps access, and
//   every computer of the user sees the same list.
// - one inbox per (sharer, recipient): every capability the sharer grants
//   that recipient, sealed to the recipient's X25519 key. Its record name is
//   a hash of the two users' X25519 Diffie-Hellman secret, so the recipient
//   finds it knowing only the sharer's user key, while a storage node cannot
//   tell who it is for. Rewritten whole on every share and unshare.

import { codedError } from '../../common/errors'
import { decrypt, encrypt } from '../../crypto/aead'
import { blake2b, namespace } from '../../crypto/hash'
import { createRecord, type RecordSigner, recordKey, type SignedRecord, verifyRecord } from '../../crypto/record'
import { curvePublicKey, openSealed, seal, sharedSecret } from '../../crypto/share-keys'
import type { InodeType } from '../inode'
import { type Capability, decodeInbox, encodeInbox } from './token'
import { isConflict, type ValueStore } from '../value-store'
import type { VolumeKeys } from '../volume-keys'

const NS_INBOX = namespace('share/inbox')
const MAX_RETRIES = 16

/** One grant: READ access to one inode (and what is below it) for one user. */
export interface Grant {
  to: Buffer
  inodeId: Buffer
  name: string
  type: InodeType
}

interface WireGrant {
  to: string
  id: string
  n: string
  t: InodeType
}

export async function fetchVerified(store: ValueStore, owner: Buffer, name: Buffer): Promise<SignedRecord | null> {
  const key = recordKey(owner, name)
  const rec = await store.getRecord(key)
  if (!rec) return null
  if (!verifyRecord(rec, key)) throw codedError('EIO', `record ${key.toString('hex')} does not verify`)
  return rec
}

/**
 * Read-modify-write of one of our records by compare-and-swap: `change`
 * gets the current value (null if none) and returns the new one. Also the
 * device list's and the revocation list's (lib/volume/devices/), which the
 * user key itself signs (`signer`).
 */
export async function updateRecord(
  store: ValueStore,
  keys: VolumeKeys,
  name: Buffer,
  change: (current: SignedRecord | null) => Buffer,
  signer: RecordSigner = keys.signer
): Promise<void> {
  let current = await fetchVerified(store, keys.publicKey, name)
  for (let attempt = 0; ; attempt++) {
    const live = current && !current.deleted ? current : null
    const version = (current?.version ?? 0) + 1
    try {
      await store.putRecord(createRecord(signer, name, version, change(live)), current?.version ?? 0)
      return
    } catch (err) {
      if (!isConflict(err) || attempt >= MAX_RETRIES) throw err
      // Another computer of ours wrote it meanwhile: start again from theirs.
      current = (err as { current: SignedRecord | null }).current
      if (current && !verifyRecord(current, recordKey(keys.publicKey, name))) throw err
    }
  }
}

function decodeGrants(keys: VolumeKeys, rec: SignedRecord | null): Grant[] {
  if (!rec || rec.deleted) return []
  const list = JSON.parse(decrypt(rec.value, keys.shareOutboxKey, keys.shareOutboxName).toString()) as WireGrant[]
  return list.map((g) => ({ to: Buffer.from(g.to, 'hex'), inodeId: Buffer.from(g.id, 'hex'), name: g.n, type: g.t }))
}

function encodeGrants(keys: VolumeKeys, grants: Grant[]): Buffer {
  const list: WireGrant[] = grants.map((g) => ({
    to: g.to.toString('hex'),
    id: g.inodeId.toString('hex'),
    n: g.name,
    t: g.type
  }))
  return encrypt(Buffer.from(JSON.stringify(list)), keys.shareOutboxKey, keys.shareOutboxName)
}

export async function readOutbox(store: ValueStore, keys: VolumeKeys): Promise<Grant[]> {
  return decodeGrants(keys, await fetchVerified(store, keys.publicKey, keys.shareOutboxName))
}

/** Applies `change` to the outbox by compare-and-swap; returns the grants as stored. */
export async function updateOutbox(
  store: ValueStore,
  keys: VolumeKeys,
  change: (grants: Grant[]) => Grant[]
): Promise<Grant[]> {
  let stored: Grant[] = []
  await updateRecord(store, keys, keys.shareOutboxName, (current) => {
    stored = change(decodeGrants(keys, current))
    return encodeGrants(keys, stored)
  })
  return stored
}

/** The inbox record's name for (sharer, recipient), from either side's secret key. */
export function inboxName(myCurveSecret: Buffer, theirUserKey: Buffer): Buffer {
  return blake2b([NS_INBOX, sharedSecret(myCurveSecret, curvePublicKey(theirUserKey))])
}

/** Writes the inbox of `recipient`: exactly `caps` (empty after the last unshare). */
export async function publishInbox(
  store: ValueStore,
  keys: VolumeKeys,
  recipient: Buffer,
  caps: Capability[]
): Promise<void> {
  const name = inboxName(keys.shareKeyPair.secretKey, recipient)
  const value = seal(encodeInbox(caps), curvePublicKey(recipient))
  await updateRecord(store, keys, name, () => value)
}

/**
 * What `owner` currently shares with us, or null when they never published
 * an inbox for us (then the capabilities of accepted tokens are all we have).
 */
export async function readInbox(store: ValueStore, me: VolumeKeys, owner: Buffer): Promise<Capability[] | null> {
  const rec = await fetchVerified(store, owner, inboxName(me.shareKeyPair.secretKey, owner))
  if (!rec) return null
  if (rec.deleted) return []
  const plain = openSealed(rec.value, me.shareKeyPair)
  if (!plain) throw codedError('EACCES', 'an inbox record does not open with this user key')
  // Only capabilities of the record's signer: a sealed box says nothing about who made it.
  return decodeInbox(plain).filter((cap) => cap.owner.equals(owner))
}
