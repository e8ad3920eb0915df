// Symbolic links on the Volume. Hard links and device nodes are not part of
// the store's model.

import { E } from '../errno'
import { reply } from '../wrap'
import type { OpHandlers } from './table'
import type { VolumeOpsContext } from './volume-context'

export function linkOps(ctx: VolumeOpsContext): OpHandlers {
  const { volume } = ctx
  return {
    symlink: async (target: string, path: string) => {
      await volume.symlink(target, path, ctx.caller())
    },

    readlink: async (path: string) => reply(await volume.readlink(path)),

    link: () => E.EPERM,
    // mkfifo, mknod and bind(2) of a unix socket all arrive here, the type in the mode's S_IFMT bits.
    mknod: async (path: string, mode: number, dev: number) => {
      await volume.mknod(path, mode, dev, ctx.caller())
    }
  }
}
