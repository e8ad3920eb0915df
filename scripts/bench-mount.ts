// bench-mount: the mount against the FUSE ceiling and the local disk.
//
//   node dist/scripts/bench-mount.js [--mib 1024] [--files 10000] [--no-drop-caches] [--no-ring]
//                                    [--only abc] [--mount-node-args '--cpu-prof --cpu-prof-dir=/tmp/prof']
//
// For (a) `peerstore mount` on the embedded one-node ring, (b) the mount as
// the third member of a loopback ring with 3 replicas (a `peerstore bootstrap`
// process and two `peerstore serve` processes on 127.0.0.1), (c) a plain
// local-disk directory and (d) a trivial in-memory fuse-native filesystem
// mounted with the same FUSE options (the ceiling for any FUSE filesystem in
// Node), it measures: sequential write of N MiB (`dd bs=1M conv=fsync`),
// sequential read after a remount (page cache dropped), creating small files
// and `ls -l` of their directory, and the peak RSS of the mount process.
// Every figure is also printed as a ratio to (d); (b)'s write and read also
// as a ratio to one raw hyperswarm connection measured in the same run.
//
// --only runs just the listed setups among (a), (b) and (c) ((d), the
// baseline of every ratio, always runs). --mount-node-args passes node flags to the peerstore mount processes of (a)
// and (b) (e.g. --cpu-prof, --trace-gc); PEERSTORE_CRYPTO_THREADS in the
// environment sets their crypto worker count (docs/volume.md).
//
// FUSE servers run as child processes (a FUSE server must not spawn the dd it
// serves); this script re-runs itself with --serve-memfs for (d).

import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { FuseOps } from 'fuse-native'
import minimist from 'minimist'
import { waitFor as waitUntil } from '../lib/common/retry'
import { mountAt } from '../lib/fuse/mount-process'
import { measureRawFanOut, spawnRawSink } from './lib/raw-bench'

const argv = minimist(process.argv.slice(2), {
  boolean: ['drop-caches', 'ring'],
  string: ['serve-memfs', 'mount-node-args', 'only'],
  default: { mib: 1024, files: 10000, 'drop-caches': true, ring: true, only: 'abc' }
})

/** Whether setup (a), (b) or (c) runs in this invocation. */
function runs(setup: 'a' | 'b' | 'c'): boolean {
  return String(argv.only).includes(setup) && (setup !== 'b' || argv.ring)
}

const PEERSTORE_BIN = path.join(__dirname, '..', 'bin', 'peerstore.js')
/** Node flags for the mount processes under test (profiling, GC tracing). */
const MOUNT_NODE_ARGS: string[] = argv['mount-node-args'] ? String(argv['mount-node-args']).split(/\s+/) : []

interface Figures {
  writeMBs: number
  readMBs: number
  createFilesPerSec: number
  lsFilesPerSec: number
  peakRssMB: number | null
  /** Peak private (anonymous) memory: RSS without file pages the store maps (LMDB), sampled. */
  peakAnonMB: number | null
}

function sh(cmd: string): { ms: number; out: string } {
  const t0 = process.hrtime.bigint()
  const res = spawnSync('bash', ['-c', cmd], { encoding: 'utf8', maxBuffer: 256 << 20 })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (res.status !== 0) throw new Error(`${cmd}: ${res.stderr}`)
  return { ms, out: res.stdout }
}

/** Like sh, but without blocking this process, so the RSS sampler keeps running. */
function shAsync(cmd: string): Promise<{ ms: number }> {
  const t0 = process.hrtime.bigint()
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', cmd], { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d) => {
      err += d
    })
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`${cmd}: ${err}`))
      else resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6 })
    })
  })
}

/** The mount point has a file system on it (/proc/self/mountinfo). */
const isMounted = (dir: string): boolean => mountAt(dir) !== null

/** Polls `cond` every few ms until it holds; throws ETIMEDOUT naming `what` after `ms`. */
async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  await waitUntil(cond, { timeoutMs: ms, intervalMs: 25, what, retryErrors: false })
}

