// `peerstore ls PATH`: lists a folder of the store (or one file) without FUSE.

import { openVolume } from '../../app/open-volume'
import { type InodeType, TYPE_CODE } from '../../volume/inode'
import type { Stat } from '../../volume/volume'
import { type Command, requirePositionals } from '../command'

export const lsCommand: Command = {
  name: 'ls',
  summary: 'list a folder in the store, without mounting',
  positionals: '[PATH]',
  flags: [{ name: 'json', type: 'boolean', description: 'one JSON object per entry' }],
  async run(args, ctx) {
    if (args.positionals.length === 0) args.positionals.push('/')
    requirePositionals(args, 1, 'PATH')
    const opened = await openVolume(ctx.home)
    try {
      const v = opened.volume
      const target = await v.resolve(args.positionals[0])
      const rows =
        target.type === 'dir'
          ? (await v.list(args.positionals[0])).map(({ name, inode }) => ({
              name,
              type: inode.type,
              stat: v.stat(inode)
            }))
          : [{ name: args.positionals[0], type: target.type, stat: v.stat(target) }]
      rows.sort((a, b) => a.name.localeCompare(b.name))
      for (const r of rows) {
        if (args.flags.json) {
          ctx.stdout.write(
            `${JSON.stringify({ name: r.name, type: r.type, size: r.stat.size, mode: r.stat.mode & 0o7777, mtime: r.stat.mtime })}\n`
          )
        } else {
          ctx.stdout.write(`${line(r.type, r.stat)} ${r.name}${r.type === 'dir' ? '/' : ''}\n`)
        }
      }
    } finally {
      await opened.close()
    }
    return 0
  }
}

function line(type: InodeType, s: Stat): string {
  // The letter `ls -l` shows: the record's type code, except a regular file's '-'.
  const t = type === 'file' ? '-' : TYPE_CODE[type]
  const perms = [6, 3, 0].map((sh) => {
    const b = (s.mode >> sh) & 7
    return `${b & 4 ? 'r' : '-'}${b & 2 ? 'w' : '-'}${b & 1 ? 'x' : '-'}`
  })
  const when = new Date(s.mtime).toISOString().replace('T', ' ').slice(0, 16)
  return `${t}${perms.join('')} ${String(s.size).padStart(12)} ${when}`
}
