// Ring benchmark on loopback: a 5-node Chord ring against one raw hyperswarm
// connection measured in the same run, printed as ratios to raw.
//
//   npm run build && node dist/scripts/bench-ring.js [--values 64] [--count 1000] [--rings 3,1]
//                                                   [--cpu-prof DIR] [--json]
//
// Layout, as in production (one node per machine, so one JS thread each):
// every ring node runs in its own child process (this file with --child); the
// measured client is a client-only node (a mount talking to storage servers)
// in this process, with the 3-node @hyperswarm/testnet; the raw sink runs in
// its own child (spawnRawSink). Every socket is bound to 127.0.0.1.
//
// The same run measures a ring with replicas 3 and then one with replicas 1
// (the ring's own overhead: one copy, one connection crossed per write), with
// raw measured before, between and after, and each ring compared with the
// raw runs on either side of it. For each ring it also reports the encrypted
// bytes all nodes wrote per byte stored, and the CPU time all processes used
// per MiB, against the raw connection's CPU per MiB: on a 2-core box that is
// what bounds replicas 3 (docs/ring-node.md, "Write throughput").
//
// Concurrency is what the Volume uses: PostFile 16 in flight (ChunkStore's
// uploadConcurrency), GetFile 8 in flight (FileData's read-ahead once a
// sequential reader has ramped up), plus PostFile one at a time for reference.
//
// --cpu-prof DIR writes a V8 CPU profile of every ring child into DIR (run
// the parent with `node --cpu-prof` for the client's). BENCH_RING_DEBUG=1
// also prints each process's CPU ms, kernel ms and page faults per MiB, the
// raw ends' split, and write latencies of the 16-in-flight phase. Figures on a shared
// 2-vCPU box vary by ±15 % and more: compare ratios within one run.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import createTestnet from '@hyperswarm/testnet'
import minimist from 'minimist'
import { keyPairFromSeed, randomBytes } from '../lib/crypto/keys'
import { LineChild, serveLines } from './lib/line-child'
import type { HostPort } from '../lib/net/peer-network'
import {
  type LatencyResult,
  measureLatency,
  measureRawLatency,
  measureRawFanOut,
  measureRawThroughput,
  type SpawnedRawSink,
  spawnRawSink,
  type ThroughputResult
} from './lib/raw-bench'
import type { NodeConfig } from '../lib/node/config'
import { RingNode } from '../lib/node/ring-node'

/** The user who stores (and alone may delete) the values these tests write. */
const user = keyPairFromSeed(randomBytes(32))

const MiB = 1024 * 1024
const HOST = '127.0.0.1'
const NODES = 5
/** Fast Chord timers so the ring settles in seconds (as in test/helpers/ring.ts). */
const FAST_CHORD = { stabilizeMs: 250, healMs: 1000, rpcTimeoutMs: 3000, virtualNodes: 4 }
const TARGET_RATIO = 0.5
/** lib/volume/chunks/chunk-store.ts: uploadConcurrency default. */
const POST_IN_FLIGHT = 16
/**
 * lib/volume/file-data.ts: READ_AHEAD_MAX, the read-ahead a sequential reader
 * reaches after its first few chunks (it starts at 2 and doubles).
 */
const GET_IN_FLIGHT = 16

interface VState {
  id: string
  succ: string | null
  pred: string | null
}

interface NodeStats {
  cpu: NodeJS.CpuUsage
  /** Minor page faults so far: fresh large buffers cost one per 4 KiB page, in the kernel. */
  faults: number
  wire: { sent: number; received: number }
  keys: number
  bytes: number
}

function vstate(node: RingNode): VState[] {
  if (!node.chord.isMember || node.chord.isClosed) return []
  return node.chord.vnodes.map((v) => ({
    id: v.id.toString(16),
    succ: v.successors[0]?.id.toString(16) ?? null,
    pred: v.predecessor?.id.toString(16) ?? null
  }))
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

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 90_000): Promise<number> {
  const started = Date.now()
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return Date.now() - started
}