function dropCaches(): void {
  if (!argv['drop-caches']) return
  try {
    spawnSync('sync')
    fs.writeFileSync('/proc/sys/vm/drop_caches', '3')
  } catch {}
}

/** Samples RssAnon of a process every 100 ms; returns a function giving the peak so far. */
function sampleAnon(pid: number | undefined): { peak(): number | null; stop(): void } {
  let peak: number | null = null
  const read = () => {
    if (!pid) return
    try {
      const m = /RssAnon:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
      if (m) peak = Math.max(peak ?? 0, Number(m[1]) / 1024)
    } catch {}
  }
  const timer = setInterval(read, 100)
  return {
    peak: () => {
      read()
      return peak
    },
    stop: () => clearInterval(timer)
  }
}

function peakRssMB(pid: number | undefined): number | null {
  if (!pid) return null
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : null
  } catch {
    return null
  }
}

interface Server {
  child: ChildProcess
  stop(): Promise<void>
}

async function startServer(cmd: string[], dir: string): Promise<Server> {
  const child = spawn(process.execPath, cmd, { stdio: ['ignore', 'ignore', 'inherit'] })
  await waitFor(() => isMounted(dir), 20_000, `mount of ${dir}`)
  return {
    child,
    async stop() {
      child.kill('SIGTERM')
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)))
      if (isMounted(dir)) spawnSync('fusermount', ['-uz', dir])
    }
  }
}

async function measure(
  label: string,
  dir: string,
  start: (() => Promise<Server>) | null,
  opts: { remountForRead: boolean; beforeWrite?: (server: Server | null) => void; afterWrite?: () => void }
): Promise<Figures> {
  const mib = Number(argv.mib)
  const files = Number(argv.files)
  let server = start ? await start() : null
  let anon = sampleAnon(server?.child.pid)
  let anonPeak = 0
  process.stderr.write(`${label}: write ${mib} MiB...\n`)
  opts.beforeWrite?.(server)
  const w = await shAsync(`dd if=/dev/zero of=${dir}/big bs=1M count=${mib} conv=fsync status=none`)
  opts.afterWrite?.()
  let rss = peakRssMB(server?.child.pid)
  if (server && opts.remountForRead) {
    anonPeak = Math.max(anonPeak, anon.peak() ?? 0)
    anon.stop()
    await server.stop()
    server = await start!()
    anon = sampleAnon(server.child.pid)
  }
  dropCaches()
  process.stderr.write(`${label}: read...\n`)
  const r = await shAsync(`dd if=${dir}/big of=/dev/null bs=1M status=none`)
  fs.mkdirSync(path.join(dir, 'small'))
  process.stderr.write(`${label}: ${files} small files...\n`)
  const payload = Buffer.alloc(100, 'x')
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < files; i++) fs.writeFileSync(path.join(dir, 'small', `file-${i}.txt`), payload)
  const createMs = Number(process.hrtime.bigint() - t0) / 1e6
  const ls = sh(`ls -l ${dir}/small | wc -l`)
  if (Number(ls.out.trim()) !== files + 1) throw new Error(`ls -l listed ${ls.out.trim()} lines`)
  rss = Math.max(rss ?? 0, peakRssMB(server?.child.pid) ?? 0) || null
  anonPeak = Math.max(anonPeak, anon.peak() ?? 0)
  anon.stop()
  if (server) await server.stop()
  return {
    writeMBs: (mib * 1.048576) / (w.ms / 1000),
    readMBs: (mib * 1.048576) / (r.ms / 1000),
    createFilesPerSec: files / (createMs / 1000),
    lsFilesPerSec: files / (ls.ms / 1000),
    peakRssMB: rss,
    peakAnonMB: server ? anonPeak : null
  }
}

/**
 * The node store alone, what (a)'s cold read stands on: `mib` values of 1 MiB
 * (a sealed chunk's size) written, the store closed, the page cache dropped,
 * the store reopened and every value read back as the mount reads chunks
 * (NodeStore.get, which prefetches on lmdb's threads, 16 at a time, copied
 * into reused buffers). LMDB reads through its memory map, and on this VM the
 * first touch of memory that was freed a while ago costs far more than later
 * touches (docs/fuse.md), so this shows what any read of the store pays.
 */
