// bench-join: how long a `peerstore serve` and a `peerstore mount` take to
// join a running ring of 4 `peerstore serve` processes on 127.0.0.1 (issue 15:
// "under 5 s on loopback"), against a raw hyperswarm pair connecting over the
// same bootstrap in the same run (a client swarm's joinPeer to a sink in
// another process: the floor any join stands on).
//
//   node dist/scripts/bench-join.js [--runs 5] [--mode private|dht] [--bin dist/bin/peerstore.js]
//
// --mode private (the default): the homes name a `peerstore bootstrap` process
// (init --bootstrap). --mode dht: the homes are joined with a token without
// bootstrap addresses and find each other on a testnet DHT of 5 nodes in a
// process of its own (PEERSTORE_DHT_BOOTSTRAP), standing in for the public DHT.
//
// Measured, each `--runs` times with a fresh home (joined with the invite token):
// - serve: from spawning `peerstore serve` until its `status` names another
//   machine among its successors (ringMachines > 1: merged into the ring);
// - mount: from spawning `peerstore mount` until it prints "mounted" (a
//   networked mount waits for the ring before mounting, up to 15 s, then goes
//   on alone: such a run is counted as "alone");
// - return: a serve home that has been in the ring, restarted after the
//   bootstrap process (or the testnet) restarted, which then holds no
//   announcement, until merged again.
// --bin runs another build's CLI (e.g. main's, for a before/after figure).
// Figures on a shared 2-vCPU box drift: compare them with the raw pair's.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import minimist from 'minimist'
import { connectRaw, spawnRawSink } from './lib/raw-bench'
import { spawnTestnet } from './lib/testnet-child'

const argv = minimist(process.argv.slice(2), {
  string: ['bin', 'mode'],
  default: { runs: 5, mode: 'private', bin: path.join(__dirname, '..', 'bin', 'peerstore.js') }
})
const MODE = String(argv.mode)
if (MODE !== 'private' && MODE !== 'dht') throw new Error('--mode is private or dht')
const BIN = path.resolve(String(argv.bin))
const RUNS = Number(argv.runs)
const HOST = '127.0.0.1'
const PORT = 43_000 + Math.floor(Math.random() * 1000)
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-join-'))
const children = new Set<ChildProcess>()
/** The environment of every `peerstore` child: in DHT mode, the testnet's address. */
const env: NodeJS.ProcessEnv = { ...process.env }

/** The DHT the homes find each other on: a bootstrap process, or a testnet; restartable at the same address. */
async function startDht(): Promise<{ bootstrap: string; stop(): Promise<void> }> {
  if (MODE === 'dht') {
    const testnet = await spawnTestnet(5, PORT)
    env.PEERSTORE_DHT_BOOTSTRAP = testnet.bootstrap
    return { bootstrap: testnet.bootstrap, stop: () => testnet.close() }
  }
  const boot = start(['bootstrap', '--port', String(PORT), '--host', HOST])
  await boot.waitFor('listening on', 10_000)
  return { bootstrap: `${HOST}:${PORT}`, stop: () => boot.stop() }
}

interface Proc {
  child: ChildProcess
  output(): string
  waitFor(text: string, timeoutMs: number): Promise<boolean>
  stop(): Promise<void>
}

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env })
  children.add(child)
  let out = ''
  child.stdout?.on('data', (d) => {
    out += d
  })
  child.stderr?.on('data', (d) => {
    out += d
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  exited.then(() => children.delete(child))
  return {
    child,
    output: () => out,
    async waitFor(text, timeoutMs) {
      const end = Date.now() + timeoutMs
      while (Date.now() < end && child.exitCode === null) {
        if (out.includes(text)) return true
        await sleep(20)
      }
      return out.includes(text)
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(timer)
    }
  }
}

function cli(args: string[]): string {
  const res = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env })
  if (res.status !== 0) throw new Error(`peerstore ${args.join(' ')}: ${res.stderr}`)
  return res.stdout
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function ringMachines(home: string): number {
  const res = spawnSync(process.execPath, [BIN, 'status', '--home', home, '--json'], { encoding: 'utf8', env })
  if (res.status !== 0) return 0
  return (JSON.parse(res.stdout) as { ringMachines: number }).ringMachines
}

/** Ms from `t0` until the node of `home` is in a ring with another machine, or null after `timeoutMs`. */
async function untilMerged(home: string, t0: number, timeoutMs: number): Promise<number | null> {
  while (Date.now() - t0 < timeoutMs) {
    if (ringMachines(home) > 1) return Date.now() - t0
    await sleep(100)
  }
  return null
}

function newHome(name: string, token: string): string {
  const home = path.join(root, name)
  cli(['join', '--home', home, token])
  return home
}

