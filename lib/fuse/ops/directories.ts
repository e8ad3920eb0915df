// Directory and name ops on the Volume: listing, making and removing
// directories, removing and renaming names.

import { TYPE_BITS } from '../../volume/inode'
import { reply } from '../wrap'
import type { OpHandlers } from './table'
import type { VolumeOpsContext } from './volume-context'

/** A view mounted under a name in the root (the shares view at /@shared): listed there while visible. */
export interface RootMount {
  name: string
  /** Its inode number (what a stat of it gives). */
  ino: number
  visible(): boolean
}

export function directoryOps(ctx: VolumeOpsContext, rootMount?: RootMount): OpHandlers {
  const { volume } = ctx
  return {
    readdir: async (path: string) => {
      const dir = await volume.resolve(path)
      const listing = volume.listing(dir)
      // A listing is most often followed by a lookup of every name (ls -l, find, rsync): load them now, together.
      volume.prefetchChildren(dir)
      // The Volume refuses that name in the root, so it never hides an entry of the user's own.
      if (rootMount && isRoot(path) && !listing.some((e) => e.name === rootMount.name) && rootMount.visible()) {
        listing.push({ name: rootMount.name, ino: rootMount.ino, mode: TYPE_BITS.dir })
      }
      // A stat per name gives d_ino and d_type; the binding reads nothing else of it for readdir.
      const stats = listing.map(({ ino, mode }) => ({
        ino,
        mode,
        uid: 0,
        gid: 0,
        size: 0,
        atime: 0,
        mtime: 0,
        ctime: 0
      }))
      return reply(
        listing.map((e) => e.name),
        stats
      )
    },

    mkdir: async (path: string, mode: number) => {
      await volume.mkdir(path, mode, ctx.caller())
    },

    rmdir: (path: string) => volume.rmdir(path),
    unlink: (path: string) => volume.unlink(path),
    rename: (src: string, dest: string) => volume.rename(src, dest),

    fsyncdir: async (path: string) => {
      await volume.fsync(await volume.resolve(path))
    }
  }
}

const isRoot = (path: string) => path === '/' || path === ''
