// `peerstore get PATH DEST`: restores one file, or a folder recursively, from
// the store without FUSE, streaming chunk by chunk; through the home's
// running mount when there is one (open-tree.ts). What it would write is
// listed first, so a refusal (an existing file without --force) leaves DEST
// as it was.

import fs from 'node:fs'
import path from 'node:path'
import { codedError } from '../../common/errors'
import { isSpecialType } from '../../volume/inode'
import { openTree } from '../../app/open-tree'
import { TREE_PIECE, type TreeAccess, type TreeEntry } from '../../app/tree-access'
import { type Command, requirePositionals } from '../command'
import { Progress } from '../progress'
import { announceSlow } from '../waiting'

/** One thing to restore: where it is in the store and where it goes. */
interface Step {
  from: string
  entry: TreeEntry
  dest: string
}

export const getCommand: Command = {
  name: 'get',
  summary: 'restore a file or folder from the store to DEST, without mounting',
  positionals: 'PATH DEST',
  flags: [
    { name: 'force', type: 'boolean', description: 'overwrite files that already exist in DEST' },
    { name: 'quiet', type: 'boolean', alias: 'q', description: 'no progress lines' }
  ],
  async run(args, ctx) {
    requirePositionals(args, 2, 'PATH DEST')
    const [from, destArg] = args.positionals
    const notice = (line: string) => ctx.stderr.write(`peerstore get: ${line}\n`)
    const opened = await announceSlow(ctx, 'get', openTree(ctx.home, { notice }))
    let count = 0
    try {
      const tree = opened.tree
      const entry = await tree.entry(from)
      const dest = destination(from, entry, destArg)
      const plan = await planRestore(tree, from, entry, dest)
      if (!args.flags.force) refuseOverwrites(plan)
      const files = plan.filter((s) => s.entry.type === 'file')
      const total = { files: files.length, bytes: files.reduce((n, s) => n + s.entry.size, 0) }
      const progress = new Progress(ctx.stderr, 'get', total, args.flags.quiet === true)
      try {
        for (const step of plan) count += await restore(tree, step, progress)
      } finally {
        progress.finish()
      }
      // Deepest first, so a read-only folder is filled before it becomes read-only.
      for (const step of [...plan].reverse()) {
        if (step.entry.type === 'dir') fs.chmodSync(step.dest, step.entry.mode & 0o7777)
      }
    } finally {
      await opened.close()
    }
    ctx.stdout.write(`restored ${count} files to ${path.resolve(destArg)}\n`)
    return 0
  }
}

/**
 * Where the restored item goes: into DEST when DEST is a folder (or is
 * written as one, `dir/`, made if missing), else at DEST itself.
 */
function destination(from: string, entry: TreeEntry, destArg: string): string {
  const dest = path.resolve(destArg)
  if (entry.type === 'dir') return dest
  const asFolder = destArg.endsWith('/') || destArg.endsWith(path.sep)
  if (asFolder) fs.mkdirSync(dest, { recursive: true })
  const isFolder = fs.statSync(dest, { throwIfNoEntry: false })?.isDirectory() === true
  return isFolder ? path.join(dest, path.basename(from)) : dest
}

async function planRestore(tree: TreeAccess, from: string, entry: TreeEntry, dest: string): Promise<Step[]> {
  const steps: Step[] = [{ from, entry, dest }]
  if (entry.type !== 'dir') return steps
  for (const child of await tree.list(from)) {
    steps.push(
      ...(await planRestore(tree, `${from.replace(/\/+$/, '')}/${child.name}`, child, path.join(dest, child.name)))
    )
  }
  return steps
}

function refuseOverwrites(plan: Step[]): void {
  const existing = plan.filter(
    (s) => s.entry.type !== 'dir' && !isSpecialType(s.entry.type) && fs.lstatSync(s.dest, { throwIfNoEntry: false })
  )
  if (existing.length === 0) return
  const what =
    existing.length > 1
      ? `${existing[0].dest} and ${existing.length - 1} more already exist`
      : `${existing[0].dest} already exists`
  throw codedError('EEXIST', `${what}: nothing restored (add --force to overwrite)`)
}

/** Restores one step; folders come before their contents (and get their own mode once those are in). */
async function restore(tree: TreeAccess, { from, entry, dest }: Step, progress: Progress): Promise<number> {
  if (entry.type === 'dir') {
    fs.mkdirSync(dest, { recursive: true })
    // Writable by us until filled.
    fs.chmodSync(dest, (entry.mode & 0o7777) | 0o700)
    return 0
  }
  // Fifos, sockets and device nodes have no content, and Node cannot make them: left out.
  if (isSpecialType(entry.type)) return 0
  fs.rmSync(dest, { force: true })
  if (entry.type === 'symlink') {
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
      progress.add(0, piece.length)
    }
  } finally {
    fs.closeSync(fd)
  }
  // Node takes seconds as a Number (and libuv keeps microseconds): not the stored nanosecond.
  fs.utimesSync(dest, Number(BigInt(entry.atimeNs)) / 1e9, Number(BigInt(entry.mtimeNs)) / 1e9)
  progress.add(1, 0)
  return 1
}