function summary(label: string, ms: (number | null)[]): string {
  const ok = ms.filter((m): m is number => m !== null).sort((a, b) => a - b)
  const failed = ms.length - ok.length
  if (ok.length === 0) return `${label.padEnd(34)} no run joined (${failed} of ${ms.length})`
  const p50 = ok[Math.floor((ok.length - 1) / 2)]
  return `${label.padEnd(34)} p50 ${(p50 / 1000).toFixed(2)} s  max ${(ok[ok.length - 1] / 1000).toFixed(2)} s  (${ms.map((m) => (m === null ? 'alone' : (m / 1000).toFixed(2))).join(', ')})`
}

async function main(): Promise<void> {
  let dht = await startDht()
  const first = path.join(root, 'serve0')
  // DHT mode: a fresh home is alone, and its first invite switches it to the DHT.
  cli(['init', '--home', first, ...(MODE === 'dht' ? [] : ['--bootstrap', dht.bootstrap])])
  const token = cli(['invite', '--home', first]).trim()
  const serveHomes = [first, ...[1, 2, 3].map((i) => newHome(`serve${i}`, token))]
  const serve = (home: string) => start(['serve', '--home', home, '--host', HOST])
  const ring = serveHomes.map(serve)
  for (const s of ring) await s.waitFor('serving node', 60_000)
  const settled = Date.now()
  while (serveHomes.some((h) => ringMachines(h) < 4) && Date.now() - settled < 120_000) await sleep(500)
  console.log(
    `ring of 4 serve processes settled in ${((Date.now() - settled) / 1000).toFixed(1)} s (${BIN}, ${MODE} discovery)`
  )

  const bootstrap = [{ host: HOST, port: Number(dht.bootstrap.split(':')[1]) }]
  const sink = await spawnRawSink(bootstrap)
  const raw: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const t0 = Date.now()
    const { close } = await connectRaw(bootstrap, sink.publicKey)
    raw.push(Date.now() - t0)
    await close()
  }
  await sink.close()

  const serves: (number | null)[] = []
  for (let i = 0; i < RUNS; i++) {
    const home = newHome(`join-serve${i}`, token)
    const t0 = Date.now()
    const p = serve(home)
    // Before its control socket exists, `status` would start a temporary node of its own on the home.
    await p.waitFor('serving node', 60_000)
    const ms = await untilMerged(home, t0, 60_000)
    serves.push(ms)
    if (process.env.BENCH_JOIN_DEBUG && (ms ?? 60_000) > 5_000) {
      console.log(`slow serve join, spawned ${new Date(t0).toISOString()}:\n${p.output()}`)
    }
    await p.stop()
  }

  const mounts: (number | null)[] = []
  for (let i = 0; i < RUNS; i++) {
    const home = newHome(`join-mount${i}`, token)
    const dir = path.join(root, `mnt${i}`)
    fs.mkdirSync(dir)
    const t0 = Date.now()
    const p = start(['mount', dir, '--home', home, '--host', HOST])
    const mounted = await p.waitFor('mounted', 60_000)
    const t = Date.now() - t0
    mounts.push(mounted && !p.output().includes('working alone') ? t : null)
    if (process.env.BENCH_JOIN_DEBUG && t > 5_000)
      console.log(`slow mount, spawned ${new Date(t0).toISOString()}:\n${p.output()}`)
    await p.stop()
    spawnSync('fusermount', ['-uz', dir])
  }

  // A member returning behind a restarted bootstrap (the 5 minutes alone).
  const returns: (number | null)[] = []
  for (let i = 0; i < Math.min(RUNS, 3); i++) {
    await ring[3].stop()
    await dht.stop()
    dht = await startDht()
    const t0 = Date.now()
    ring[3] = serve(serveHomes[3])
    await ring[3].waitFor('serving node', 60_000)
    returns.push(await untilMerged(serveHomes[3], t0, 60_000))
    if (process.env.BENCH_JOIN_DEBUG) console.log(`spawned ${new Date(t0).toISOString()}\n${ring[3].output()}`)
  }

  console.log(summary('raw hyperswarm pair connects', raw))
  console.log(summary('serve joins the ring', serves))
  console.log(summary('mount joins the ring (mounted)', mounts))
  console.log(summary(`serve returns, ${MODE === 'dht' ? 'DHT' : 'bootstrap'} restarted`, returns))
}

async function cleanup(): Promise<void> {
  for (const c of children) c.kill('SIGKILL')
  for (const dir of fs.readdirSync(root)) {
    if (dir.startsWith('mnt')) spawnSync('fusermount', ['-uz', path.join(root, dir)])
  }
  fs.rmSync(root, { recursive: true, force: true })
}

main()
  .then(cleanup, async (err) => {
    console.error(err)
    await cleanup()
    process.exitCode = 1
  })
  .finally(() => process.exit())
