// Ring benchmark on loopback: a 5-node Chord ring (replicas 3) against one raw
// hyperswarm connection measured in the same run, printed as ratios to raw.
//
//   npm run build && node dist/scripts/bench-ring.js [--values 64] [--inproc] [--json]
//
// A 3-node @hyperswarm/testnet on 127.0.0.1 runs here, with node 0 (the one
// whose client is measured). Nodes 1–4 run in a child process (this same file
// with --child), so that the measuring side has its own JS thread; --inproc
// runs all five here. The raw sink runs in its own child (spawnRawSink).
// Every socket is bound to 127.0.0.1. Figures on a shared 2-vCPU box vary by
// ±15 %: compare ratios.

import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import createTestnet from '@hyperswarm/testnet'
import minimist from 'minimist'
import { randomBytes } from '../lib/crypto/keys'
import type { NodeConfig } from '../lib/node/config'
import { RingNode } from '../lib/node/ring-node'
import {
  type LatencyResult,
  measureLatency,
  measureRawLatency,
  measureRawThroughput,
  spawnRawSink,
  type ThroughputResult
} from '../lib/net/raw-bench'
import type { HostPort } from '../lib/net/peer-network'

const MiB = 1024 * 1024
const HOST = '127.0.0.1'
const REPLICAS = 3
const NODES = 5
/** Fast Chord timers so the ring settles in seconds (as in test/helpers/ring.ts). */
const FAST_CHORD = { stabilizeMs: 250, healMs: 1000, rpcTimeoutMs: 3000, virtualNodes: 4 }
const TARGET_RATIO = 0.5

interface VState {
  id: string
  succ: string | null
  pred: string | null
}

function startNode(config: NodeConfig, homes: string[]): RingNode {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'peerstore-bench-ring-'))
  homes.push(home)
  return new RingNode({ home, config, host: HOST, chord: FAST_CHORD })
}

function vstate(nodes: RingNode[]): VState[] {
  return nodes
    .filter((n) => n.chord.isMember && !n.chord.isClosed)
    .flatMap((n) =>
      n.chord.vnodes.map((v) => ({
        id: v.id.toString(16),
        succ: v.successors[0]?.id.toString(16) ?? null,
        pred: v.predecessor?.id.toString(16) ?? null
      }))
    )
}

/** Every vnode's successor and predecessor are its neighbours among all vnodes of the ring. */
function consistent(states: VState[], expectedVnodes: number): boolean {
  if (states.length !== expectedVnodes) return false
  const ids = states.map((s) => BigInt(`0x${s.id}`)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const hex = ids.map((i) => i.toString(16))
  for (const s of states) {
    const i = hex.indexOf(s.id)
    if (s.succ !== hex[(i + 1) % hex.length] || s.pred !== hex[(i - 1 + hex.length) % hex.length]) return false
  }
  return true
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 90_000): Promise<number> {
  const started = Date.now()
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return Date.now() - started
}

/** The other ring nodes: here (--inproc) or in a child process. */
interface Others {
  where: string
  state(): Promise<VState[]>
  close(): Promise<void>
}

async function othersInProcess(config: NodeConfig, n: number, homes: string[]): Promise<Others> {
  const nodes: RingNode[] = []
  for (let i = 0; i < n; i++) {
    const node = startNode(config, homes)
    nodes.push(node)
    await node.ready()
  }
  return {
    where: `all ${n + 1} ring nodes in the benchmark process`,
    state: async () => vstate(nodes),
    close: async () => {
      await Promise.allSettled(nodes.map((x) => x.destroy()))
    }
  }
}

async function othersInChild(config: NodeConfig, n: number): Promise<Others> {
  const child = spawn(
    process.execPath,
    [__filename, '--child', JSON.stringify(config.bootstrap), config.networkKey.toString('hex'), String(n)],
    { stdio: ['pipe', 'pipe', 'inherit'] }
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const lines: string[] = []
  const waiting: { resolve: (line: string) => void; reject: (err: Error) => void }[] = []
  let exitError: Error | null = null
  readline.createInterface({ input: child.stdout! }).on('line', (l) => {
    const w = waiting.shift()
    if (w) w.resolve(l)
    else lines.push(l)
  })
  child.once('exit', (code) => {
    exitError = new Error(`ring child exited with code ${code}`)
    for (const w of waiting.splice(0)) w.reject(exitError)
  })
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      const l = lines.shift()
      if (l !== undefined) return resolve(l)
      if (exitError) return reject(exitError)
      waiting.push({ resolve, reject })
    })
  const close = async () => {
    child.stdin!.end() // the child closes its nodes and exits when its stdin closes
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    await exited
    clearTimeout(timer)
  }
  try {
    await nextLine() // {"ready":true}
  } catch (err) {
    await close()
    throw err
  }
  return {
    where: `node 0 (measured client) in the benchmark process, nodes 1–${n} in one child process`,
    async state() {
      child.stdin!.write('state\n')
      return JSON.parse(await nextLine()) as VState[]
    },
    close
  }
}

