// Attribute ops on the Volume: stat by path or handle, access, and the
// metadata a program may change (mode, owner, times).

import { hasCode } from '../../common/errors'
import { timeNs } from '../../volume/times'
import { reply } from '../wrap'
import type { OpHandlers } from './table'
import { fuseStat, inodeOf, type VolumeOpsContext } from './volume-context'

/** A utimens time: BigInt nanoseconds, or milliseconds from a binding without nanoseconds. */
type UtimensTime = bigint | number | null

/** UTIME_OMIT (keep this time) from a binding without nanoseconds: 2^64 − 1 milliseconds. */
function omittedMs(t: bigint | number): boolean {
  return typeof t === 'number' && t > Number.MAX_SAFE_INTEGER
}

export function attributeOps(ctx: VolumeOpsContext): OpHandlers {
  const { volume, handles } = ctx
  return {
    getattr: async (path: string) => {
      try {
        return reply(fuseStat(volume, await volume.resolve(path)))
      } catch (err) {
        // fstat(2) reaches us by path only. A file open here whose name another computer deleted
        // still answers at its old path until closed, as an unlinked open file does.
        const open = hasCode(err, 'ENOENT') ? handles.openDeletedAt(path, volume) : null
        if (!open) throw err
        return reply(fuseStat(volume, open))
      }
    },

    // fstat(2), and the kernel before a read of a file it caches (auto_cache): by handle, so a file
    // open here still answers after another computer deleted its name (tuned-fuse.ts passes the handle).
    fgetattr: async (path: string, fh: number) => reply(fuseStat(volume, await inodeOf(ctx, path, fh))),

    access: async (path: string, _mode: number) => {
      await volume.resolve(path)
    },

    chmod: async (path: string, mode: number) => {
      volume.chmod(await volume.resolve(path), mode)
    },

    chown: async (path: string, uid: number, gid: number) => {
      volume.chown(await volume.resolve(path), uid, gid)
    },

    // fuse-native 2.2.6 passed the atime in both arguments and milliseconds
    // only; the binding is rebuilt with both fixed at install
    // (scripts/patch-fuse-native.js): with the option nanosecondTimes
    // (mount.ts) each time is BigInt nanoseconds, and UTIME_NOW already the
    // current time.
    utimens: async (path: string, atime: UtimensTime, mtime: UtimensTime) => {
      const inode = await volume.resolve(path)
      // null is UTIME_OMIT: keep that time.
      const a = atime === null || omittedMs(atime) ? timeNs(inode.state, 'atime') : atime
      const m = mtime === null || omittedMs(mtime) ? timeNs(inode.state, 'mtime') : mtime
      volume.utimens(inode, a, m)
    }
  }
}
