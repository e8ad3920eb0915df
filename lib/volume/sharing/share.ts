// Sharing, the sharer's side: `share PATH USER` grants READ access to one
// file or folder, `unshare PATH USER` revokes it (docs/volume.md, "Sharing").
// The grant is recorded in the outbox, published in the recipient's inbox
// and returned as a token sealed to the recipient.

import path from 'node:path'
import { curvePublicKey, seal } from '../../crypto/share-keys'
import { publishInbox, readOutbox, type Grant, updateOutbox } from './records'
import { rekeySubtree } from './rekey'
import { type Capability, encodeCapability, encodeShareToken, encodeUserId, shareError } from './token'
import type { Inode, Volume } from '../volume'

export interface ShareResult {
  token: string
  name: string
  type: string
  to: string
}

const sameGrant = (a: Grant, b: { to: Buffer; inodeId: Buffer }) => a.to.equals(b.to) && a.inodeId.equals(b.inodeId)

function capabilityOf(volume: Volume, g: Grant): Capability {
  return {
    owner: volume.keys.publicKey,
    inodeId: g.inodeId,
    inodeKey: volume.keys.inodeKey(g.inodeId),
    type: g.type,
    name: g.name
  }
}

/** Rewrites the inbox of `to` from the outbox: exactly what is granted to them now. */
async function republishInbox(volume: Volume, grants: Grant[], to: Buffer): Promise<void> {
  const caps = grants.filter((g) => g.to.equals(to)).map((g) => capabilityOf(volume, g))
  await publishInbox(volume.store, volume.keys, to, caps)
}

async function resolveShared(volume: Volume, p: string): Promise<Inode> {
  const inode = await volume.resolve(p).catch((err: Error & { code?: string }) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw shareError(`${p}: no such file or folder`, 'ENOENT')
    throw err
  })
  if (inode === volume.root) throw shareError('share a file or folder, not your whole tree')
  return inode
}

/**
 * Directories stored before entries carried their children's keys would
 * stop a recipient at them: every directory of the subtree is written again
 * (with keys) before the capability goes out.
 */
async function republishDirs(volume: Volume, p: string, inode: Inode): Promise<void> {
  if (inode.type !== 'dir') return
  volume.republish(inode)
  for (const { name, inode: child } of await volume.list(p)) {
    await republishDirs(volume, `${p.replace(/\/+$/, '')}/${name}`, child)
  }
}

export async function shareWith(volume: Volume, p: string, recipient: Buffer): Promise<ShareResult> {
  if (recipient.equals(volume.keys.publicKey)) throw shareError('that is your own user id')
  const inode = await resolveShared(volume, p)
  await republishDirs(volume, p, inode)
  await volume.sync()
  const grant: Grant = {
    to: recipient,
    inodeId: inode.id,
    name: path.posix.basename(p.replace(/\/+$/, '')),
    type: inode.type
  }
  const grants = await updateOutbox(volume.store, volume.keys, (list) => [
    ...list.filter((g) => !sameGrant(g, grant)),
    grant
  ])
  await republishInbox(volume, grants, recipient)
  const sealed = seal(encodeCapability(capabilityOf(volume, grant)), curvePublicKey(recipient))
  return {
    token: encodeShareToken({ owner: volume.keys.publicKey, recipient, sealed }),
    name: grant.name,
    type: grant.type,
    to: encodeUserId(recipient)
  }
}

export interface UnshareResult {
  /** Other users who kept access (their capabilities now name the new inodes). */
  kept: string[]
  rekeyed: number
}

export async function unshareWith(volume: Volume, p: string, recipient: Buffer): Promise<UnshareResult> {
  const inode = await resolveShared(volume, p)
  const before = await readOutbox(volume.store, volume.keys)
  if (!before.some((g) => sameGrant(g, { to: recipient, inodeId: inode.id }))) {
    throw shareError(`${p} is not shared with ${encodeUserId(recipient)}`, 'ENOENT')
  }
  const rekeyed = await rekeySubtree(volume, p)
  // Grants of the path and of anything below it now name the new inodes.
  const grants = await updateOutbox(volume.store, volume.keys, (list) =>
    list
      .filter((g) => !sameGrant(g, { to: recipient, inodeId: inode.id }))
      .map((g) => ({ ...g, inodeId: rekeyed.get(g.inodeId.toString('hex')) ?? g.inodeId }))
  )
  const touched = new Map<string, Buffer>([[recipient.toString('hex'), recipient]])
  for (const g of before) if (rekeyed.has(g.inodeId.toString('hex'))) touched.set(g.to.toString('hex'), g.to)
  for (const to of touched.values()) await republishInbox(volume, grants, to)
  // Who can still read (part of) the re-keyed subtree: their grants name its new inodes.
  const fresh = new Set([...rekeyed.values()].map((id) => id.toString('hex')))
  const kept = [...touched.values()]
    .filter((to) => grants.some((g) => g.to.equals(to) && fresh.has(g.inodeId.toString('hex'))))
    .map(encodeUserId)
  return { kept, rekeyed: rekeyed.size }
}

export async function listGrants(volume: Volume): Promise<{ to: string; name: string; type: string }[]> {
  const grants = await readOutbox(volume.store, volume.keys)
  return grants.map((g) => ({ to: encodeUserId(g.to), name: g.name, type: g.type }))
}
