// An inode's attributes: mode, owner, times and extended attributes. Each
// change is journaled with the inode's next commit (InodeTable.touch).

import type { VolumeContext } from './context'
import { fail } from './errors'
import { TYPE_BITS } from './inode'
import type { Inode } from './loaded-inode'
import { setTime, stamp } from './times'

/** The read-only attribute the FUSE adapter answers with the replica report. */
export const STATUS_XATTR = 'user.peerstore.status'

export function chmod(ctx: VolumeContext, inode: Inode, mode: number): void {
  inode.state.mode = TYPE_BITS[inode.type] | (mode & 0o7777)
  stamp(inode.state, ['ctime'])
  ctx.table.touch(inode)
}

export function chown(ctx: VolumeContext, inode: Inode, uid: number, gid: number): void {
  // -1 (as uint32) leaves the id unchanged, as chown(2) does.
  if (uid !== -1 && uid !== 0xffffffff) inode.state.uid = uid
  if (gid !== -1 && gid !== 0xffffffff) inode.state.gid = gid
  stamp(inode.state, ['ctime'])
  ctx.table.touch(inode)
}

/** Times as BigInt nanoseconds since the epoch, or as milliseconds (a Number). */
export function utimens(ctx: VolumeContext, inode: Inode, atime: bigint | number, mtime: bigint | number): void {
  setTime(inode.state, 'atime', atime)
  setTime(inode.state, 'mtime', mtime)
  stamp(inode.state, ['ctime'])
  ctx.table.touch(inode)
}

export function getxattr(inode: Inode, name: string): Buffer | null {
  return inode.state.xattrs.get(name) ?? null
}

export function listxattr(inode: Inode): string[] {
  return [...inode.state.xattrs.keys()]
}

export function setxattr(ctx: VolumeContext, inode: Inode, name: string, value: Buffer, flags: number): void {
  if (!name.startsWith('user.') || name === STATUS_XATTR) fail('ENOTSUP')
  const exists = inode.state.xattrs.has(name)
  if (flags & 1 && exists) fail('EEXIST')
  if (flags & 2 && !exists) fail('ENODATA')
  inode.state.xattrs.set(name, Buffer.from(value))
  stamp(inode.state, ['ctime'])
  ctx.table.touch(inode)
}

export function removexattr(ctx: VolumeContext, inode: Inode, name: string): void {
  if (!inode.state.xattrs.delete(name)) fail('ENODATA')
  stamp(inode.state, ['ctime'])
  ctx.table.touch(inode)
}
