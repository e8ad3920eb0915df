// The ops of the read-only view of other users' shares (/@shared, SharedView
// in volume/sharing/view.ts): reads go to the view, every op that would change
// something answers EROFS (never EIO). router.ts sends requests here.

import type { SharedView } from '../../volume/sharing/view'
import { E } from '../errno'
import { reply } from '../wrap'
import type { RoutedOps } from './router'

const W_OK = 2

const readOnly = () => E.EROFS

export function sharesOps(shares: SharedView): RoutedOps {
  return {
    getattr: async (path: string) => reply(await shares.getattr(path)),
    fgetattr: async (path: string) => reply(await shares.getattr(path)),

    access: async (path: string, mode: number) => {
      await shares.getattr(path)
      return mode & W_OK ? E.EROFS : 0
    },

    readdir: async (path: string) => reply(['.', '..', ...(await shares.readdir(path))]),
    readlink: async (path: string) => reply(await shares.readlink(path)),

    // The view opens for reading only (write access is EROFS there), so none of its handles takes a write.
    open: async (path: string, flags: number) => reply(await shares.open(path, flags)),
    read: async (_path: string, fh: number, buf: Buffer, len: number, pos: number) => shares.read(fh, buf, len, pos),
    write: () => E.EBADF,
    flush: () => {},
    release: async (_path: string, fh: number) => shares.release(fh),
    fsync: () => {},
    fsyncdir: () => {},

    getxattr: async (path: string, name: string) => {
      // As for the user's own tree (xattrs.ts): only user.* exists, the rest is not supported.
      if (!name.startsWith('user.')) return E.ENOTSUP
      await shares.getattr(path)
      return E.ENODATA
    },
    listxattr: async (path: string) => {
      await shares.getattr(path)
      return reply([])
    },

    create: readOnly,
    truncate: readOnly,
    ftruncate: readOnly,
    unlink: readOnly,
    rmdir: readOnly,
    mkdir: readOnly,
    rename: readOnly,
    symlink: readOnly,
    link: readOnly,
    mknod: readOnly,
    chmod: readOnly,
    chown: readOnly,
    utimens: readOnly,
    setxattr: readOnly,
    removexattr: readOnly
  }
}
