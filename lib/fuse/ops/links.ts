// Symbolic and hard links on the Volume (docs/hard-links.md). Device nodes
// are not part of the store's model.

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

    link: async (src: string, dest: string) => {
      await volume.link(src, dest)
    },
    mknod: () => E.EPERM
  }
}