async function storeColdReadMBs(root: string): Promise<number> {
  const { NodeStore } = await import('../lib/storage')
  const { sha256 } = await import('../lib/crypto/hash')
  const dir = path.join(root, 'e-store')
  const mib = Number(argv.mib)
  const value = Buffer.alloc(2 ** 20 + 40, 7)
  const keys: Buffer[] = []
  let store = new NodeStore(dir)
  for (let i = 0; i < mib; i++) {
    value.writeUInt32BE(i, 0)
    const key = sha256(value)
    keys.push(key)
    await store.putImmutable(key, value)
  }
  await store.close()
  // As long as (a)'s remount takes, so that memory has aged alike.
  await new Promise((r) => setTimeout(r, 1500))
  dropCaches()
  store = new NodeStore(dir)
  const into = Array.from({ length: 16 }, () => Buffer.alloc(value.byteLength))
  const t0 = process.hrtime.bigint()
  let next = 0
  await Promise.all(
    into.map(async (buf) => {
      while (next < keys.length) {
        const got = await store.get(keys[next++], () => buf)
        if (!got) throw new Error('(e): a value is missing')
      }
    })
  )
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  await store.close()
  fs.rmSync(dir, { recursive: true, force: true })
  return (mib * 1.048576) / (ms / 1000)
}

/** Runs a `peerstore` command to completion; returns its stdout. */
function peerstore(args: string[]): string {
  const res = spawnSync(process.execPath, [PEERSTORE_BIN, ...args], { encoding: 'utf8' })
  if (res.status !== 0) throw new Error(`peerstore ${args.join(' ')}: ${res.stderr}`)
  return res.stdout
}

/** A long-running `peerstore` process, resolved once its output contains `ready`. */
async function daemon(args: string[], ready: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [PEERSTORE_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d) => {
    out += d
  })
  child.stderr!.on('data', (d) => {
    out += d
  })
  await waitFor(() => out.includes(ready) || child.exitCode !== null, 60_000, `peerstore ${args[0]}`)
  if (!out.includes(ready)) throw new Error(`peerstore ${args[0]} exited: ${out}`)
  return child
}

interface Ring {
  bootstrap: { host: string; port: number }
  serveHomes: string[]
  mountHome: string
  /** The bootstrap node's and the serve nodes' processes. */
  pids(): number[]
  stop(): Promise<void>
}

