// What `ls`, `get` and `backup` do to a user's tree, by path, whichever
// process holds the home's Volume: this one (localTree, the Volume opened
// here) or the home's running mount (controlTree, over the mount's control
// socket, share-control.ts). One process per home owns the Volume, so a verb
// beside a running mount must go through the mount instead of opening it.

import type { ControlClient, ControlHandler } from '../node/control'
import { codedError, errorCode } from '../common/errors'
import type { InodeType } from '../volume/inode'
import { timeNs } from '../volume/times'
import type { Inode, Volume } from '../volume/volume'

/** One file or folder as the verbs see it; times in BigInt nanoseconds as decimal text (JSON has no BigInt). */
export interface TreeEntry {
  name: string
  type: InodeType
  size: number
  /** Type and permission bits, as stat(2) gives them. */
  mode: number
  /** Milliseconds since the epoch. */
  mtime: number
  atimeNs: string
  mtimeNs: string
  /** A symlink's target. */
  target?: string
}

export interface TreeAccess {
  entry(p: string): Promise<TreeEntry>
  list(p: string): Promise<TreeEntry[]>
  /** Up to `len` bytes at `pos`; fewer only at the end of the file. */
  read(p: string, pos: number, len: number): Promise<Buffer>
  /** Makes `p` and its missing parents; fails if one of them is not a folder. */
  mkdirs(p: string, mode: number): Promise<void>
  /** Replaces a file or link at `p` with a new empty file, kept open until finishFile. */
  createFile(p: string, mode: number): Promise<void>
  write(p: string, pos: number, data: Buffer): Promise<void>
  finishFile(p: string, atimeNs: bigint, mtimeNs: bigint): Promise<void>
  /** Replaces a file or link at `p` with a symlink. */
  symlink(p: string, target: string): Promise<void>
  chmod(p: string, mode: number): Promise<void>
  /** Removes a file, a link or an empty folder. */
  remove(p: string): Promise<void>
  /** Everything written so far is in the store. */
  sync(): Promise<void>
}

/** Largest piece one control call carries (base64 in a JSON line). */
export const TREE_PIECE = 1024 * 1024

/** How long one control call of the tree may take; a flush of everything written gets longer. */
const CALL_TIMEOUT_MS = 60_000
const SYNC_TIMEOUT_MS = 10 * 60_000

function entryOf(v: Volume, name: string, inode: Inode): TreeEntry {
  const s = v.stat(inode)
  return {
    name,
    type: inode.type,
    size: s.size,
    mode: s.mode,
    mtime: s.mtime,
    atimeNs: timeNs(s, 'atime').toString(),
    mtimeNs: timeNs(s, 'mtime').toString(),
    ...(inode.type === 'symlink' ? { target: inode.state.target ?? '' } : {})
  }
}

async function removeIfFile(v: Volume, p: string): Promise<void> {
  try {
    const inode = await v.resolve(p)
    if (inode.type === 'dir') throw codedError('EISDIR', `${p} is a folder in the store`)
    await v.unlink(p)
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') throw err
  }
}

/** What a bare error code means for a path in the store. */
const PATH_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file or folder in the store',
  ENOTDIR: 'a part of this path is not a folder',
  EISDIR: 'is a folder',
  EEXIST: 'already exists',
  EACCES: 'permission denied',
  ENAMETOOLONG: 'a name in this path is too long'
}

/** Errors the Volume raises with only their code ("ENOENT") name the path they are about. */
function naming<A extends unknown[], R>(fn: (p: string, ...rest: A) => Promise<R>) {
  return async (p: string, ...rest: A): Promise<R> => {
    try {
      return await fn(p, ...rest)
    } catch (err) {
      const code = errorCode(err)
      const message = (err as Error).message ?? ''
      if (code && PATH_PROBLEMS[code] && (message === '' || message === code)) {
        throw codedError(code, `${p}: ${PATH_PROBLEMS[code]} (${code})`, undefined, { cause: err })
      }
      throw err
    }
  }
}

export function localTree(v: Volume): TreeAccess {
  const tree = pathTree(v)
  return {
    entry: naming(tree.entry),
    list: naming(tree.list),
    read: naming(tree.read),
    mkdirs: naming(tree.mkdirs),
    createFile: naming(tree.createFile),
    write: naming(tree.write),
    finishFile: naming(tree.finishFile),
    symlink: naming(tree.symlink),
    chmod: naming(tree.chmod),
    remove: naming(tree.remove),
    sync: tree.sync
  }
}

