// bench-join-nat: how long a `peerstore mount` and a `peerstore serve` in a
// NATed home take to join a ring across NATs (issue 15), on the namespace
// topology of test/node/nat.test.ts (test/helpers/netns.ts): a public
// namespace with a 5-node DHT and one `peerstore serve`, and two homes, each
// behind its own NAT router with one `peerstore serve`. Root only.
//
//   node dist/scripts/bench-join-nat.js [--runs 5] [--firewall false]
//
// Each run uses a fresh home joined with the invite token, alternately in
// home 1 and home 2, and measures from spawning the process:
// - mount: until it prints "mounted", and until its `status` counts the 3
//   serve nodes as peers (one of them in the other home: a holepunched
//   connection);
// - serve: until its `status` counts the 3 others as peers.
// `--firewall false` gives the routers MASQUERADE alone (no stateful
// firewall), where holepunching between the homes fails (netns.ts says why).
// bench-join.ts gives the same figures on loopback.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import minimist from 'minimist'
import { nodeCommand } from '../test/helpers/cli'
import { type Home, natTopology, PUBLIC_ADDR } from '../test/helpers/netns'

const argv = minimist(process.argv.slice(2), { string: ['firewall'], default: { runs: 5, firewall: 'true' } })
const RUNS = Number(argv.runs)
const DHT = `${PUBLIC_ADDR}:49737`
const PEERS_TIMEOUT_MS = 60_000
/** How long a run waits for every peer (the homes never see each other without the routers' firewall). */
const ALL_PEERS_TIMEOUT_MS = argv.firewall === 'false' ? 20_000 : 60_000
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-join-nat-'))
const teardowns: (() => unknown)[] = []
const children = new Set<ChildProcess>()