/** CPU ms (user + system) the processes have used so far, from /proc (clock ticks of 10 ms). */
function processCpuMs(pids: number[]): number {
  let ticks = 0
  for (const pid of pids) {
    try {
      // Fields after the command name, which may hold spaces: utime and stime are the 12th and 13th.
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {}
  }
  return ticks * 10
}

/** A running node's view from `peerstore status`: machines its successor lists name (itself included), bytes held. */
function nodeStatus(home: string): { ringMachines: number; bytes: number } {
  const res = spawnSync(process.execPath, [PEERSTORE_BIN, 'status', '--home', home, '--json'], { encoding: 'utf8' })
  if (res.status !== 0) return { ringMachines: 0, bytes: 0 }
  return JSON.parse(res.stdout) as { ringMachines: number; bytes: number }
}

/**
 * Waits until every home's node places all `machines` in its successor
 * lists. Machines that start together take a few seconds to merge into one
 * ring, and a write before that is acknowledged by the machines the writer
 * knows (repair copies it on later): (b) would measure a smaller ring.
 */
async function waitForMachines(homes: string[], machines: number): Promise<void> {
  await waitFor(
    () => homes.every((h) => nodeStatus(h).ringMachines >= machines),
    120_000,
    `a ring of ${machines} machines`
  )
}

/** A bootstrap node and two serve nodes on 127.0.0.1, and a home for the mount, all in one network (k = 3). */
async function startRing(root: string): Promise<Ring> {
  const port = 46_000 + Math.floor(Math.random() * 1000)
  const bootstrap = { host: '127.0.0.1', port }
  const children: ChildProcess[] = []
  const stop = async () => {
    for (const c of children) {
      if (c.exitCode === null) c.kill('SIGTERM')
      await new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))
    }
  }
  try {
    children.push(await daemon(['bootstrap', '--port', String(port), '--host', '127.0.0.1'], 'listening'))
    const homes = ['b-serve-0', 'b-serve-1', 'b-mount-home'].map((h) => path.join(root, h))
    peerstore(['init', '--home', homes[0], '--bootstrap', `127.0.0.1:${port}`, '--replicas', '3'])
    const token = peerstore(['invite', '--home', homes[0]]).trim()
    for (const home of homes.slice(1)) peerstore(['join', '--home', home, token])
    for (const home of homes.slice(0, 2)) children.push(await daemon(['serve', '--home', home], 'serving node'))
    await waitForMachines(homes.slice(0, 2), 2)
    const pids = () => children.map((c) => c.pid).filter((pid): pid is number => pid !== undefined)
    return { bootstrap, serveHomes: homes.slice(0, 2), mountHome: homes[2], pids, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

/** Attempts at the raw connection measurement (see rawConnectionMBs). */
const RAW_ATTEMPTS = 6

/**
 * Raw hyperswarm connections from this process to `sinks` sink processes on
 * the same DHT, the same bytes over each at once: with one sink the ceiling
 * for (b); with two, what the mount's two copies cost with no ring at all.
 * MB/s counts the bytes once.
 */
async function rawConnectionMBs(
  bootstrap: { host: string; port: number },
  sinks = 1
): Promise<{ mbPerSec: number; cpuMsPerMiB: number }> {
  // On the ring's one-node bootstrap DHT about half of these connections are
  // closed by hyperswarm mid-transfer ("connection closed"; with a 3-node
  // testnet they are not). Not understood yet; a fresh attempt measures.
  for (let attempt = 1; ; attempt++) {
    const started = await Promise.all(Array.from({ length: sinks }, () => spawnRawSink([bootstrap])))
    try {
      const sinksCpu = async () =>
        (await Promise.all(started.map((s) => s.cpu()))).reduce((a, u) => a + u.user + u.system, 0)
      const sinks0 = await sinksCpu()
      const self0 = process.cpuUsage()
      const r = await measureRawFanOut({
        bootstrap: [bootstrap],
        sinkPublicKeys: started.map((s) => s.publicKey),
        totalBytes: 256 << 20
      })
      const self = process.cpuUsage(self0)
      const cpuUs = self.user + self.system + (await sinksCpu()) - sinks0
      return { mbPerSec: r.mbPerSec, cpuMsPerMiB: cpuUs / 1000 / (r.bytes / 2 ** 20) }
    } catch (err) {
      if (attempt >= RAW_ATTEMPTS) throw err
      process.stderr.write(`(b): raw connection attempt ${attempt} failed (${(err as Error).message}); again\n`)
    } finally {
      await Promise.all(started.map((s) => s.close()))
    }
  }
}

function table(rows: [string, Figures][], ceiling: Figures): string {
  const fmt = (v: number | null, c: number | null) =>
    v === null ? '—' : `${v.toFixed(0)}${c ? ` (${(v / c).toFixed(2)}×)` : ''}`
  const lines = [
    '| setup | write MB/s | cold read MB/s | create files/s | ls -l files/s | peak RSS MB (private) |',
    '|---|---|---|---|---|---|'
  ]
  for (const [name, f] of rows) {
    lines.push(
      `| ${name} | ${fmt(f.writeMBs, ceiling.writeMBs)} | ${fmt(f.readMBs, ceiling.readMBs)} | ` +
        `${fmt(f.createFilesPerSec, ceiling.createFilesPerSec)} | ${fmt(f.lsFilesPerSec, ceiling.lsFilesPerSec)} | ` +
        `${f.peakRssMB === null ? '—' : f.peakRssMB.toFixed(0)} (${f.peakAnonMB === null ? '—' : f.peakAnonMB.toFixed(0)}) |`
    )
  }
  return lines.join('\n')
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'peerstore-bench-'))
  const cleanup = () => {
    for (const d of ['a-mnt', 'b-mnt', 'd-mnt']) {
      const p = path.join(root, d)
      if (fs.existsSync(p) && isMounted(p)) spawnSync('fusermount', ['-uz', p])
    }
    fs.rmSync(root, { recursive: true, force: true })
  }
  process.on('exit', cleanup)
  try {
    const dMnt = path.join(root, 'd-mnt')
    fs.mkdirSync(dMnt)
    const d = await measure(
      '(d) in-memory fuse-native',
      dMnt,
      () => startServer([__filename, '--serve-memfs', dMnt], dMnt),
      { remountForRead: false }
    )
    let a: Figures | null = null
    if (runs('a')) {
      const aMnt = path.join(root, 'a-mnt')
      fs.mkdirSync(aMnt)
      const aHome = path.join(root, 'a-home')
      a = await measure(
        '(a) peerstore mount, one-node store',
        aMnt,
        () => startServer([...MOUNT_NODE_ARGS, PEERSTORE_BIN, 'mount', aMnt, '--home', aHome], aMnt),
        { remountForRead: true }
      )
    }
    let storeRead: number | null = null
    if (runs('a')) {
      process.stderr.write('(e) the node store alone: cold read...\n')
      storeRead = await storeColdReadMBs(root)
    }
    let b: Figures | null = null
    let rawBefore = 0
    let rawAfter = 0
    let rawTwo = { mbPerSec: 0, cpuMsPerMiB: 0 }
    let rawOneCpu = 0
    /** CPU ms per MiB written of the mount, the bootstrap node and the two serve nodes. */
    let bWriteCpuMsPerMiB: number[] = []
    let bHeldMiB: number[] = []
    if (runs('b')) {
      const ring = await startRing(root)
      try {
        process.stderr.write('(b): raw hyperswarm connection...\n')
        const one = await rawConnectionMBs(ring.bootstrap)
        rawBefore = one.mbPerSec
        rawOneCpu = one.cpuMsPerMiB
        process.stderr.write('(b): the same bytes over two raw connections at once...\n')
        rawTwo = await rawConnectionMBs(ring.bootstrap, 2)
        let cpuAtWrite: number[] = []
        let writers: number[] = []
        const bMnt = path.join(root, 'b-mnt')
        fs.mkdirSync(bMnt)
        const homes = [...ring.serveHomes, ring.mountHome]
        b = await measure(
          '(b) peerstore mount, 3-node ring',
          bMnt,
          async () => {
            const server = await startServer(
              [...MOUNT_NODE_ARGS, PEERSTORE_BIN, 'mount', bMnt, '--home', ring.mountHome],
              bMnt
            )
            await waitForMachines(homes, 3)
            return server
          },
          {
            remountForRead: true,
            beforeWrite: (server) => {
              writers = [server?.child.pid ?? 0, ...ring.pids()]
              cpuAtWrite = writers.map((pid) => processCpuMs([pid]))
            },
            // What the k = 3 acknowledgement means: every machine holds the file when fsync returns.
            afterWrite: () => {
              bWriteCpuMsPerMiB = writers.map((pid, i) => (processCpuMs([pid]) - cpuAtWrite[i]) / Number(argv.mib))
              bHeldMiB = homes.map((h) => nodeStatus(h).bytes / 2 ** 20)
            }
          }
        )
        rawAfter = (await rawConnectionMBs(ring.bootstrap)).mbPerSec
      } finally {
        await ring.stop()
      }
    }
    let c: Figures | null = null
    if (runs('c')) {
      const cDir = path.join(root, 'c-local')
      fs.mkdirSync(cDir)
      c = await measure('(c) local disk', cDir, null, { remountForRead: false })
    }
    process.stdout.write(
      `\nbench-mount: ${argv.mib} MiB sequential, ${argv.files} small files, ${os.cpus().length} CPUs, ` +
        `page cache ${argv['drop-caches'] ? 'dropped before reads' : 'kept'}, ` +
        `crypto threads ${process.env.PEERSTORE_CRYPTO_THREADS ?? 'default'}, load average ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}\n\n`
    )
    process.stdout.write(
      `${table(
        (
          [
            ['(a) peerstore mount (1-node)', a],
            ['(b) peerstore mount (3-node ring, k=3)', b],
            ['(c) local disk', c],
            ['(d) in-memory FUSE ceiling', d]
          ] as [string, Figures | null][]
        ).filter((row): row is [string, Figures] => row[1] !== null),
        d
      )}\n`
    )
    if (a && storeRead !== null) {
      process.stdout.write(
        `\n(e) the node store alone (lmdb), ${argv.mib} values of 1 MiB read back cold as the mount reads chunks: ` +
          `${storeRead.toFixed(0)} MB/s (${(storeRead / d.readMBs).toFixed(2)}× (d)); (a) cold read is ${(a.readMBs / storeRead).toFixed(2)}× of it\n`
      )
    }
    if (b) {
      const raw = (rawBefore + rawAfter) / 2
      const bTotalCpu = bWriteCpuMsPerMiB.reduce((a, x) => a + x, 0)
      process.stdout.write(
        `\n(b) against one raw hyperswarm connection (${rawBefore.toFixed(0)} MB/s before, ${rawAfter.toFixed(0)} MB/s after, ` +
          `mean ${raw.toFixed(0)}): write ${(b.writeMBs / raw).toFixed(2)}×, cold read ${(b.readMBs / raw).toFixed(2)}×\n` +
          `(b) the same bytes over two raw connections at once, as the mount sends its two copies: ${rawTwo.mbPerSec.toFixed(0)} MB/s ` +
          `(${(rawTwo.mbPerSec / raw).toFixed(2)}× one connection); (b) write is ${(b.writeMBs / rawTwo.mbPerSec).toFixed(2)}× of it\n` +
          `CPU ms per MiB written, all processes: (b) ${bTotalCpu.toFixed(1)} ` +
          `(mount ${bWriteCpuMsPerMiB[0].toFixed(1)}, bootstrap ${bWriteCpuMsPerMiB[1].toFixed(1)}, ` +
          `serve nodes ${bWriteCpuMsPerMiB[2].toFixed(1)} and ${bWriteCpuMsPerMiB[3].toFixed(1)}); ` +
          `one raw connection ${rawOneCpu.toFixed(1)}; two at once ${rawTwo.cpuMsPerMiB.toFixed(1)}. ` +
          `${os.cpus().length} cores give ${os.cpus().length * 1000} ms per second, so CPU alone caps (b) write at ` +
          `${((os.cpus().length * 1000) / bTotalCpu).toFixed(0)} MiB/s and two raw connections at ` +
          `${((os.cpus().length * 1000) / rawTwo.cpuMsPerMiB).toFixed(0)} MiB/s\n` +
          `(b) MiB held by serve-0, serve-1 and the mount's node when dd's fsync returned: ${bHeldMiB.map((x) => x.toFixed(0)).join(', ')}\n`
      )
    }
    process.stdout.write(
      '\nRatios are to (d). (d) reads back without a remount (it keeps data in its own memory); ' +
        '(a) remounts before reading. Peak RSS is VmHWM, which counts the file pages a store maps ' +
        '(LMDB); (private) is the peak RssAnon sampled every 100 ms.\n'
    )
  } finally {
    cleanup()
  }
}

