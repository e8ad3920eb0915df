// Extended attributes on the Volume: the user.* namespace, plus the
// read-only status attribute (STATUS_XATTR) that reports a file's replicas
// and pending upload.

import { STATUS_XATTR } from '../../volume/volume'
import { E } from '../errno'
import { reply } from '../wrap'
import type { OpHandlers } from './table'
import type { VolumeOpsContext } from './volume-context'

export function xattrOps(ctx: VolumeOpsContext): OpHandlers {
  const { volume } = ctx
  return {
    getxattr: async (path: string, name: string) => {
      // Only user.* is kept (setxattr refuses the rest with the same errno). "Not supported" rather
      // than "no such attribute": `ls -l` then stops asking every entry for its SELinux label and
      // ACL (two round trips each, 2 s of a 10,000-entry listing); it remembers that per filesystem.
      // The kernel's security.capability check before writes takes it as "none" either way.
      if (!name.startsWith('user.')) return E.ENOTSUP
      const inode = await volume.resolve(path)
      if (name === STATUS_XATTR) return reply(Buffer.from(formatStatus(await volume.replicaReport(inode))))
      const value = volume.getxattr(inode, name)
      return value ? reply(value) : E.ENODATA
    },

    // The status attribute is read by name only: listed, `cp -a` and
    // `rsync -X` out of the mount would copy a stale status onto local files.
    listxattr: async (path: string) => {
      const inode = await volume.resolve(path)
      return reply(volume.listxattr(inode))
    },

    setxattr: async (path: string, name: string, value: Buffer, _position: number, flags: number) => {
      volume.setxattr(await volume.resolve(path), name, Buffer.from(value), flags)
    },

    removexattr: async (path: string, name: string) => {
      if (!name.startsWith('user.') || name === STATUS_XATTR) return E.ENOTSUP
      volume.removexattr(await volume.resolve(path), name)
    }
  }
}

export function formatStatus(r: {
  live: number | null
  target: number | null
  pendingUpload: boolean
  pendingChunks: number
  offline?: boolean
  uploadError?: string | null
}): string {
  const replicas = r.live === null ? 'unknown' : `${r.live}/${r.target}`
  const pending = r.pendingUpload ? `yes (${r.pendingChunks} chunks)` : 'no'
  // Why its upload is waiting (retried with backoff; the data is kept on this machine meanwhile).
  const error = r.uploadError ? ` upload-error=${r.uploadError.replace(/\s+/g, ' ')}` : ''
  return `replicas=${replicas} upload-pending=${pending}${error}${r.offline ? ' offline=yes' : ''}`
}