/** --child BOOTSTRAP NETKEY REPLICAS: one ring node; answers "state" and "stats" lines; closes when stdin ends. */
async function childMain(argv: string[]) {
  const bootstrap = JSON.parse(argv[0]) as HostPort[]
  const config: NodeConfig = { networkKey: Buffer.from(argv[1], 'hex'), bootstrap, replicas: Number(argv[2]) }
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'peerstore-bench-ring-'))
  const node = new RingNode({ home, config, host: HOST, chord: FAST_CHORD })
  try {
    await node.ready()
    process.stdout.write(`${JSON.stringify({ ready: true })}\n`)
    await serveLines(async (line) => {
      if (line === 'state') return vstate(node)
      if (line === 'stats') {
        const s = await node.status()
        return {
          cpu: process.cpuUsage(),
          faults: process.resourceUsage().minorPageFault,
          wire: node.network.wireBytes(),
          keys: s.keys,
          bytes: s.bytes
        }
      }
      return { error: `unknown command ${line}` }
    })
  } finally {
    await node.destroy().catch(() => {})
    fs.rmSync(home, { recursive: true, force: true })
  }
}

interface Ring {
  replicas: number
  client: RingNode
  /** CPU and wire counters of every process of the ring (the client's process included). */
  stats(): Promise<NodeStats[]>
  close(): Promise<void>
}

async function startRing(bootstrap: HostPort[], replicas: number, cpuProfDir: string | null): Promise<Ring> {
  const networkKey = randomBytes(32)
  const execArgv = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []
  const args = [JSON.stringify(bootstrap), networkKey.toString('hex'), String(replicas)]
  const children: LineChild[] = []
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'peerstore-bench-client-'))
  let client: RingNode | null = null
  const close = async () => {
    await client?.destroy().catch(() => {})
    await Promise.allSettled(children.map((c) => c.close()))
    fs.rmSync(home, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < NODES; i++) {
      children.push(new LineChild(__filename, ['--child', ...args], { execArgv, label: `ring node ${i}` }))
    }
    for (const c of children) await c.next() // {"ready":true}
    const config: NodeConfig = { networkKey, bootstrap, replicas }
    client = new RingNode({ home, config, host: HOST, chord: FAST_CHORD, clientOnly: true })
    await client.ready()
    await client.waitForGateway(30_000)
    await waitFor('a consistent ring', async () => {
      const states = (await Promise.all(children.map((c) => c.ask<VState[]>('state')))).flat()
      return consistent(states, NODES * FAST_CHORD.virtualNodes)
    })
    const c0 = client
    return {
      replicas,
      client: c0,
      stats: async () => [
        ...(await Promise.all(children.map((c) => c.ask<NodeStats>('stats')))),
        {
          cpu: process.cpuUsage(),
          faults: process.resourceUsage().minorPageFault,
          wire: c0.network.wireBytes(),
          keys: 0,
          bytes: 0
        }
      ],
      close
    }
  } catch (err) {
    await close()
    throw err
  }
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

/** CPU ms (user and system) and wire bytes all processes used between two stats snapshots. */
function usage(before: NodeStats[], after: NodeStats[]): { userMs: number; systemMs: number; wireSent: number } {
  let user = 0
  let system = 0
  let wireSent = 0
  after.forEach((a, i) => {
    const b = before[i]
    user += a.cpu.user - b.cpu.user
    system += a.cpu.system - b.cpu.system
    wireSent += a.wire.sent - b.wire.sent
  })
  return { userMs: user / 1000, systemMs: system / 1000, wireSent }
}

interface RawRun extends ThroughputResult {
  /** CPU ms of both ends (this process and the sink) per MiB sent. */
  cpuMsPerMiB: number
  systemShare: number
}

