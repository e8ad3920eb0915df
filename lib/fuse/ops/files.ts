// File content ops on the Volume and the open-file handles they go through:
// open/create, read/write, flush/release, fsync, truncate.

import { E } from '../errno'
import { reply } from '../wrap'
import type { OpHandlers } from './table'
import { handleOf, inodeOf, type VolumeOpsContext } from './volume-context'

export function fileOps(ctx: VolumeOpsContext): OpHandlers {
  const { volume, handles } = ctx
  return {
    open: async (path: string, flags: number) => {
      const inode = await volume.resolve(path)
      const fh = handles.open(inode, flags)
      if (inode.type === 'dir' && handles.get(fh)!.writable) {
        handles.release(fh)
        return E.EISDIR
      }
      // Open files stay watched for changes by other devices until released.
      volume.noteOpen(inode)
      return reply(fh)
    },

    // fuse-native gives create no flags; the kernel has already refused
    // O_EXCL on an existing name, so EEXIST here only means a race.
    create: async (path: string, mode: number) => {
      const inode = await volume.create(path, mode, ctx.caller())
      volume.noteOpen(inode)
      return reply(handles.open(inode, 2))
    },

    read: async (_path: string, fh: number, buf: Buffer, len: number, pos: number) => {
      const h = handleOf(handles, fh)
      // Fill all of `len` unless at end of file: a short read is EOF to the kernel.
      return volume.read(h.inode, buf, len, pos)
    },

    write: async (_path: string, fh: number, buf: Buffer, len: number, pos: number) => {
      const h = handleOf(handles, fh)
      // libfuse detaches `buf` once we call back. No copy is needed: the Volume
      // has copied every byte into its own chunk buffers before it resolves.
      // (Only after an op timeout could fuse-native answer first; the detached
      // buffer then reads as empty and nothing is written.)
      const at = h.append ? h.inode.size : pos
      return volume.write(h.inode, buf.subarray(0, len), at)
    },

    flush: async (_path: string, fh: number) => {
      const h = handles.get(fh)
      if (h?.writable) await volume.closeFile(h.inode)
    },

    release: async (_path: string, fh: number) => {
      const h = handles.release(fh)
      if (h) volume.noteRelease(h.inode)
      if (h?.writable) await volume.closeFile(h.inode)
    },

    fsync: async (path: string, _datasync: unknown, fh: number) => {
      await volume.fsync(await inodeOf(ctx, path, fh))
    },

    truncate: async (path: string, size: number) => {
      await volume.truncate(await volume.resolve(path), size)
    },

    ftruncate: async (path: string, fh: number, size: number) => {
      await volume.truncate(await inodeOf(ctx, path, fh), size)
    }
  }
}
