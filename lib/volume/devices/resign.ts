// After a revocation, this computer writes again, under its own device key,
// every record of the tree whose newest version the revoked device signed
// (docs/devices.md, "Revoking", step 2). Storage nodes refuse a revoked
// device's signature on every path, repair and hand-off included, so such a
// record would otherwise be lost the next time its replicas move; written
// again it carries a signature the nodes accept. A walk of the whole tree:
// revoking is rare, and a tree is read once. Not covered: the inboxes of
// users this one shares with (rewritten at the next share or unshare).

import { createRecord, recordKey } from '../../crypto/record'
import { isConflict } from '../value-store'
import type { Inode, Volume } from '../volume'

/** Re-signs the records `device` wrote last; returns how many. */
export async function resignRecordsOf(volume: Volume, device: Buffer): Promise<number> {
  const seen = new Set<string>()
  const queue: Inode[] = [volume.root]
  let count = 0
  while (queue.length > 0) {
    const inode = queue.shift()!
    if (seen.has(inode.hex)) continue
    seen.add(inode.hex)
    const record = await volume.store.getRecord(recordKey(volume.keys.publicKey, inode.id))
    if (record?.signer?.device.equals(device)) {
      volume.republish(inode)
      count++
    }
    if (inode.type === 'dir') for (const entry of inode.entries.values()) queue.push(await volume.getInode(entry.id))
  }
  if (count > 0) await volume.sync()
  return count
}

/**
 * The user's records at fixed names that `device` wrote last (the root
 * pointer, the sync beacon, the share outbox), written again unchanged at
 * the next version; returns how many. One that changed meanwhile was
 * written by another device, which is all this is for.
 */
export async function resignFixedRecordsOf(volume: Volume, device: Buffer): Promise<number> {
  const { keys, store } = volume
  let count = 0
  for (const name of [keys.rootPointerName, keys.syncBeaconName, keys.shareOutboxName]) {
    const record = await store.getRecord(recordKey(keys.publicKey, name))
    if (!record?.signer?.device.equals(device)) continue
    try {
      await store.putRecord(
        createRecord(keys.signer, name, record.version + 1, record.value, record.deleted),
        record.version
      )
      count++
    } catch (err) {
      if (!isConflict(err)) throw err
    }
  }
  return count
}
