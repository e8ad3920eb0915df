// Symbolic and hard links (docs/hard-links.md) and special files (fifos,
// sockets, device nodes: metadata only, their I/O is the kernel's).

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
    // mkfifo, mknod and bind(2) of a unix socket all arrive here, the type in the mode's S_IFMT bits.
    mknod: async (path: string, mode: number, dev: number) => {
      await volume.mknod(path, mode, dev, ctx.caller())
    }
  }
}