async function rawRun(bootstrap: HostPort[], sink: SpawnedRawSink, mib: number): Promise<RawRun> {
  const sink0 = await sink.cpu()
  const self0 = process.cpuUsage()
  const r = await measureRawThroughput({ bootstrap, sinkPublicKey: sink.publicKey, totalBytes: mib * MiB })
  const self = process.cpuUsage(self0)
  const sink1 = await sink.cpu()
  if (process.env.BENCH_RING_DEBUG) {
    const ms = (u: number) => (u / 1000 / mib).toFixed(1)
    process.stderr.write(
      `  raw CPU ms per MiB: client ${ms(self.user + self.system)} (${ms(self.system)}k), sink ${ms(sink1.user + sink1.system - sink0.user - sink0.system)} (${ms(sink1.system - sink0.system)}k)\n`
    )
  }
  const system = self.system + sink1.system - sink0.system
  const cpuUs = self.user + sink1.user - sink0.user + system
  return { ...r, cpuMsPerMiB: cpuUs / 1000 / mib, systemShare: system / cpuUs }
}

interface RingResult {
  replicas: number
  latency: LatencyResult | null
  postSeq: ThroughputResult
  postPar: ThroughputResult
  getPar: ThroughputResult
  /** For the parallel PostFile phase. */
  wirePerStored: number
  /** Minus what the idle ring uses in the same time. */
  cpuMsPerMiB: number
  /** Kernel time as a share of all CPU time of the write phase. */
  systemShare: number
  /** CPU ms (all processes) per PostFile of a 32 B value, 16 in flight: the fixed cost of a write. */
  smallPostCpuMs: number
  smallPostPerSec: number
  rawMBps: number
  rawCpuMsPerMiB: number
  /** Raw, the same bytes over `replicas` connections at once (measureRawFanOut); null for replicas 1. */
  rawFanOut: ThroughputResult | null
}

