// fuse-native operations → Volume calls. No knowledge of chunks, records or
// the ring here: paths and handles in, numbers out.

import type { FuseOps, FuseStat } from 'fuse-native'
import { VolumeError } from '../volume/errors'
import { SHARED_DIR_NAME } from '../volume/sharing/names'
import type { SharedView } from '../volume/sharing/view'
import { type Inode, STATUS_XATTR, type Volume } from '../volume/volume'
import { E, errnoName } from './errno'
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
  /** Other users' shares under /@shared, read-only (volume/share-view.ts). */
  shares?: SharedView
  /** When an op still running is answered EIO (wrap.ts; default just before fuse-native's timeout). */
  deadlineMs?: (op: string) => number
}

export function makeOps(volume: Volume, handles = new HandleTable(), opts: OpsOptions = {}): FuseOps {
  const log = opts.log ?? ((line) => process.stderr.write(`${line}\n`))
  const wrap = makeWrap({
    stats: opts.stats,
    onUnexpectedError(op, err) {
      const code = (err as { code?: unknown })?.code
      // A coded error is a known failure of the store or disk: its message is the cause. Without a code it is a bug.
      const cause = typeof code === 'string' ? (err as Error).message : ((err as Error)?.stack ?? String(err))
      log(`peerstore: ${op} failed, answered ${errnoName(code)}: ${cause} (logged once per cause)`)
    },
    deadlineMs: opts.deadlineMs
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

  const shares = opts.shares
  /** A path in the read-only view of other users' shares. */
  const shared = (path: string) => shares?.owns(path) === true
  const W_OK = 2

  const ops: FuseOps = {
    getattr: wrap('getattr', async (path: string) => {
      if (shared(path)) return reply(await shares!.getattr(path))
      try {
        return reply(fuseStat(await volume.resolve(path)))
      } catch (err) {
        // fstat(2) reaches us by path only. A file open here whose name another computer deleted
        // still answers at its old path until closed, as an unlinked open file does.
        const open = (err as VolumeError).code === 'ENOENT' ? handles.openDeletedAt(path, volume) : null
        if (!open) throw err
        return reply(fuseStat(open))
      }
    }),

    // fstat(2), and the kernel before a read of a file it caches (auto_cache): by handle, so a file
    // open here still answers after another computer deleted its name (tuned-fuse.ts passes the handle).
    fgetattr: wrap('fgetattr', async (path: string, fh: number) => {
      if (shared(path) || shares?.ownsHandle(fh)) return reply(await shares!.getattr(path))
      return reply(fuseStat(await inodeOf(path, fh)))
    }),

    access: wrap('access', async (path: string, mode: number) => {
      if (shared(path)) {
        await shares!.getattr(path)
        return mode & W_OK ? E.EROFS : 0
      }
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

    readdir: wrap('readdir', async (path: string) => {
      if (shared(path)) return reply(['.', '..', ...(await shares!.readdir(path))])
      const names = await volume.readdir(path)
      // The Volume refuses that name in the root, so it never hides an entry of the user's own.
      if (shares && isRoot(path) && !names.includes(SHARED_DIR_NAME) && shares.visible()) names.push(SHARED_DIR_NAME)
      return reply(['.', '..', ...names])
    }),

    open: wrap('open', async (path: string, flags: number) => {
      if (shared(path)) return reply(await shares!.open(path, flags))
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
      if (shares?.ownsHandle(fh)) return shares.read(fh, buf, len, pos)
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
      if (shares?.ownsHandle(fh)) return
      const h = handles.get(fh)
      if (h?.writable) await volume.closeFile(h.inode)
    }),

    release: wrap('release', async (_path: string, fh: number) => {
      if (shares?.ownsHandle(fh)) return shares.release(fh)
      const h = handles.release(fh)
      if (h) volume.noteRelease(h.inode)
      if (h?.writable) await volume.closeFile(h.inode)
    }),

    fsync: wrap('fsync', async (path: string, _datasync: unknown, fh: number) => {
      if (shares?.ownsHandle(fh) || shared(path)) return
      await volume.fsync(await inodeOf(path, fh))
    }),

    fsyncdir: wrap('fsyncdir', async (path: string) => {
      if (shared(path)) return
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
    readlink: wrap('readlink', async (path: string) =>
      reply(shared(path) ? await shares!.readlink(path) : await volume.readlink(path))
    ),

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
      if (shared(path)) {
        await shares!.getattr(path)
        return E.ENODATA
      }
      const inode = await volume.resolve(path)
      if (name === STATUS_XATTR) return reply(Buffer.from(formatStatus(await volume.replicaReport(inode))))
      const value = volume.getxattr(inode, name)
      return value ? reply(value) : E.ENODATA
    }),

    listxattr: wrap('listxattr', async (path: string) => {
      if (shared(path)) {
        await shares!.getattr(path)
        return reply([])
      }
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
  if (shares) guardWrites(ops, shared)
  return ops
}

/** Every op that changes something answers EROFS on a path in the shares view (never EIO). */
function guardWrites(ops: FuseOps, shared: (path: string) => boolean): void {
  const onePath = [
    'create',
    'truncate',
    'ftruncate',
    'unlink',
    'rmdir',
    'mkdir',
    'chmod',
    'chown',
    'utimens',
    'setxattr',
    'removexattr',
    'link',
    'mknod'
  ] as const
  const table = ops as unknown as Record<string, (...args: unknown[]) => void>
  for (const name of onePath) {
    const inner = table[name]
    if (!inner) continue
    table[name] = (...args: unknown[]) => {
      const cb = args[args.length - 1] as (code: number) => void
      // link(src, dest): either side in the view is refused.
      const paths = name === 'link' ? [args[0], args[1]] : [args[0]]
      if (paths.some((p) => typeof p === 'string' && shared(p))) return cb(E.EROFS)
      inner(...args)
    }
  }
  for (const name of ['rename', 'symlink'] as const) {
    const inner = table[name]
    table[name] = (...args: unknown[]) => {
      const cb = args[args.length - 1] as (code: number) => void
      // rename(src, dest) and symlink(target, path): the target of a symlink is only text.
      const paths = name === 'rename' ? [args[0], args[1]] : [args[1]]
      if (paths.some((p) => typeof p === 'string' && shared(p))) return cb(E.EROFS)
      inner(...args)
    }
  }
}

const isRoot = (path: string) => path === '/' || path === ''

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
