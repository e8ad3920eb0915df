// What the Volume's op families share: the Volume, the open-file handles, and
// who called the current op.

import type { FuseStat } from 'fuse-native'
import { volumeError } from '../../volume/errors'
import type { Inode, Volume } from '../../volume/volume'
import type { Handle, HandleTable } from '../handles'
import type { FuseCaller } from '../tuned-fuse'

export interface VolumeOpsContext {
  volume: Volume
  handles: HandleTable
  /** Who called the current create, mkdir, symlink or mknod; read before the op's first await. */
  caller: () => FuseCaller | undefined
}

export function fuseStat(volume: Volume, inode: Inode): FuseStat {
  const s = volume.stat(inode)
  return { ...s, atime: s.atime, mtime: s.mtime, ctime: s.ctime }
}

export function handleOf(handles: HandleTable, fh: number): Handle {
  const h = handles.get(fh)
  if (!h) throw volumeError('EBADF')
  return h
}

/** The inode of an fd op: by handle when there is one (the path may be stale). */
export async function inodeOf(ctx: VolumeOpsContext, path: string, fh: number): Promise<Inode> {
  return ctx.handles.get(fh)?.inode ?? ctx.volume.resolve(path)
}
