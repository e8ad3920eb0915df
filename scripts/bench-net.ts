// Transport benchmark on loopback: PeerNetwork against one raw hyperswarm
// connection measured in the same run, printed as ratios to raw.
//
//   npm run build && node dist/scripts/bench-net.js [--mib 128] [--count 3000] [--rounds 3] [--json]
//
// A 3-node @hyperswarm/testnet on 127.0.0.1 runs here; the server (PeerNetwork
// and raw sink) runs in a child process (platform.md §4). Every socket is on
// 127.0.0.1. Figures on a shared 2-vCPU box vary by ±15 %: compare ratios.

import { spawn } from 'node:child_process'
import path from 'node:path'
import readline from 'node:readline'
import createTestnet from '@hyperswarm/testnet'
import c from 'compact-encoding'
import minimist from 'minimist'
import { keyPairFromSeed, randomBytes } from '../lib/crypto/keys'
import { PeerNetwork } from '../lib/net/peer-network'
import {
  type LatencyResult,
  measureLatency,
  measureRawLatency,
  measureRawThroughput,
  type ThroughputResult
} from './lib/raw-bench'
import { pullPieces, sendStream } from './lib/stream'

const MiB = 1024 * 1024

async function main() {
  const argv = minimist(process.argv.slice(2), { boolean: ['json'], default: { mib: 128, count: 3000, rounds: 3 } })
  const mib = Number(argv.mib)
  const count = Number(argv.count)
  const roundCount = Number(argv.rounds)
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  const bootstrap = testnet.bootstrap
  const networkKey = randomBytes(32)
  const child = spawn(
    process.execPath,
    [path.join(__dirname, 'lib', 'net-bench-server.js'), JSON.stringify(bootstrap), networkKey.toString('hex')],
    { stdio: ['pipe', 'pipe', 'inherit'] }
  )
  const childExited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let client: PeerNetwork | null = null
  try {
    const keys = await new Promise<{ peer: string; raw: string }>((resolve, reject) => {
      readline.createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l)))
      child.once('exit', (code) => reject(new Error(`server exited with code ${code}`)))
    })
    const server = Buffer.from(keys.peer, 'hex')
    const sinkPublicKey = Buffer.from(keys.raw, 'hex')
    const log = (s: string) => argv.json || process.stderr.write(`${s}\n`)

    client = new PeerNetwork({ keyPair: keyPairFromSeed(randomBytes(32)), networkKey, bootstrap })
    await client.ready()
    const net = client
    await net.request(server, 'echo', Buffer.alloc(1), c.buffer, c.buffer, { timeoutMs: 15_000 })
    const ping = randomBytes(32)
    const body = randomBytes(MiB)

    // Rounds interleave raw and RPC measurements, so that load from other work on the box
    // hits both alike; the report gives per-round ratios' medians.
    const rounds: Round[] = []
    for (let i = 0; i < roundCount; i++) {
      log(`round ${i + 1}/${roundCount}: raw ${mib} MiB, raw ${count} round trips, RPC …`)
      const raw = await measureRawThroughput({ bootstrap, sinkPublicKey, totalBytes: mib * MiB })
      const rawLatency = await measureRawLatency({ bootstrap, sinkPublicKey, count })
      const rpcLatency = await measureLatency(() => net.request(server, 'echo', ping, c.buffer, c.buffer), count, 200)
      const post = await throughput(mib * MiB, () =>
        inParallel(mib, 4, () => net.request(server, 'post', body, c.buffer, c.uint))
      )
      const get = await throughput(mib * MiB, async () => {
        for await (const _ of pullPieces({
          start: 0,
          end: mib * MiB,
          fetch: (s, e) => net.request(server, 'get', e - s, c.uint, c.buffer) as Promise<Buffer>
        })) {
        }
      })
      const stream = await throughput(mib * MiB, async () => {
        function* source() {
          for (let i = 0; i < mib; i++) yield body
        }
        const n = await sendStream(net, server, 'upload', mib * MiB, c.uint, c.uint, source())
        if (n !== mib * MiB) throw new Error(`upload received ${n} bytes`)
      })
      rounds.push({ raw, rawLatency, rpcLatency, post, get, stream })
    }
    report(rounds, argv.json)
  } finally {
    await client?.close()
    child.stdin!.end()
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
    await childExited
    clearTimeout(timer)
    await testnet.destroy()
  }
}

