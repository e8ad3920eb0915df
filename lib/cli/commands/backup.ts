// `peerstore backup LOCALDIR [--to PATH]`: copies a folder tree into the
// store without FUSE, incrementally: files the store already holds unchanged
// (same size and nanosecond mtime) are skipped (backup-plan.ts). Each file
// streams in chunk-sized pieces (bounded memory), with progress and an ETA
// on stderr (progress.ts); through the home's running mount when there is
// one (open-tree.ts).

import fs from 'node:fs'
import path from 'node:path'
import { openTree } from '../../app/open-tree'
import { TREE_PIECE, type TreeAccess } from '../../app/tree-access'
import { type BackupAction, entryOrNull, planBackup } from '../backup-plan'
import { type Command, requirePositionals, usageError } from '../command'
import { PathFilter } from '../glob'
import { formatMiB, Progress } from '../progress'
import { announceSlow } from '../waiting'

export const backupCommand: Command = {
  name: 'backup',
  summary: 'copy a local folder (recursively) into the store, skipping unchanged files, without mounting',
  positionals: 'LOCALDIR',
  flags: [
    { name: 'to', type: 'string', value: 'PATH', description: 'folder in the store (default /<name of LOCALDIR>)' },
    { name: 'dry-run', type: 'boolean', description: 'print what would be uploaded and deleted; change nothing' },
    {
      name: 'exclude',
      type: 'string',
      value: 'GLOB',
      repeatable: true,
      description: 'leave out paths (relative to LOCALDIR) or names matching GLOB (*, **, ?); repeatable'
    },
    {
      name: 'delete',
      type: 'boolean',
      description: 'remove what the store holds under PATH that LOCALDIR no longer has'
    },
    { name: 'quiet', type: 'boolean', alias: 'q', description: 'no progress lines (the summary is still printed)' },
    { name: 'json', type: 'boolean', description: 'print a JSON summary' }
  ],
  async run(args, ctx) {
    requirePositionals(args, 1, 'LOCALDIR')
    const src = path.resolve(args.positionals[0])
    const st = fs.statSync(src, { throwIfNoEntry: false })
    if (!st?.isDirectory()) throw usageError(`${src} is not a directory`)
    const dest = normalize((args.flags.to as string | undefined) ?? `/${path.basename(src)}`)
    const dryRun = args.flags['dry-run'] === true
    const exclude = new PathFilter(args.lists?.exclude ?? [])

    const started = Date.now()
    const notice = (line: string) => ctx.stderr.write(`peerstore backup: ${line}\n`)
    const opened = await announceSlow(ctx, 'backup', openTree(ctx.home, { notice }))
    let summary: Summary
    try {
      const tree = opened.tree
      const destExists = (await entryOrNull(tree, dest)) !== null
      if (!dryRun) await tree.mkdirs(dest, 0o755)
      const plan = await planBackup(tree, src, dest, destExists || !dryRun, {
        exclude,
        deleteExtra: args.flags.delete === true
      })
      const uploads = plan.actions.filter((a) => a.kind === 'upload' || a.kind === 'link')
      summary = {
        to: dest,
        uploaded: uploads.length,
        skipped: plan.skipped,
        deleted: plan.actions.filter((a) => a.kind === 'delete').length,
        excluded: plan.excluded,
        bytes: uploads.reduce((n, a) => n + (a.kind === 'upload' ? a.size : 0), 0),
        seconds: 0,
        dryRun
      }
      if (dryRun) {
        for (const a of plan.actions) {
          if (a.kind === 'upload' || a.kind === 'link') ctx.stdout.write(`would upload ${a.to}\n`)
          else if (a.kind === 'delete') ctx.stdout.write(`would delete ${a.to}\n`)
        }
      } else {
        const progress = new Progress(
          ctx.stderr,
          'backup',
          { files: summary.uploaded, bytes: summary.bytes },
          args.flags.quiet === true
        )
        try {
          for (const action of plan.actions) await apply(tree, action, progress)
        } finally {
          progress.finish()
        }
        await tree.sync()
      }
    } finally {
      await opened.close()
    }
    summary.seconds = (Date.now() - started) / 1000
    if (args.flags.json) ctx.stdout.write(`${JSON.stringify({ ...summary, files: summary.uploaded })}\n`)
    else ctx.stdout.write(`${summaryLine(summary)}\n`)
    return 0
  }
}

interface Summary {
  to: string
  uploaded: number
  skipped: number
  deleted: number
  excluded: number
  bytes: number
  seconds: number
  dryRun: boolean
}

function summaryLine(s: Summary): string {
  const excluded = s.excluded > 0 ? `, ${s.excluded} excluded` : ''
  if (s.dryRun) {
    return (
      `dry run, nothing changed: ${s.uploaded} to upload, ${s.skipped} skipped, ${s.deleted} to delete` +
      `${excluded}, ${formatMiB(s.bytes)} (to ${s.to})`
    )
  }
  return (
    `${s.uploaded} uploaded, ${s.skipped} skipped, ${s.deleted} deleted${excluded}, ` +
    `${formatMiB(s.bytes)} in ${s.seconds.toFixed(1)} s (to ${s.to})`
  )
}

function normalize(p: string): string {
  return `/${p.split('/').filter(Boolean).join('/')}`
}

async function apply(tree: TreeAccess, action: BackupAction, progress: Progress): Promise<void> {
  switch (action.kind) {
    case 'mkdir':
      if (action.replace) await tree.remove(action.to)
      await tree.mkdirs(action.to, 0o755)
      return
    case 'chmod':
      await tree.chmod(action.to, action.mode)
      return
    case 'delete':
      await tree.remove(action.to)
      return
    case 'link':
      await tree.symlink(action.to, action.target)
      progress.add(1, 0)
      return
    case 'upload':
      await upload(tree, action.from, action.to, action.mode, progress)
      progress.add(1, 0)
  }
}

async function upload(tree: TreeAccess, from: string, to: string, mode: number, progress: Progress): Promise<void> {
  await tree.createFile(to, mode)
  const fd = fs.openSync(from, 'r')
  try {
    const buf = Buffer.alloc(TREE_PIECE)
    let pos = 0
    for (;;) {
      const n = fs.readSync(fd, buf, 0, TREE_PIECE, pos)
      if (n === 0) break
      await tree.write(to, pos, Buffer.from(buf.subarray(0, n)))
      pos += n
      progress.add(0, n)
    }
  } finally {
    fs.closeSync(fd)
  }
  // To the nanosecond (atimeMs and mtimeMs are floating-point milliseconds): the next run compares it.
  const ns = fs.lstatSync(from, { bigint: true })
  await tree.finishFile(to, ns.atimeNs, ns.mtimeNs)
}
