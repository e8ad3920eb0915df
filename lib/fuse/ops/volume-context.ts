// What the Volume's op families share: the Volume, the open-file handles, and
// who called the current op.

import type { FuseStat } from 'fuse-native'
import { volumeError } from '../../volume/errors'
import { timeNs } from '../../volume/times'
import type { Inode, Volume } from '../../volume/volume'
import type { Handle, HandleTable } from '../handles'
import { type FuseCaller, NANOSECOND_TIMES } from '../tuned-fuse'

export interface VolumeOpsContext {
  volume: Volume
  handles: HandleTable
  /** Who called the current create, mkdir, symlink or mknod; read before the op's first await. */
  caller: () => FuseCaller | undefined
}

/** Times to the nanosecond where the binding takes them (scripts/fuse-native-nanos.js), else milliseconds. */
export function fuseStat(volume: Volume, inode: Inode): FuseStat {
  const s = volume.stat(inode)
  if (!NANOSECOND_TIMES) return s
  return { ...s, atime: timeNs(s, 'atime'), mtime: timeNs(s, 'mtime'), ctime: timeNs(s, 'ctime') }
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
