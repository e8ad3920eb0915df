// `peerstore backup LOCALDIR [--to PATH]`: copies a folder tree into the
// store without FUSE, streaming each file in chunk-sized pieces (bounded
// memory), with a progress bar on a terminal; through the home's running
// mount when there is one (open-tree.ts).

import fs from 'node:fs'
import path from 'node:path'
import { openTree } from '../../app/open-tree'
import { TREE_PIECE, type TreeAccess } from '../../app/tree-access'
import { type Command, requirePositionals, usageError } from '../command'
import { announceSlow } from '../waiting'

const PIECE = TREE_PIECE
const MiB = 1024 * 1024

export const backupCommand: Command = {
  name: 'backup',
  summary: 'copy a local folder (recursively) into the store, without mounting',
  positionals: 'LOCALDIR',
  flags: [
    { name: 'to', type: 'string', value: 'PATH', description: 'folder in the store (default /<name of LOCALDIR>)' },
    { name: 'json', type: 'boolean', description: 'print a JSON summary' }
  ],
  async run(args, ctx) {
    requirePositionals(args, 1, 'LOCALDIR')
    const src = path.resolve(args.positionals[0])
    const st = fs.statSync(src, { throwIfNoEntry: false })
    if (!st?.isDirectory()) throw usageError(`${src} is not a directory`)
    const dest = normalize((args.flags.to as string | undefined) ?? `/${path.basename(src)}`)

    const totals = { files: 0, bytes: 0 }
    walk(src, (_p, s) => {
      if (s.isFile()) {
        totals.files++
        totals.bytes += s.size
      }
    })
    const progress = new Progress(ctx.stderr, totals)
    const notice = (line: string) => ctx.stderr.write(`peerstore backup: ${line}\n`)
    const opened = await announceSlow(ctx, 'backup', openTree(ctx.home, { notice }))
    try {
      const tree = opened.tree
      await tree.mkdirs(dest, 0o755)
      await copyTree(tree, src, dest, progress)
      progress.finish()
      await tree.sync()
    } finally {
      await opened.close()
    }
    const done = progress.done
    if (args.flags.json) ctx.stdout.write(`${JSON.stringify({ to: dest, ...done })}\n`)
    else ctx.stdout.write(`backed up ${done.files} files, ${done.bytes} bytes to ${dest}\n`)
    return 0
  }
}

function normalize(p: string): string {
  return `/${p.split('/').filter(Boolean).join('/')}`
}

function walk(dir: string, fn: (p: string, s: fs.Stats) => void): void {
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name)
    const s = fs.lstatSync(p)
    fn(p, s)
    if (s.isDirectory()) walk(p, fn)
  }
}

async function copyTree(tree: TreeAccess, src: string, dest: string, progress: Progress): Promise<void> {
  for (const name of fs.readdirSync(src).sort()) {
    const from = path.join(src, name)
    const to = `${dest === '/' ? '' : dest}/${name}`
    const s = fs.lstatSync(from)
    if (s.isDirectory()) {
      await tree.mkdirs(to, 0o755)
      await copyTree(tree, from, to, progress)
      await tree.chmod(to, s.mode)
    } else if (s.isSymbolicLink()) {
      await tree.symlink(to, fs.readlinkSync(from))
    } else if (s.isFile()) {
      await tree.createFile(to, s.mode)
      const fd = fs.openSync(from, 'r')
      try {
        const buf = Buffer.alloc(PIECE)
        let pos = 0
        for (;;) {
          const n = fs.readSync(fd, buf, 0, PIECE, pos)
          if (n === 0) break
          await tree.write(to, pos, Buffer.from(buf.subarray(0, n)))
          pos += n
          progress.add(0, n)
        }
      } finally {
        fs.closeSync(fd)
      }
      // To the nanosecond: atimeMs and mtimeMs are floating-point milliseconds.
      const ns = fs.lstatSync(from, { bigint: true })
      await tree.finishFile(to, ns.atimeNs, ns.mtimeNs)
      progress.add(1, 0)
    }
  }
}

/** A one-line progress bar (files, bytes, rate) on a terminal; silent otherwise. */
class Progress {
  done = { files: 0, bytes: 0 }
  private readonly out: NodeJS.WritableStream
  private readonly total: { files: number; bytes: number }
  private readonly started = Date.now()
  private lastDraw = 0
  private readonly tty: boolean

  constructor(out: NodeJS.WritableStream, total: { files: number; bytes: number }) {
    this.out = out
    this.total = total
    this.tty = (out as NodeJS.WriteStream).isTTY === true
  }

  add(files: number, bytes: number): void {
    this.done.files += files
    this.done.bytes += bytes
    const now = Date.now()
    if (this.tty && now - this.lastDraw > 100) {
      this.lastDraw = now
      this.draw()
    }
  }

  private draw(): void {
    const frac =
      this.total.bytes > 0 ? this.done.bytes / this.total.bytes : this.done.files / Math.max(1, this.total.files)
    const width = 30
    const filled = Math.round(Math.min(1, frac) * width)
    const secs = Math.max(0.001, (Date.now() - this.started) / 1000)
    const rate = this.done.bytes / MiB / secs
    this.out.write(
      `\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done.files}/${this.total.files} files, ` +
        `${(this.done.bytes / MiB).toFixed(1)}/${(this.total.bytes / MiB).toFixed(1)} MiB, ${rate.toFixed(1)} MiB/s`
    )
  }

  finish(): void {
    if (!this.tty) return
    this.draw()
    this.out.write('\n')
  }
}