function start(args: string[], netns: string, script?: string): { child: ChildProcess; output: () => string } {
  const cmd = nodeCommand(args, { netns, script })
  const child = spawn(cmd.file, cmd.argv, { stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  child.once('exit', () => children.delete(child))
  let out = ''
  child.stdout?.on('data', (d) => {
    out += d
  })
  child.stderr?.on('data', (d) => {
    out += d
  })
  return { child, output: () => out }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  await exited
  clearTimeout(timer)
}

function cli(args: string[]): string {
  const cmd = nodeCommand(args)
  const res = spawnSync(cmd.file, cmd.argv, { encoding: 'utf8' })
  if (res.status !== 0) throw new Error(`peerstore ${args.join(' ')}: ${res.stderr}`)
  return res.stdout
}

function peers(home: string): number {
  const cmd = nodeCommand(['status', '--home', home, '--json'])
  const res = spawnSync(cmd.file, cmd.argv, { encoding: 'utf8' })
  return res.status === 0 ? (JSON.parse(res.stdout) as { peers: number }).peers : 0
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(check: () => boolean, t0: number, timeoutMs: number): Promise<number | null> {
  while (Date.now() - t0 < timeoutMs) {
    if (check()) return Date.now() - t0
    await sleep(50)
  }
  return null
}

function summary(label: string, ms: (number | null)[]): string {
  const ok = ms.filter((m): m is number => m !== null).sort((a, b) => a - b)
  if (ok.length === 0) return `${label.padEnd(44)} none in ${ms.length} runs`
  const p50 = ok[Math.floor((ok.length - 1) / 2)]
  const all = ms.map((m) => (m === null ? 'never' : (m / 1000).toFixed(2))).join(', ')
  return `${label.padEnd(44)} p50 ${(p50 / 1000).toFixed(2)} s  max ${(ok[ok.length - 1] / 1000).toFixed(2)} s  (${all})`
}

async function main(): Promise<void> {
  const net = natTopology({ teardown: (fn) => teardowns.push(fn) }, { homes: 2, firewall: argv.firewall !== 'false' })
  const testnet = path.join(__dirname, '..', 'test', 'helpers', 'testnet-process.js')
  const dht = start(['--host', PUBLIC_ADDR, '--port', '49737', '--nodes', '5'], net.pub.ns, testnet)
  while (!dht.output().includes('testnet listening')) await sleep(50)

  const first = path.join(root, 'public')
  cli(['init', '--home', first, '--bootstrap', DHT])
  const token = cli(['invite', '--home', first]).trim()
  const newHome = (name: string) => {
    const home = path.join(root, name)
    cli(['join', '--home', home, token])
    return home
  }
  const serve = (home: string, at: { ns: string; addr: string }) =>
    start(['serve', '--home', home, '--host', at.addr], at.ns)
  const ringHomes = [first, newHome('serve1'), newHome('serve2')]
  const ring = [serve(first, net.pub), serve(ringHomes[1], net.homes[0]), serve(ringHomes[2], net.homes[1])]
  const t0 = Date.now()
  // Before its control socket exists, `status` would start a temporary node on the home and hold it.
  await until(() => ring.every((p) => p.output().includes('serving node')), t0, 60_000)
  const settled = await until(() => ringHomes.every((h) => peers(h) >= 2), t0, ALL_PEERS_TIMEOUT_MS)
  const seen = ringHomes.map(peers).join(', ')
  console.log(`3 serve nodes: all connected in ${settled === null ? 'never' : `${settled} ms`} (peers: ${seen})`)

  const mounted: (number | null)[] = []
  const mountFirst: (number | null)[] = []
  const mountPeers: (number | null)[] = []
  const serveFirst: (number | null)[] = []
  const servePeers: (number | null)[] = []
  const at = (i: number): Home => net.homes[i % 2]
  for (let i = 0; i < RUNS; i++) {
    const home = newHome(`mount${i}`)
    const dir = path.join(root, `mnt${i}`)
    fs.mkdirSync(dir)
    const t = Date.now()
    const p = start(['mount', dir, '--home', home, '--host', at(i).addr], at(i).ns)
    mounted.push(await until(() => p.output().includes('mounted'), t, PEERS_TIMEOUT_MS))
    mountFirst.push(await until(() => peers(home) >= 1, t, PEERS_TIMEOUT_MS))
    mountPeers.push(await until(() => peers(home) >= 3, t, ALL_PEERS_TIMEOUT_MS))
    await stop(p.child)
    spawnSync('fusermount', ['-uz', dir])
  }
  for (let i = 0; i < RUNS; i++) {
    const home = newHome(`join-serve${i}`)
    const t = Date.now()
    const p = serve(home, at(i))
    const seen: string[] = []
    await until(() => p.output().includes('serving node'), t, PEERS_TIMEOUT_MS)
    serveFirst.push(await until(() => peers(home) >= 1, t, PEERS_TIMEOUT_MS))
    servePeers.push(
      await until(
        () => {
          const n = peers(home)
          if (seen[seen.length - 1]?.endsWith(`:${n}`) !== true) seen.push(`${Date.now() - t}:${n}`)
          return n >= 3
        },
        t,
        ALL_PEERS_TIMEOUT_MS
      )
    )
    if (process.env.BENCH_JOIN_DEBUG) console.log(`serve run ${i}: peers at ms ${seen.join(' ')}\n${p.output()}`)
    await stop(p.child)
  }
  for (const p of ring) await stop(p.child)
  await stop(dht.child)

  console.log(`routers: MASQUERADE${argv.firewall === 'false' ? ' alone' : ' + stateful firewall'}`)
  console.log(summary('mount in a NATed home: mounted', mounted))
  console.log(summary('mount in a NATed home: sees a first peer', mountFirst))
  console.log(summary('mount in a NATed home: sees the 3 serve nodes', mountPeers))
  console.log(summary('serve in a NATed home: sees a first peer', serveFirst))
  console.log(summary('serve in a NATed home: sees the 3 others', servePeers))
}

async function cleanup(): Promise<void> {
  for (const c of children) c.kill('SIGKILL')
  for (const dir of fs.readdirSync(root)) {
    if (dir.startsWith('mnt')) spawnSync('fusermount', ['-uz', path.join(root, dir)])
  }
  for (const fn of teardowns.reverse()) await fn()
  fs.rmSync(root, { recursive: true, force: true })
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanup().finally(() => process.exit(130))
  })
}

main()
  .then(cleanup, async (err) => {
    console.error(err)
    await cleanup()
    process.exitCode = 1
  })
  .finally(() => process.exit())