async function throughput(bytes: number, run: () => Promise<unknown>): Promise<ThroughputResult> {
  const started = process.hrtime.bigint()
  await run()
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  return { bytes, ms, mbPerSec: bytes / 1e6 / (ms / 1000) }
}

async function inParallel(n: number, window: number, task: () => Promise<unknown>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < n) {
      next++
      await task()
    }
  }
  await Promise.all(Array.from({ length: window }, worker))
}

interface Round {
  raw: ThroughputResult
  rawLatency: LatencyResult
  rpcLatency: LatencyResult
  post: ThroughputResult
  get: ThroughputResult
  stream: ThroughputResult
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

function report(rounds: Round[], json: boolean) {
  const m = (f: (r: Round) => number) => median(rounds.map(f))
  const summary = {
    rounds: rounds.length,
    rawMBps: m((r) => r.raw.mbPerSec),
    rawP50Us: m((r) => r.rawLatency.p50Us),
    rawP99Us: m((r) => r.rawLatency.p99Us),
    rpcP50Us: m((r) => r.rpcLatency.p50Us),
    rpcP99Us: m((r) => r.rpcLatency.p99Us),
    rpcPerSec: m((r) => r.rpcLatency.perSec),
    postMBps: m((r) => r.post.mbPerSec),
    getMBps: m((r) => r.get.mbPerSec),
    streamMBps: m((r) => r.stream.mbPerSec),
    // Ratios are taken per round (same load), then the median.
    rpcP50Ratio: m((r) => r.rpcLatency.p50Us / r.rawLatency.p50Us),
    rpcP99Ratio: m((r) => r.rpcLatency.p99Us / r.rawLatency.p99Us),
    postRatio: m((r) => r.post.mbPerSec / r.raw.mbPerSec),
    getRatio: m((r) => r.get.mbPerSec / r.raw.mbPerSec),
    streamRatio: m((r) => r.stream.mbPerSec / r.raw.mbPerSec)
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ summary, rounds }, null, 2)}\n`)
    return
  }
  const mb = (x: number) => `${x.toFixed(0).padStart(5)} MB/s`
  const us = (x: number) => `${x.toFixed(0).padStart(5)} µs`
  const ratio = (x: number) => `${x.toFixed(2)}× raw`
  const perRound = (f: (r: Round) => number) => rounds.map((r) => f(r).toFixed(0)).join(' / ')
  const s = summary
  const lines = [
    `transport benchmark (loopback, server in a child process; median of ${s.rounds} rounds, ratios per round)`,
    `  raw secret-stream throughput       ${mb(s.rawMBps)}   (rounds: ${perRound((r) => r.raw.mbPerSec)})`,
    `  raw 32 B round trip                p50 ${us(s.rawP50Us)}  p99 ${us(s.rawP99Us)}`,
    `  RPC 32 B echo                      p50 ${us(s.rpcP50Us)}  p99 ${us(s.rpcP99Us)}  ${s.rpcPerSec.toFixed(0)}/s` +
      `   (p50 ${ratio(s.rpcP50Ratio)}, p99 ${ratio(s.rpcP99Ratio)})`,
    `  RPC 1 MiB requests, 4 in flight    ${mb(s.postMBps)}   ${ratio(s.postRatio)}   (rounds: ${perRound((r) => r.post.mbPerSec)})`,
    `  RPC 1 MiB responses, pullPieces w4 ${mb(s.getMBps)}   ${ratio(s.getRatio)}   (rounds: ${perRound((r) => r.get.mbPerSec)})`,
    `  sendStream, 1 MiB pieces, w4       ${mb(s.streamMBps)}   ${ratio(s.streamRatio)}   (rounds: ${perRound((r) => r.stream.mbPerSec)})`
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
