// fuse-native operations → Volume calls. No knowledge of chunks, records or
// the ring here: paths and handles in, numbers out.

import type { FuseOps, FuseStat } from 'fuse-native'
import { VolumeError } from '../volume/errors'
import { type Inode, STATUS_XATTR, type Volume } from '../volume/volume'
import { E } from './errno'
import { HandleTable } from './handles'
import type { FuseCaller } from './tuned-fuse'
import { makeWrap, reply } from './wrap'

const MAX_UINT32 = 0xffffffff
const STATFS_BLOCK = 4096

export interface OpsOptions {
  log?: (line: string) => void
  stats?: Map<string, { calls: number; ms: number }>
  /** Who called the current create, mkdir or symlink; read before the op's first await. */
  caller?: () => FuseCaller | null
}

export function makeOps(volume: Volume, handles = new HandleTable(), opts: OpsOptions = {}): FuseOps {
  const log = opts.log ?? ((line) => process.stderr.write(`${line}\n`))
  const wrap = makeWrap({
    stats: opts.stats,
    onUnexpectedError(op, err) {
      log(`peerstore: ${op} failed: ${(err as Error)?.stack ?? err}`)
    }
  })

  const fuseStat = (inode: Inode): FuseStat => {
    const s = volume.stat(inode)
    return { ...s, atime: s.atime, mtime: s.mtime, ctime: s.ctime }
  }

  const handleOf = (fh: number) => {
    const h = handles.get(fh)
    if (!h) throw new VolumeError('EBADF')
    return h
  }

  /** The inode of an fd op: by handle when there is one (the path may be stale). */
  const inodeOf = async (path: string, fh: number): Promise<Inode> => handles.get(fh)?.inode ?? volume.resolve(path)

  const ops: FuseOps = {
    getattr: wrap('getattr', async (path: string) => reply(fuseStat(await volume.resolve(path)))),

    access: wrap('access', async (path: string) => {
      await volume.resolve(path)
    }),

    statfs: wrap('statfs', async () => {
      const s = await volume.statfs()
      const blocks = Math.min(MAX_UINT32, Math.floor(s.totalBytes / STATFS_BLOCK))
      const free = Math.min(MAX_UINT32, Math.floor(s.freeBytes / STATFS_BLOCK))
      return reply({
        bsize: STATFS_BLOCK,
        frsize: STATFS_BLOCK,
        blocks,
        bfree: free,
        bavail: free,
        files: MAX_UINT32,
        ffree: MAX_UINT32 - Math.min(s.files, MAX_UINT32),
        favail: MAX_UINT32 - Math.min(s.files, MAX_UINT32),
        fsid: 0,
        flag: 0,
        namemax: 255
      })
    }),

    readdir: wrap('readdir', async (path: string) => reply(['.', '..', ...(await volume.readdir(path))])),

    open: wrap('open', async (path: string, flags: number) => {
      const inode = await volume.resolve(path)
      const fh = handles.open(inode, flags)
      if (inode.type === 'dir' && handles.get(fh)!.writable) {
        handles.release(fh)
        return E.EISDIR
      }
      // Open files stay watched for changes by other devices until released.
      volume.noteOpen(inode)
      return reply(fh)
    }),

    // fuse-native gives create no flags; the kernel has already refused
    // O_EXCL on an existing name, so EEXIST here only means a race.
    create: wrap('create', async (path: string, mode: number) => {
      const inode = await volume.create(path, mode, opts.caller?.() ?? undefined)
      volume.noteOpen(inode)
      return reply(handles.open(inode, 2))
    }),

    read: wrap('read', async (_path: string, fh: number, buf: Buffer, len: number, pos: number) => {
      const h = handleOf(fh)
      // Fill all of `len` unless at end of file: a short read is EOF to the kernel.
      return volume.read(h.inode, buf, len, pos)
    }),

    write: wrap('write', async (_path: string, fh: number, buf: Buffer, len: number, pos: number) => {
      const h = handleOf(fh)
      // libfuse detaches `buf` once we call back. No copy is needed: the Volume
      // has copied every byte into its own chunk buffers before it resolves.
      // (Only after an op timeout could fuse-native answer first; the detached
      // buffer then reads as empty and nothing is written.)
      const at = h.append ? h.inode.size : pos
      return volume.write(h.inode, buf.subarray(0, len), at)
    }),

    flush: wrap('flush', async (_path: string, fh: number) => {
      const h = handles.get(fh)
      if (h?.writable) await volume.closeFile(h.inode)
    }),

    release: wrap('release', async (_path: string, fh: number) => {
      const h = handles.release(fh)
      if (h) volume.noteRelease(h.inode)
      if (h?.writable) await volume.closeFile(h.inode)
    }),

    fsync: wrap('fsync', async (path: string, _datasync: unknown, fh: number) => {
      await volume.fsync(await inodeOf(path, fh))
    }),

    fsyncdir: wrap('fsyncdir', async (path: string) => {
      await volume.fsync(await volume.resolve(path))
    }),

    truncate: wrap('truncate', async (path: string, size: number) => {
      await volume.truncate(await volume.resolve(path), size)
    }),

    ftruncate: wrap('ftruncate', async (path: string, fh: number, size: number) => {
      await volume.truncate(await inodeOf(path, fh), size)
    }),

    unlink: wrap('unlink', (path: string) => volume.unlink(path)),
    rmdir: wrap('rmdir', (path: string) => volume.rmdir(path)),
    mkdir: wrap('mkdir', async (path: string, mode: number) => {
      await volume.mkdir(path, mode, opts.caller?.() ?? undefined)
    }),
    rename: wrap('rename', (src: string, dest: string) => volume.rename(src, dest)),
    symlink: wrap('symlink', async (target: string, path: string) => {
      await volume.symlink(target, path, opts.caller?.() ?? undefined)
    }),
    readlink: wrap('readlink', async (path: string) => reply(await volume.readlink(path))),

    // Hard links and device nodes are not part of the store's model.
    link: wrap('link', () => E.EPERM),
    mknod: wrap('mknod', () => E.EPERM),

    chmod: wrap('chmod', async (path: string, mode: number) => {
      volume.chmod(await volume.resolve(path), mode)
    }),
    chown: wrap('chown', async (path: string, uid: number, gid: number) => {
      volume.chown(await volume.resolve(path), uid, gid)
    }),

    // fuse-native 2.2.6 passed the atime in both arguments; the binding is
    // rebuilt with that fixed at install (scripts/patch-fuse-native.js).
    utimens: wrap('utimens', async (path: string, atime: number, mtime: number) => {
      const inode = await volume.resolve(path)
      // UTIME_OMIT arrives as 2^64 − 1 (scripts/patch-fuse-native.js): keep that time.
      const keep = (t: number) => t > Number.MAX_SAFE_INTEGER
      volume.utimens(inode, keep(atime) ? inode.state.atime : atime, keep(mtime) ? inode.state.mtime : mtime)
    }),

    getxattr: wrap('getxattr', async (path: string, name: string) => {
      // The kernel asks for security.capability before writes: answer fast.
      if (!name.startsWith('user.')) return E.ENODATA
      const inode = await volume.resolve(path)
      if (name === STATUS_XATTR) return reply(Buffer.from(formatStatus(await volume.replicaReport(inode))))
      const value = volume.getxattr(inode, name)
      return value ? reply(value) : E.ENODATA
    }),

    listxattr: wrap('listxattr', async (path: string) => {
      const inode = await volume.resolve(path)
      return reply([STATUS_XATTR, ...volume.listxattr(inode)])
    }),

    setxattr: wrap('setxattr', async (path: string, name: string, value: Buffer, _position: number, flags: number) => {
      volume.setxattr(await volume.resolve(path), name, Buffer.from(value), flags)
    }),

    removexattr: wrap('removexattr', async (path: string, name: string) => {
      if (!name.startsWith('user.') || name === STATUS_XATTR) return E.ENOTSUP
      volume.removexattr(await volume.resolve(path), name)
    })
  }
  return ops
}

export function formatStatus(r: {
  live: number | null
  target: number | null
  pendingUpload: boolean
  pendingChunks: number
}): string {
  const replicas = r.live === null ? 'unknown' : `${r.live}/${r.target}`
  const pending = r.pendingUpload ? `yes (${r.pendingChunks} chunks)` : 'no'
  return `replicas=${replicas} upload-pending=${pending}`
}