/** --child: runs `n` ring nodes; answers "state" lines on stdin; closes them when stdin ends. */
async function childMain(argv: string[]) {
  const bootstrap = JSON.parse(argv[0]) as HostPort[]
  const config: NodeConfig = { networkKey: Buffer.from(argv[1], 'hex'), bootstrap, replicas: REPLICAS }
  const homes: string[] = []
  const nodes: RingNode[] = []
  for (let i = 0; i < Number(argv[2]); i++) {
    const node = startNode(config, homes)
    nodes.push(node)
    await node.ready()
  }
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`)
  const rl = readline.createInterface({ input: process.stdin })
  rl.on('line', (l) => {
    if (l.trim() === 'state') process.stdout.write(`${JSON.stringify(vstate(nodes))}\n`)
  })
  await new Promise<void>((resolve) => rl.once('close', () => resolve()))
  await Promise.allSettled(nodes.map((x) => x.destroy()))
  for (const h of homes) fs.rmSync(h, { recursive: true, force: true })
}

async function throughput(bytes: number, run: () => Promise<unknown>): Promise<ThroughputResult> {
  const started = process.hrtime.bigint()
  await run()
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  return { bytes, ms, mbPerSec: bytes / 1e6 / (ms / 1000) }
}

/** Runs task(0..n-1) with at most `window` in flight. */
async function inParallel(n: number, window: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < n) await task(next++)
  }
  await Promise.all(Array.from({ length: window }, worker))
}

async function main() {
  const argv = minimist(process.argv.slice(2), {
    boolean: ['json', 'inproc'],
    default: { values: 64, count: 1000, 'raw-mib': 128 }
  })
  const values = Number(argv.values)
  const count = Number(argv.count)
  const rawMiB = Number(argv['raw-mib'])
  const log = (s: string) => argv.json || process.stderr.write(`${s}\n`)

  const testnet = await createTestnet(3, { host: HOST })
  const bootstrap = testnet.bootstrap
  const config: NodeConfig = { networkKey: randomBytes(32), bootstrap, replicas: REPLICAS }
  const homes: string[] = []
  let others: Others | null = null
  let node0: RingNode | null = null
  let sink: Awaited<ReturnType<typeof spawnRawSink>> | null = null
  try {
    log(`starting a ${NODES}-node ring on 127.0.0.1 (replicas ${REPLICAS}) …`)
    others = argv.inproc ? await othersInProcess(config, NODES - 1, homes) : await othersInChild(config, NODES - 1)
    node0 = startNode(config, homes)
    await node0.ready()
    const n0 = node0
    const o = others
    const settleMs = await waitFor('a consistent ring', async () =>
      consistent([...vstate([n0]), ...(await o.state())], NODES * FAST_CHORD.virtualNodes)
    )
    log(`ring consistent after ${settleMs} ms`)
    sink = await spawnRawSink(bootstrap)
    const sinkPublicKey = sink.publicKey
    const client = n0.client

    // Small values whose replicas are all on other nodes, so every get crosses the network.
    const tiny: Buffer[] = []
    while (tiny.length < 32) {
      const key = await client.putImmutable(randomBytes(32))
      const owners = await client.responsible(key)
      if (owners.every((r) => r.address !== n0.chord.address)) tiny.push(key)
    }
    log('raw baseline …')
    const raw = await measureRawThroughput({ bootstrap, sinkPublicKey, totalBytes: rawMiB * MiB })
    const rawLatency = await measureRawLatency({ bootstrap, sinkPublicKey, count })

    log(`GetFile of a 32 B value from a non-owner, ${count} sequential …`)
    let t = 0
    const getLatency = await measureLatency(
      async () => {
        const v = await client.get(tiny[t++ % tiny.length])
        if (!v) throw new Error('tiny value missing')
      },
      count,
      200
    )

    const bodies = Array.from({ length: values }, () => randomBytes(MiB))
    const bodies4 = Array.from({ length: values }, () => randomBytes(MiB))
    const keys: Buffer[] = []
    log(`PostFile ${values} × 1 MiB sequential …`)
    const postSeq = await throughput(values * MiB, async () => {
      for (const b of bodies) keys.push(await client.putImmutable(b))
    })
    log(`PostFile ${values} × 1 MiB, 4 in flight …`)
    const post4 = await throughput(values * MiB, () => inParallel(values, 4, (i) => client.putImmutable(bodies4[i])))
    log(`GetFile ${values} × 1 MiB, 4 in flight …`)
    const get4 = await throughput(values * MiB, () =>
      inParallel(values, 4, async (i) => {
        const v = await client.get(keys[i])
        if (!v || v.bytes.byteLength !== MiB) throw new Error(`value ${i} missing`)
      })
    )
    // A second raw run after the ring figures, to show drift; ratios use the mean of both.
    const raw2 = await measureRawThroughput({ bootstrap, sinkPublicKey, totalBytes: rawMiB * MiB })
    report({ where: others.where, values, count, raw, raw2, rawLatency, getLatency, postSeq, post4, get4 }, argv.json)
  } finally {
    await sink?.close().catch(() => {})
    await node0?.destroy().catch(() => {})
    await others?.close().catch(() => {})
    await testnet.destroy()
    for (const h of homes) fs.rmSync(h, { recursive: true, force: true })
  }
}

interface Results {
  where: string
  values: number
  count: number
  raw: ThroughputResult
  raw2: ThroughputResult
  rawLatency: LatencyResult
  getLatency: LatencyResult
  postSeq: ThroughputResult
  post4: ThroughputResult
  get4: ThroughputResult
}

function report(r: Results, json: boolean) {
  const rawMBps = (r.raw.mbPerSec + r.raw2.mbPerSec) / 2
  const summary = {
    setup: `${NODES}-node loopback ring, replicas ${REPLICAS}; ${r.where}`,
    values: r.values,
    rawMBps,
    rawMBpsRuns: [r.raw.mbPerSec, r.raw2.mbPerSec],
    rawP50Us: r.rawLatency.p50Us,
    rawP99Us: r.rawLatency.p99Us,
    getP50Us: r.getLatency.p50Us,
    getP99Us: r.getLatency.p99Us,
    getPerSec: r.getLatency.perSec,
    getP50Ratio: r.getLatency.p50Us / r.rawLatency.p50Us,
    getP99Ratio: r.getLatency.p99Us / r.rawLatency.p99Us,
    postSeqMBps: r.postSeq.mbPerSec,
    post4MBps: r.post4.mbPerSec,
    get4MBps: r.get4.mbPerSec,
    postSeqRatio: r.postSeq.mbPerSec / rawMBps,
    post4Ratio: r.post4.mbPerSec / rawMBps,
    get4Ratio: r.get4.mbPerSec / rawMBps,
    targetRatio: TARGET_RATIO
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`)
    return
  }
  const s = summary
  const mb = (x: number) => `${x.toFixed(0).padStart(5)} MB/s`
  const us = (x: number) => `${x.toFixed(0).padStart(6)} µs`
  const ratio = (x: number) => `${x.toFixed(2)}× raw${x >= TARGET_RATIO ? '' : '  (below target)'}`
  const lines = [
    `ring benchmark: ${s.setup}`,
    `  raw sink in its own child process; every socket on 127.0.0.1; target: ring throughput ≥ ${TARGET_RATIO}× raw`,
    `  raw secret-stream throughput          ${mb(s.rawMBps)}   (before / after: ${s.rawMBpsRuns.map((x) => x.toFixed(0)).join(' / ')})`,
    `  raw 32 B round trip                   p50 ${us(s.rawP50Us)}  p99 ${us(s.rawP99Us)}`,
    `  GetFile 32 B, non-owner, ${r.count} ops     p50 ${us(s.getP50Us)}  p99 ${us(s.getP99Us)}  ${s.getPerSec.toFixed(0)}/s` +
      `   (p50 ${s.getP50Ratio.toFixed(2)}× raw, p99 ${s.getP99Ratio.toFixed(2)}× raw; lookup + GetFile)`,
    `  PostFile ${r.values} × 1 MiB, sequential      ${mb(s.postSeqMBps)}   ${ratio(s.postSeqRatio)}   (each write stored 3×)`,
    `  PostFile ${r.values} × 1 MiB, 4 in flight     ${mb(s.post4MBps)}   ${ratio(s.post4Ratio)}   (each write stored 3×)`,
    `  GetFile  ${r.values} × 1 MiB, 4 in flight     ${mb(s.get4MBps)}   ${ratio(s.get4Ratio)}`
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}

if (process.argv[2] === '--child') {
  childMain(process.argv.slice(3)).catch((err) => {
    console.error(err)
    process.exit(1)
  })
} else {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err)
      process.exit(1)
    }
  )
}