async function measureRing(
  ring: Ring,
  opts: { values: number; count: number; latency: boolean },
  log: (s: string) => void
): Promise<Omit<RingResult, 'rawMBps' | 'rawCpuMsPerMiB' | 'rawFanOut'>> {
  const client = ring.client
  const k = ring.replicas
  let latency: LatencyResult | null = null
  if (opts.latency) {
    // The client stores nothing, so every get crosses the network (lookup + GetFile).
    const tiny: Buffer[] = []
    for (let i = 0; i < 32; i++) tiny.push(await client.client.putImmutable(randomBytes(32), user))
    log(`  GetFile of a 32 B value, ${opts.count} sequential …`)
    let t = 0
    latency = await measureLatency(
      async () => {
        const v = await client.client.get(tiny[t++ % tiny.length])
        if (!v) throw new Error('tiny value missing')
      },
      opts.count,
      200
    )
  }
  // What the idle ring burns (Chord stabilizes every 250 ms here), subtracted from the write phase.
  const idle0 = await ring.stats()
  const idleStarted = Date.now()
  await new Promise((r) => setTimeout(r, 2000))
  const idle = usage(idle0, await ring.stats())
  const idleMsPerMs = (idle.userMs + idle.systemMs) / (Date.now() - idleStarted)
  // A write's fixed cost (lookup, RPCs, commit) without the bytes: tiny values, same concurrency.
  const small = Array.from({ length: 400 }, () => randomBytes(32))
  const small0 = await ring.stats()
  const smallRun = await throughput(small.length * 32, () =>
    inParallel(small.length, POST_IN_FLIGHT, (i) => client.client.putImmutable(small[i], user))
  )
  const smallUsed = usage(small0, await ring.stats())
  const smallPostCpuMs = (smallUsed.userMs + smallUsed.systemMs - idleMsPerMs * smallRun.ms) / small.length
  const smallPostPerSec = small.length / (smallRun.ms / 1000)
  const n = opts.values
  // Each value is made when it is written, as the Volume seals each chunk when it uploads it:
  // holding every value of a phase in memory at once (hundreds of MiB of Buffers) made V8
  // run major GCs through the whole phase, a cost no real client has. A fresh copy of one
  // random MiB with a counter in front is unique, and costs a memcpy (~0.1 ms).
  const base = randomBytes(MiB)
  let made = 0
  const body = () => {
    const b = Buffer.allocUnsafe(MiB)
    base.copy(b)
    b.writeUInt32BE(made++, 0)
    return b
  }
  const keys: Buffer[] = []
  const writeMs: number[] = []
  log(`  PostFile ${n} × 1 MiB, ${POST_IN_FLIGHT} in flight (replicas ${k}) …`)
  const before = await ring.stats()
  const postPar = await throughput(n * MiB, () =>
    inParallel(n, POST_IN_FLIGHT, async (i) => {
      const t0 = Date.now()
      keys[i] = await client.client.putImmutable(body(), user)
      writeMs.push(Date.now() - t0)
    })
  )
  const after = await ring.stats()
  const used = usage(before, after)
  if (process.env.BENCH_RING_DEBUG) {
    const per = after.map((a, i) => {
      const b = before[i]
      const ms = (x: NodeJS.CpuUsage) => (x.user + x.system) / 1000
      return `${((ms(a.cpu) - ms(b.cpu)) / n).toFixed(1)}(${((a.cpu.system - b.cpu.system) / 1000 / n).toFixed(1)}k,${((a.faults - b.faults) / n).toFixed(0)}pf)`
    })
    writeMs.sort((a, b) => a - b)
    log(`    write ms: p50 ${writeMs[n >> 1]}, p90 ${writeMs[Math.floor(n * 0.9)]}, max ${writeMs[n - 1]}`)
    log(`    CPU ms per MiB by process (nodes…, client): ${per.join(' ')}; idle ${idleMsPerMs.toFixed(3)} ms/ms`)
  }
  log(`  PostFile ${n} × 1 MiB, one at a time …`)
  const postSeq = await throughput(n * MiB, async () => {
    for (let i = 0; i < n; i++) await client.client.putImmutable(body(), user)
  })
  log(`  GetFile ${n} × 1 MiB, ${GET_IN_FLIGHT} in flight …`)
  const getPar = await throughput(n * MiB, () =>
    inParallel(n, GET_IN_FLIGHT, async (i) => {
      const v = await client.client.get(keys[i])
      if (!v || v.bytes.byteLength !== MiB) throw new Error(`value ${i} missing`)
    })
  )
  return {
    replicas: k,
    latency,
    postSeq,
    postPar,
    getPar,
    wirePerStored: used.wireSent / (n * MiB),
    cpuMsPerMiB: (used.userMs + used.systemMs - idleMsPerMs * postPar.ms) / n,
    systemShare: used.systemMs / (used.userMs + used.systemMs),
    smallPostCpuMs,
    smallPostPerSec
  }
}

