// Directory and name ops on the Volume: listing, making and removing
// directories, removing and renaming names.

import { reply } from '../wrap'
import type { OpHandlers } from './table'
import type { VolumeOpsContext } from './volume-context'

/** A view mounted under a name in the root (the shares view at /@shared): listed there while visible. */
export interface RootMount {
  name: string
  visible(): boolean
}

export function directoryOps(ctx: VolumeOpsContext, rootMount?: RootMount): OpHandlers {
  const { volume } = ctx
  return {
    readdir: async (path: string) => {
      const names = await volume.readdir(path)
      // A listing is most often followed by a lookup of every name (ls -l, find, rsync): load them now, together.
      volume.prefetchChildren(await volume.resolve(path))
      // The Volume refuses that name in the root, so it never hides an entry of the user's own.
      if (rootMount && isRoot(path) && !names.includes(rootMount.name) && rootMount.visible()) {
        names.push(rootMount.name)
      }
      return reply(['.', '..', ...names])
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