/** (d): the simplest fuse-native filesystem that dd, small files and ls -l need. */
async function serveMemfs(mnt: string): Promise<void> {
  const { TunedFuse } = await import('../lib/fuse/tuned-fuse')
  // File data in 1 MiB pages: no reallocation as a file grows, so the ceiling is FUSE's, not memcpy's.
  const PAGE = 1 << 20
  type Node = { dir: boolean; pages: Buffer[]; size: number; mode: number; mtime: number; children?: Set<string> }
  const nodes = new Map<string, Node>([
    ['/', { dir: true, pages: [], size: 0, mode: 0o40755, mtime: Date.now(), children: new Set() }]
  ])
  const parent = (p: string) => path.posix.dirname(p)
  const ENOENT = -2
  const stat = (n: Node) => ({
    mode: n.mode,
    uid: 0,
    gid: 0,
    size: n.dir ? 4096 : n.size,
    nlink: 1,
    atime: n.mtime,
    mtime: n.mtime,
    ctime: n.mtime
  })
  const add = (p: string, node: Node) => {
    nodes.set(p, node)
    nodes.get(parent(p))?.children?.add(path.posix.basename(p))
  }
  const ops = {
    getattr: (p: string, cb: (c: number, s?: unknown) => void) => {
      const n = nodes.get(p)
      n ? cb(0, stat(n)) : cb(ENOENT)
    },
    readdir: (p: string, cb: (c: number, names?: string[]) => void) => {
      const n = nodes.get(p)
      n?.children ? cb(0, [...n.children]) : cb(ENOENT)
    },
    open: (p: string, _f: number, cb: (c: number, fh?: number) => void) => (nodes.has(p) ? cb(0, 1) : cb(ENOENT)),
    create: (p: string, mode: number, cb: (c: number, fh?: number) => void) => {
      add(p, { dir: false, pages: [], size: 0, mode, mtime: Date.now() })
      cb(0, 1)
    },
    mkdir: (p: string, mode: number, cb: (c: number) => void) => {
      add(p, {
        dir: true,
        pages: [],
        size: 0,
        mode: 0o40000 | mode,
        mtime: Date.now(),
        children: new Set()
      })
      cb(0)
    },
    write: (p: string, _fh: number, buf: Buffer, len: number, pos: number, cb: (n: number) => void) => {
      const n = nodes.get(p)
      if (!n) return cb(ENOENT)
      for (let done = 0; done < len; ) {
        const at = pos + done
        const page = Math.floor(at / PAGE)
        while (n.pages.length <= page) n.pages.push(Buffer.alloc(PAGE))
        const n2 = Math.min(len - done, PAGE - (at % PAGE))
        buf.copy(n.pages[page], at % PAGE, done, done + n2)
        done += n2
      }
      n.size = Math.max(n.size, pos + len)
      cb(len)
    },
    read: (p: string, _fh: number, buf: Buffer, len: number, pos: number, cb: (n: number) => void) => {
      const n = nodes.get(p)
      if (!n) return cb(ENOENT)
      const end = Math.min(n.size, pos + len)
      if (end <= pos) return cb(0)
      for (let at = pos; at < end; ) {
        const page = Math.floor(at / PAGE)
        const n2 = Math.min(end - at, PAGE - (at % PAGE))
        n.pages[page].copy(buf, at - pos, at % PAGE, (at % PAGE) + n2)
        at += n2
      }
      cb(end - pos)
    },
    truncate: (p: string, size: number, cb: (c: number) => void) => {
      const n = nodes.get(p)
      if (!n) return cb(ENOENT)
      n.size = Math.min(size, n.size)
      cb(0)
    },
    utimens: (_p: string, _a: number, _m: number, cb: (c: number) => void) => cb(0),
    chmod: (_p: string, _m: number, cb: (c: number) => void) => cb(0),
    chown: (_p: string, _u: number, _g: number, cb: (c: number) => void) => cb(0),
    flush: (_p: string, _fh: number, cb: (c: number) => void) => cb(0),
    fsync: (_p: string, _d: unknown, _fh: number, cb: (c: number) => void) => cb(0),
    release: (_p: string, _fh: number, cb: (c: number) => void) => cb(0),
    unlink: (p: string, cb: (c: number) => void) => {
      nodes.delete(p)
      nodes.get(parent(p))?.children?.delete(path.posix.basename(p))
      cb(0)
    }
  }
  const fuse = new TunedFuse(mnt, ops as unknown as FuseOps, {
    force: true,
    autoUnmount: true,
    autoCache: true,
    attrTimeout: 1,
    entryTimeout: 1
  })
  await new Promise<void>((resolve, reject) => fuse.mount((err) => (err ? reject(err) : resolve())))
  const stop = () => fuse.unmount(() => process.exit(0))
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  setInterval(() => {}, 1 << 30)
}

if (argv['serve-memfs']) {
  serveMemfs(argv['serve-memfs']).catch((err) => {
    process.stderr.write(`memfs: ${err.stack}\n`)
    process.exit(1)
  })
} else {
  main().catch((err) => {
    process.stderr.write(`bench-mount: ${err.stack}\n`)
    process.exitCode = 1
  })
}