async function main() {
  const argv = minimist(process.argv.slice(2), {
    boolean: ['json'],
    string: ['rings', 'cpu-prof'],
    default: { values: 64, count: 1000, 'raw-mib': 128, rings: '3,1' }
  })
  const values = Number(argv.values)
  const count = Number(argv.count)
  const rawMiB = Number(argv['raw-mib'])
  const rings = String(argv.rings)
    .split(',')
    .map((x) => Number(x))
  const cpuProfDir = argv['cpu-prof'] ? path.resolve(argv['cpu-prof']) : null
  if (cpuProfDir) fs.mkdirSync(cpuProfDir, { recursive: true })
  const log = (s: string) => argv.json || process.stderr.write(`${s}\n`)

  const testnet = await createTestnet(3, { host: HOST })
  const bootstrap = testnet.bootstrap
  let sink: SpawnedRawSink | null = null
  const fanOutSinks: SpawnedRawSink[] = []
  let ring: Ring | null = null
  try {
    sink = await spawnRawSink(bootstrap)
    const s = sink
    // One sink per copy for the fan-out baseline, each in its own process like the ring's nodes.
    const maxReplicas = Math.max(...rings)
    for (let i = 1; i < maxReplicas; i++) fanOutSinks.push(await spawnRawSink(bootstrap))
    log('raw baseline …')
    const rawLatency = await measureRawLatency({ bootstrap, sinkPublicKey: s.publicKey, count })
    const raws: RawRun[] = [await rawRun(bootstrap, s, rawMiB)]
    const results: RingResult[] = []
    for (const [i, k] of rings.entries()) {
      log(`starting a ${NODES}-node ring on 127.0.0.1, replicas ${k}, one process per node …`)
      ring = await startRing(bootstrap, k, cpuProfDir)
      const r = await measureRing(ring, { values, count, latency: i === 0 }, log)
      await ring.close()
      ring = null
      log('raw baseline …')
      raws.push(await rawRun(bootstrap, s, rawMiB))
      let rawFanOut: ThroughputResult | null = null
      if (k > 1) {
        log(`raw, the same bytes over ${k} connections at once …`)
        const keys = [s, ...fanOutSinks].slice(0, k).map((x) => x.publicKey)
        rawFanOut = await measureRawFanOut({ bootstrap, sinkPublicKeys: keys, totalBytes: rawMiB * MiB })
      }
      // Compared with the raw runs right before and right after this ring.
      const around = raws.slice(-2)
      results.push({
        ...r,
        rawMBps: (around[0].mbPerSec + around[1].mbPerSec) / 2,
        rawCpuMsPerMiB: (around[0].cpuMsPerMiB + around[1].cpuMsPerMiB) / 2,
        rawFanOut
      })
    }
    report({ values, count, raws, rawLatency, results }, argv.json)
  } finally {
    await ring?.close().catch(() => {})
    await sink?.close().catch(() => {})
    await Promise.allSettled(fanOutSinks.map((x) => x.close()))
    await testnet.destroy()
  }
}

