// `peerstore get PATH DEST`: restores one file, or a folder recursively, from
// the store without FUSE, streaming chunk by chunk.

import fs from 'node:fs'
import path from 'node:path'
import { isSpecialType } from '../../volume/inode'
import { timeNs } from '../../volume/times'
import type { Inode, Volume } from '../../volume/volume'
import { openVolume } from '../../app/open-volume'
import { type Command, requirePositionals } from '../command'

const PIECE = 1024 * 1024

export const getCommand: Command = {
  name: 'get',
  summary: 'restore a file or folder from the store to DEST, without mounting',
  positionals: 'PATH DEST',
  flags: [],
  async run(args, ctx) {
    requirePositionals(args, 2, 'PATH DEST')
    const [from, destArg] = args.positionals
    const opened = await openVolume(ctx.home)
    let count = 0
    try {
      const v = opened.volume
      const inode = await v.resolve(from)
      let dest = path.resolve(destArg)
      if (fs.statSync(dest, { throwIfNoEntry: false })?.isDirectory() && inode.type !== 'dir') {
        dest = path.join(dest, path.basename(from))
      }
      count = await restore(v, from, inode, dest)
    } finally {
      await opened.close()
    }
    ctx.stdout.write(`restored ${count} files to ${path.resolve(destArg)}\n`)
    return 0
  }
}

async function restore(v: Volume, from: string, inode: Inode, dest: string): Promise<number> {
  const st = v.stat(inode)
  if (inode.type === 'dir') {
    fs.mkdirSync(dest, { recursive: true })
    let n = 0
    for (const { name, inode: child } of await v.list(from)) {
      n += await restore(v, `${from.replace(/\/+$/, '')}/${name}`, child, path.join(dest, name))
    }
    fs.chmodSync(dest, st.mode & 0o7777)
    return n
  }
  // Fifos, sockets and device nodes have no content, and Node cannot make them: left out.
  if (isSpecialType(inode.type)) return 0
  if (inode.type === 'symlink') {
    fs.rmSync(dest, { force: true })
    fs.symlinkSync(inode.state.target ?? '', dest)
    return 1
  }
  const fd = fs.openSync(dest, 'w', st.mode & 0o7777)
  try {
    const buf = Buffer.alloc(PIECE)
    for (let pos = 0; pos < inode.size; ) {
      const n = await v.read(inode, buf, PIECE, pos)
      if (n === 0) break
      fs.writeSync(fd, buf, 0, n)
      pos += n
    }
  } finally {
    fs.closeSync(fd)
  }
  // Node takes seconds as a Number (and libuv keeps microseconds): not the stored nanosecond.
  fs.utimesSync(dest, Number(timeNs(st, 'atime')) / 1e9, Number(timeNs(st, 'mtime')) / 1e9)
  return 1
}