function pathTree(v: Volume): TreeAccess {
  return {
    async entry(p) {
      return entryOf(v, p, await v.resolve(p))
    },
    async list(p) {
      return (await v.list(p)).map(({ name, inode }) => entryOf(v, name, inode))
    },
    async read(p, pos, len) {
      const inode = await v.resolve(p)
      const out = Buffer.alloc(len)
      let n = 0
      while (n < len) {
        const got = await v.read(inode, out.subarray(n), len - n, pos + n)
        if (got === 0) break
        n += got
      }
      return out.subarray(0, n)
    },
    async mkdirs(p, mode) {
      let cur = ''
      for (const part of p.split('/').filter(Boolean)) {
        cur += `/${part}`
        try {
          const inode = await v.resolve(cur)
          if (inode.type !== 'dir') throw codedError('ENOTDIR', `${cur} exists in the store and is not a folder`)
        } catch (err) {
          if (errorCode(err) !== 'ENOENT') throw err
          await v.mkdir(cur, mode)
        }
      }
    },
    async createFile(p, mode) {
      await removeIfFile(v, p)
      await v.create(p, mode)
    },
    async write(p, pos, data) {
      await v.write(await v.resolve(p), data, pos)
    },
    async finishFile(p, atimeNs, mtimeNs) {
      const inode = await v.resolve(p)
      await v.closeFile(inode)
      v.utimens(inode, atimeNs, mtimeNs)
    },
    async symlink(p, target) {
      await removeIfFile(v, p)
      await v.symlink(target, p)
    },
    async chmod(p, mode) {
      v.chmod(await v.resolve(p), mode)
    },
    async remove(p) {
      const inode = await v.resolve(p)
      await (inode.type === 'dir' ? v.rmdir(p) : v.unlink(p))
    },
    sync: () => v.sync()
  }
}

/** The control methods a mount serves for controlTree, over its Volume. */
export function treeHandlers(v: Volume): Record<string, ControlHandler> {
  const t = localTree(v)
  const path = (params: Record<string, unknown>) => String(params.path)
  return {
    'tree.entry': (q) => t.entry(path(q)),
    'tree.list': (q) => t.list(path(q)),
    'tree.read': async (q) =>
      (await t.read(path(q), Number(q.pos), Math.min(TREE_PIECE, Number(q.len)))).toString('base64'),
    'tree.mkdirs': async (q) => t.mkdirs(path(q), Number(q.mode)),
    'tree.createFile': async (q) => t.createFile(path(q), Number(q.mode)),
    'tree.write': async (q) => t.write(path(q), Number(q.pos), Buffer.from(String(q.data), 'base64')),
    'tree.finishFile': async (q) => t.finishFile(path(q), BigInt(String(q.atimeNs)), BigInt(String(q.mtimeNs))),
    'tree.symlink': async (q) => t.symlink(path(q), String(q.target)),
    'tree.chmod': async (q) => t.chmod(path(q), Number(q.mode)),
    'tree.remove': async (q) => t.remove(path(q)),
    'tree.sync': async () => t.sync()
  }
}

/** The tree of the home's running mount, through its control socket. */
export function controlTree(client: ControlClient): TreeAccess {
  const call = async <T>(method: string, params: Record<string, unknown> = {}, timeoutMs = CALL_TIMEOUT_MS) => {
    try {
      return await client.call<T>(`tree.${method}`, params, { timeoutMs })
    } catch (err) {
      if (errorCode(err) === 'EINVAL' && /unknown control method/.test((err as Error).message)) {
        throw codedError('EINVAL', 'the running mount of this home is an older version of peerstore: restart it first')
      }
      throw err
    }
  }
  return {
    entry: (path) => call('entry', { path }),
    list: (path) => call('list', { path }),
    read: async (path, pos, len) => {
      // Pieces of at most TREE_PIECE, so one reply stays a bounded line.
      const parts: Buffer[] = []
      let n = 0
      while (n < len) {
        const want = Math.min(TREE_PIECE, len - n)
        const part = Buffer.from(await call<string>('read', { path, pos: pos + n, len: want }), 'base64')
        parts.push(part)
        n += part.length
        if (part.length < want) break
      }
      return Buffer.concat(parts)
    },
    mkdirs: (path, mode) => call('mkdirs', { path, mode }),
    createFile: (path, mode) => call('createFile', { path, mode }),
    write: async (path, pos, data) => {
      for (let off = 0; off < data.length; off += TREE_PIECE) {
        const piece = data.subarray(off, off + TREE_PIECE)
        await call('write', { path, pos: pos + off, data: piece.toString('base64') })
      }
    },
    finishFile: (path, atimeNs, mtimeNs) =>
      call('finishFile', { path, atimeNs: atimeNs.toString(), mtimeNs: mtimeNs.toString() }),
    symlink: (path, target) => call('symlink', { path, target }),
    chmod: (path, mode) => call('chmod', { path, mode }),
    remove: (path) => call('remove', { path }),
    sync: () => call('sync', {}, SYNC_TIMEOUT_MS)
  }
}
