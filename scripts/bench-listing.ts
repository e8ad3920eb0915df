// bench-listing: listing a big directory of the mount against the same
// listing of a plain local directory, measured in the same run.
//
//   node dist/scripts/bench-listing.js [--files 10000] [--no-drop-caches] [--no-stats]
//                                      ['--mount-node-args=--cpu-prof --cpu-prof-dir=/tmp/prof']
//
// (a) `peerstore mount` as a user starts it (the embedded one-node default, a
// fresh home): create N small files in one directory, unmount, mount again,
// drop the page cache (`echo 3 > /proc/sys/vm/drop_caches`, as root), then
// time a cold `ls -l`, a warm `ls -l` right after it, and `ls` (names only);
// then a second remount and a cold `ls` alone (readdir without the stats).
// (c) a plain local directory under /tmp: the same files, the same listings
// after the same drop of the page cache. Every figure is printed with its
// ratio to (c).
//
// With stats on (the default) the mount runs with PEERSTORE_FUSE_STATS=1 and
// the per-op counts of each mount session are printed (what the kernel asked
// and how long the answers took): the budget in docs/benchmarks.md comes
// from them. --mount-node-args passes node flags to the mount processes
// (e.g. --cpu-prof); give it with `=`, as above, or minimist takes a value
// that starts with `--` for a flag of its own. The mount is a child process:
// a FUSE server must not spawn the `ls` it serves.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import minimist from 'minimist'
import { waitFor as waitUntil } from '../lib/common/retry'
import { mountAt } from '../lib/fuse/mount-process'

const argv = minimist(process.argv.slice(2), {
  boolean: ['drop-caches', 'stats'],
  string: ['mount-node-args'],
  default: { files: 10000, 'drop-caches': true, stats: true }
})

const PEERSTORE_BIN = path.join(__dirname, '..', 'bin', 'peerstore.js')
const MOUNT_NODE_ARGS: string[] = argv['mount-node-args'] ? String(argv['mount-node-args']).split(/\s+/) : []
const FILES = Number(argv.files)

interface Figures {
  createMs: number
  coldLsLongMs: number
  warmLsLongMs: number
  lsMs: number
  coldLsMs: number
  /** The mount's start (process start to mounted) before the cold listing. */
  remountMs: number | null
}

/** Runs a shell command to completion, timed; throws on failure. */
function timed(cmd: string): { ms: number; out: string } {
  const t0 = process.hrtime.bigint()
  const res = spawnSync('bash', ['-c', cmd], { encoding: 'utf8', maxBuffer: 256 << 20 })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (res.status !== 0) throw new Error(`${cmd}: ${res.stderr}`)
  return { ms, out: res.stdout }
}

/** Times a listing and checks it saw every file. */
function list(cmd: string, dir: string): number {
  const r = timed(`${cmd} ${dir} | wc -l`)
  const expected = cmd.includes('-l') ? FILES + 1 : FILES
  if (Number(r.out.trim()) !== expected) throw new Error(`${cmd} listed ${r.out.trim()} lines, not ${expected}`)
  return r.ms
}

function dropCaches(): void {
  if (!argv['drop-caches']) return
  spawnSync('sync')
  try {
    fs.writeFileSync('/proc/sys/vm/drop_caches', '3')
  } catch (err) {
    process.stderr.write(`bench-listing: cannot drop caches (${(err as Error).message}); figures are warm\n`)
  }
}

/** The mount point has a file system on it (/proc/self/mountinfo). */
const isMounted = (dir: string): boolean => mountAt(dir) !== null

/** Polls `cond` every few ms until it holds; throws ETIMEDOUT naming `what` after `ms`. */
async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  await waitUntil(cond, { timeoutMs: ms, intervalMs: 20, what, retryErrors: false })
}

interface MountProcess {
  child: ChildProcess
  startMs: number
  /** SIGTERM (flush, unmount); resolves with what the process printed. */
  stop(): Promise<string>
}

async function startMount(dir: string, home: string): Promise<MountProcess> {
  const t0 = process.hrtime.bigint()
  const env = { ...process.env, ...(argv.stats ? { PEERSTORE_FUSE_STATS: '1' } : {}) }
  const child = spawn(process.execPath, [...MOUNT_NODE_ARGS, PEERSTORE_BIN, 'mount', dir, '--home', home], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env
  })
  let out = ''
  child.stdout!.on('data', (d) => {
    out += d
  })
  child.stderr!.on('data', (d) => {
    out += d
  })
  await waitFor(
    () => (isMounted(dir) && out.includes('peerstore: mounted')) || child.exitCode !== null,
    60_000,
    `mount of ${dir}`
  )
  if (child.exitCode !== null) throw new Error(`peerstore mount exited: ${out}`)
  const startMs = Number(process.hrtime.bigint() - t0) / 1e6
  return {
    child,
    startMs,
    async stop() {
      child.kill('SIGTERM')
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)))
      if (isMounted(dir)) spawnSync('fusermount', ['-uz', dir])
      return out
    }
  }
}

