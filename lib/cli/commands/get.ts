// `peerstore get PATH DEST`: restores one file, or a folder recursively, from
// the store without FUSE, streaming chunk by chunk; through the home's
// running mount when there is one (open-tree.ts).

import fs from 'node:fs'
import path from 'node:path'
import { isSpecialType } from '../../volume/inode'
import { openTree } from '../../app/open-tree'
import { TREE_PIECE, type TreeAccess, type TreeEntry } from '../../app/tree-access'
import { type Command, requirePositionals } from '../command'
import { announceSlow } from '../waiting'

export const getCommand: Command = {
  name: 'get',
  summary: 'restore a file or folder from the store to DEST, without mounting',
  positionals: 'PATH DEST',
  flags: [],
  async run(args, ctx) {
    requirePositionals(args, 2, 'PATH DEST')
    const [from, destArg] = args.positionals
    const notice = (line: string) => ctx.stderr.write(`peerstore get: ${line}\n`)
    const opened = await announceSlow(ctx, 'get', openTree(ctx.home, { notice }))
    let count = 0
    try {
      const tree = opened.tree
      const entry = await tree.entry(from)
      let dest = path.resolve(destArg)
      if (fs.statSync(dest, { throwIfNoEntry: false })?.isDirectory() && entry.type !== 'dir') {
        dest = path.join(dest, path.basename(from))
      }
      count = await restore(tree, from, entry, dest)
    } finally {
      await opened.close()
    }
    ctx.stdout.write(`restored ${count} files to ${path.resolve(destArg)}\n`)
    return 0
  }
}

async function restore(tree: TreeAccess, from: string, entry: TreeEntry, dest: string): Promise<number> {
  if (entry.type === 'dir') {
    fs.mkdirSync(dest, { recursive: true })
    let n = 0
    for (const child of await tree.list(from)) {
      n += await restore(tree, `${from.replace(/\/+$/, '')}/${child.name}`, child, path.join(dest, child.name))
    }
    fs.chmodSync(dest, entry.mode & 0o7777)
    return n
  }
  // Fifos, sockets and device nodes have no content, and Node cannot make them: left out.
  if (isSpecialType(entry.type)) return 0
  if (entry.type === 'symlink') {
    fs.rmSync(dest, { force: true })
    fs.symlinkSync(entry.target ?? '', dest)
    return 1
  }
  const fd = fs.openSync(dest, 'w', entry.mode & 0o7777)
  try {
    for (let pos = 0; pos < entry.size; ) {
      const piece = await tree.read(from, pos, TREE_PIECE)
      if (piece.length === 0) break
      fs.writeSync(fd, piece)
      pos += piece.length
    }
  } finally {
    fs.closeSync(fd)
  }
  // Node takes seconds as a Number (and libuv keeps microseconds): not the stored nanosecond.
  fs.utimesSync(dest, Number(BigInt(entry.atimeNs)) / 1e9, Number(BigInt(entry.mtimeNs)) / 1e9)
  return 1
}