function report(
  r: { values: number; count: number; raws: RawRun[]; rawLatency: LatencyResult; results: RingResult[] },
  json: boolean
) {
  const cores = os.cpus().length
  const rings = r.results.map((x) => {
    const ratio = (t: ThroughputResult) => t.mbPerSec / x.rawMBps
    // If all cores did nothing but this work, the ring could store at most
    // cores × 1000 / cpuMsPerMiB MiB/s; as a ratio to the raw figure:
    const cpuCeilingRatio = (((cores * 1000) / x.cpuMsPerMiB) * MiB) / 1e6 / x.rawMBps
    return {
      replicas: x.replicas,
      rawMBps: x.rawMBps,
      getP50Us: x.latency?.p50Us,
      getP99Us: x.latency?.p99Us,
      getPerSec: x.latency?.perSec,
      postParMBps: x.postPar.mbPerSec,
      postParRatio: ratio(x.postPar),
      postSeqMBps: x.postSeq.mbPerSec,
      postSeqRatio: ratio(x.postSeq),
      getParMBps: x.getPar.mbPerSec,
      getParRatio: ratio(x.getPar),
      wirePerStored: x.wirePerStored,
      cpuMsPerMiB: x.cpuMsPerMiB,
      systemShare: x.systemShare,
      smallPostCpuMs: x.smallPostCpuMs,
      smallPostPerSec: x.smallPostPerSec,
      rawCpuMsPerMiB: x.rawCpuMsPerMiB,
      cpuCeilingRatio,
      rawFanOutMBps: x.rawFanOut?.mbPerSec ?? null,
      rawFanOutRatio: x.rawFanOut ? x.rawFanOut.mbPerSec / x.rawMBps : null,
      postParToFanOut: x.rawFanOut ? x.postPar.mbPerSec / x.rawFanOut.mbPerSec : null
    }
  })
  const summary = {
    setup: `${NODES}-node loopback ring, one process per node; client-only node in the benchmark process; ${cores} cores`,
    values: r.values,
    postInFlight: POST_IN_FLIGHT,
    getInFlight: GET_IN_FLIGHT,
    rawMBpsRuns: r.raws.map((x) => x.mbPerSec),
    rawCpuMsPerMiBRuns: r.raws.map((x) => x.cpuMsPerMiB),
    rawP50Us: r.rawLatency.p50Us,
    rawP99Us: r.rawLatency.p99Us,
    rings,
    targetRatio: TARGET_RATIO
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`)
    return
  }
  const mb = (x: number) => `${x.toFixed(0).padStart(5)} MB/s`
  const us = (x: number) => `${x.toFixed(0).padStart(6)} µs`
  const ratio = (x: number) => `${x.toFixed(2)}× raw${x >= TARGET_RATIO ? '' : ' (below target)'}`
  const lines = [
    `ring benchmark: ${summary.setup}`,
    `  raw sink in its own child process; every socket on 127.0.0.1; target: ring throughput ≥ ${TARGET_RATIO}× raw`,
    `  raw secret-stream throughput, runs    ${r.raws.map((x) => x.mbPerSec.toFixed(0)).join(' / ')} MB/s` +
      `   (CPU of both ends ${r.raws.map((x) => x.cpuMsPerMiB.toFixed(1)).join(' / ')} ms per MiB,` +
      ` ${(100 * r.raws[0].systemShare).toFixed(0)}% in the kernel)`,
    `  raw 32 B round trip                   p50 ${us(summary.rawP50Us)}  p99 ${us(summary.rawP99Us)}`
  ]
  for (const x of rings) {
    lines.push(
      `  replicas ${x.replicas} (against raw ${x.rawMBps.toFixed(0)} MB/s, the mean of the runs before and after)`
    )
    if (x.getP50Us !== undefined && x.getP99Us !== undefined) {
      lines.push(
        `    GetFile 32 B, ${r.count} sequential        p50 ${us(x.getP50Us)}  p99 ${us(x.getP99Us)}  ${x.getPerSec?.toFixed(0)}/s` +
          `   (p50 ${(x.getP50Us / summary.rawP50Us).toFixed(1)}× raw; lookup + GetFile)`
      )
    }
    lines.push(
      `    PostFile 32 B, ${POST_IN_FLIGHT} in flight        ${x.smallPostPerSec.toFixed(0).padStart(5)}/s      ${x.smallPostCpuMs.toFixed(2)} CPU ms per write, all processes (lookup, RPCs, commit)`,
      `    PostFile 1 MiB, ${POST_IN_FLIGHT} in flight       ${mb(x.postParMBps)}   ${ratio(x.postParRatio)}   (the Volume's upload concurrency)`,
      `    PostFile 1 MiB, 1 in flight        ${mb(x.postSeqMBps)}   ${ratio(x.postSeqRatio)}`,
      `    GetFile  1 MiB, ${GET_IN_FLIGHT} in flight        ${mb(x.getParMBps)}   ${ratio(x.getParRatio)}   (the Volume's read-ahead)`,
      `    wire: ${x.wirePerStored.toFixed(2)} encrypted bytes written per byte stored; CPU: ${x.cpuMsPerMiB.toFixed(1)} ms per MiB stored, ` +
        `all processes, ${(100 * x.systemShare).toFixed(0)}% in the kernel (raw: ${x.rawCpuMsPerMiB.toFixed(1)} ms per MiB, ${(x.cpuMsPerMiB / x.rawCpuMsPerMiB).toFixed(1)}×)`,
      `    CPU ceiling on ${cores} cores: ${((((cores * 1000) / x.cpuMsPerMiB) * MiB) / 1e6).toFixed(0)} MB/s = ${x.cpuCeilingRatio.toFixed(2)}× raw`
    )
    if (x.rawFanOutMBps !== null && x.rawFanOutRatio !== null && x.postParToFanOut !== null) {
      lines.push(
        `    raw, the same bytes over ${x.replicas} connections at once (a replicas-${x.replicas} write with no ring): ` +
          `${x.rawFanOutMBps.toFixed(0)} MB/s stored = ${x.rawFanOutRatio.toFixed(2)}× raw; PostFile 16 in flight is ${x.postParToFanOut.toFixed(2)}× of it`
      )
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`)
}

if (process.argv[2] === '--child') {
  childMain(process.argv.slice(3)).then(
    () => process.exit(0),
    (err) => {
      console.error(err)
      process.exit(1)
    }
  )
} else {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err)
      process.exit(1)
    }
  )
}