/** The mount's per-op counts (PEERSTORE_FUSE_STATS), as printed at unmount. */
function opStats(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('fuse-stats '))
    .map((l) => l.slice('fuse-stats '.length))
}

/** N small files (100 bytes each, as bench-mount's) in `dir`; returns the ms it took. */
function createFiles(dir: string): number {
  fs.mkdirSync(dir)
  const payload = Buffer.alloc(100, 'x')
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < FILES; i++) fs.writeFileSync(path.join(dir, `file-${i}.txt`), payload)
  return Number(process.hrtime.bigint() - t0) / 1e6
}

/** Cold `ls -l`, warm `ls -l`, `ls`, in that order, after dropping the page cache. */
function listings(dir: string): Pick<Figures, 'coldLsLongMs' | 'warmLsLongMs' | 'lsMs'> {
  dropCaches()
  const coldLsLongMs = list('ls -l', dir)
  const warmLsLongMs = list('ls -l', dir)
  const lsMs = list('ls', dir)
  return { coldLsLongMs, warmLsLongMs, lsMs }
}

async function measureMount(root: string): Promise<{ figures: Figures; stats: [string, string[]][] }> {
  const mnt = path.join(root, 'a-mnt')
  const home = path.join(root, 'a-home')
  fs.mkdirSync(mnt)
  const stats: [string, string[]][] = []
  let m = await startMount(mnt, home)
  process.stderr.write(`(a): creating ${FILES} files...\n`)
  const createMs = createFiles(path.join(mnt, 'many'))
  stats.push(['create', opStats(await m.stop())])
  m = await startMount(mnt, home)
  const remountMs = m.startMs
  process.stderr.write('(a): listing after a remount...\n')
  const l = listings(path.join(mnt, 'many'))
  stats.push(['cold ls -l, warm ls -l, ls', opStats(await m.stop())])
  m = await startMount(mnt, home)
  dropCaches()
  process.stderr.write('(a): ls alone after a remount...\n')
  const coldLsMs = list('ls', path.join(mnt, 'many'))
  stats.push(['cold ls', opStats(await m.stop())])
  return { figures: { createMs, ...l, coldLsMs, remountMs }, stats }
}

function measureLocal(root: string): Figures {
  const dir = path.join(root, 'c-local')
  process.stderr.write(`(c): creating ${FILES} files...\n`)
  const createMs = createFiles(dir)
  const l = listings(dir)
  dropCaches()
  const coldLsMs = list('ls', dir)
  return { createMs, ...l, coldLsMs, remountMs: null }
}

function table(rows: [string, Figures][], base: Figures): string {
  const cell = (v: number, b: number) => `${(v / 1000).toFixed(2)} s (${(v / b).toFixed(1)}×)`
  const lines = [
    `| setup | create ${FILES} | cold ls -l | warm ls -l | ls | cold ls | mount start |`,
    '|---|---|---|---|---|---|---|'
  ]
  for (const [name, f] of rows) {
    lines.push(
      `| ${name} | ${cell(f.createMs, base.createMs)} | ${cell(f.coldLsLongMs, base.coldLsLongMs)} | ` +
        `${cell(f.warmLsLongMs, base.warmLsLongMs)} | ${cell(f.lsMs, base.lsMs)} | ${cell(f.coldLsMs, base.coldLsMs)} | ` +
        `${f.remountMs === null ? '—' : `${(f.remountMs / 1000).toFixed(2)} s`} |`
    )
  }
  return lines.join('\n')
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'peerstore-bench-listing-'))
  const cleanup = () => {
    const mnt = path.join(root, 'a-mnt')
    if (fs.existsSync(mnt) && isMounted(mnt)) spawnSync('fusermount', ['-uz', mnt])
    fs.rmSync(root, { recursive: true, force: true })
  }
  process.on('exit', cleanup)
  try {
    const c = measureLocal(root)
    const a = await measureMount(root)
    process.stdout.write(
      `\nbench-listing: ${FILES} files of 100 bytes in one directory, ${os.cpus().length} CPUs, ` +
        `page cache ${argv['drop-caches'] ? 'dropped before each cold listing' : 'kept'}, load average ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}\n\n`
    )
    process.stdout.write(
      `${table(
        [
          ['(a) peerstore mount (1-node), after a remount', a.figures],
          ['(c) local directory', c]
        ],
        c
      )}\n\nRatios are to (c). Cold: right after a remount of (a) and a drop of the page cache; ` +
        'warm: the same listing again at once.\n'
    )
    if (argv.stats) {
      for (const [phase, lines] of a.stats) {
        process.stdout.write(`\n(a) FUSE ops, session "${phase}":\n${lines.map((l) => `  ${l}`).join('\n')}\n`)
      }
    }
  } finally {
    cleanup()
  }
}

main().catch((err) => {
  process.stderr.write(`bench-listing: ${err.stack}\n`)
  process.exitCode = 1
})
