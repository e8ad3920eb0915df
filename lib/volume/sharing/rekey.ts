// Revoking a share re-keys the subtree: every inode below the shared path is
// replaced by a new one (a new inode id, so a new inode key; for files also
// a new file id and file key, so the content is re-encrypted into new
// chunks), built and swapped in with the Volume's own operations (create,
// write, mkdir, rename over). The old records become tombstones. A revoked
// user knows only the old ids and keys: nothing written from now on is under
// them. What they read (or kept) before stays readable to them.

import { randomBytes } from '../../crypto/keys'
import { isSpecialType } from '../inode'
import { shareError } from './token'
import { timeNs } from '../times'
import type { Inode, Volume } from '../volume'

const PIECE = 1024 * 1024

/** Old inode id (hex) → new inode id, for every inode of the re-keyed subtree. */
export type Rekeyed = Map<string, Buffer>

const join = (dir: string, name: string) => `${dir.replace(/\/+$/, '')}/${name}`
const parentPath = (p: string) => p.replace(/\/+$/, '').replace(/\/[^/]*$/, '') || '/'
const tempName = () => `.peerstore-rekey-${randomBytes(6).toString('hex')}`

export async function rekeySubtree(volume: Volume, p: string): Promise<Rekeyed> {
  await refuseOpenFiles(volume, p)
  const done: Rekeyed = new Map()
  await rekey(volume, p, done)
  // The old records must be tombstones and the new ones stored before anyone is told.
  await volume.sync()
  return done
}

/**
 * A file open in this mount would go on being written through its handle to
 * the old inode, which the re-key deletes: refuse before changing anything.
 */
async function refuseOpenFiles(volume: Volume, p: string): Promise<void> {
  const inode = await volume.resolve(p)
  if (inode.type === 'file' && volume.watch.isOpen(inode)) {
    throw shareError(`${p} is open; close it, then unshare again`, 'EBUSY')
  }
  if (inode.type === 'dir') for (const { name } of await volume.list(p)) await refuseOpenFiles(volume, join(p, name))
}

async function rekey(volume: Volume, p: string, done: Rekeyed): Promise<void> {
  const old = await volume.resolve(p)
  const temp = join(parentPath(p), tempName())
  let fresh: Inode
  if (old.type === 'dir') {
    for (const { name } of await volume.list(p)) await rekey(volume, join(p, name), done)
    fresh = await volume.mkdir(temp, old.state.mode)
    for (const name of await volume.readdir(p)) await volume.rename(join(p, name), join(temp, name))
    await volume.rmdir(p)
  } else if (old.type === 'symlink') {
    fresh = await volume.symlink(old.state.target ?? '', temp)
  } else if (isSpecialType(old.type)) {
    // No content: a new inode of the same type (and device number) is the whole re-key.
    fresh = await volume.mknod(temp, old.state.mode, old.state.rdev ?? 0)
  } else {
    fresh = await volume.create(temp, old.state.mode)
    const buf = Buffer.alloc(PIECE)
    for (let pos = 0; pos < old.size; ) {
      const n = await volume.read(old, buf, PIECE, pos)
      if (n === 0) break
      await volume.write(fresh, buf.subarray(0, n), pos)
      pos += n
    }
    await volume.closeFile(fresh)
  }
  volume.chown(fresh, old.state.uid, old.state.gid)
  if (fresh.type !== 'symlink') volume.chmod(fresh, old.state.mode)
  for (const [name, value] of old.state.xattrs) volume.setxattr(fresh, name, value, 0)
  await volume.rename(temp, p)
  volume.utimens(fresh, timeNs(old.state, 'atime'), timeNs(old.state, 'mtime'))
  done.set(old.hex, fresh.id)
}
