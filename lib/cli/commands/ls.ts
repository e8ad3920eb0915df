// `peerstore ls PATH`: lists a folder of the store (or one file) without FUSE,
// through the home's running mount when there is one (open-tree.ts).

import { openTree } from '../../app/open-tree'
import type { TreeEntry } from '../../app/tree-access'
import { TYPE_CODE } from '../../volume/inode'
import { type Command, requirePositionals } from '../command'
import { announceSlow } from '../waiting'

export const lsCommand: Command = {
  name: 'ls',
  summary: 'list a folder in the store, without mounting',
  positionals: '[PATH]',
  flags: [{ name: 'json', type: 'boolean', description: 'one JSON object per entry' }],
  async run(args, ctx) {
    if (args.positionals.length === 0) args.positionals.push('/')
    requirePositionals(args, 1, 'PATH')
    const p = args.positionals[0]
    const notice = (line: string) => ctx.stderr.write(`peerstore ls: ${line}\n`)
    const opened = await announceSlow(ctx, 'ls', openTree(ctx.home, { notice }))
    let rows: TreeEntry[]
    try {
      const target = await opened.tree.entry(p)
      rows = target.type === 'dir' ? await opened.tree.list(p) : [target]
    } finally {
      await opened.close()
    }
    rows.sort((a, b) => a.name.localeCompare(b.name))
    for (const r of rows) {
      if (args.flags.json) {
        ctx.stdout.write(
          `${JSON.stringify({ name: r.name, type: r.type, size: r.size, mode: r.mode & 0o7777, mtime: r.mtime })}\n`
        )
      } else {
        ctx.stdout.write(`${line(r)} ${r.name}${r.type === 'dir' ? '/' : ''}\n`)
      }
    }
    return 0
  }
}

function line(e: TreeEntry): string {
  // The letter `ls -l` shows: the record's type code, except a regular file's '-'.
  const t = e.type === 'file' ? '-' : TYPE_CODE[e.type]
  const perms = [6, 3, 0].map((sh) => {
    const b = (e.mode >> sh) & 7
    return `${b & 4 ? 'r' : '-'}${b & 2 ? 'w' : '-'}${b & 1 ? 'x' : '-'}`
  })
  const when = new Date(e.mtime).toISOString().replace('T', ' ').slice(0, 16)
  return `${t}${perms.join('')} ${String(e.size).padStart(12)} ${when}`
}
