// The baseline every network benchmark reports against: one raw hyperswarm
// (secret-stream) connection, no protomux, no RPC. bench-net, bench-ring and
// bench-mount measure it in the same run as their own figures and print
// ratios, because absolute numbers on a shared 2-vCPU box drift from run to run.
//
// The sink (server side) should run in another process than the measuring
// side, so each end has its own JS thread (platform.md §4): startRawSink() in
// a child (see spawnRawSink() and raw-bench-child.ts), measureRaw*() here.
//
// Wire (one connection per measurement; secret-stream keeps message boundaries):
//   'T' total:uint32le×2  then `total` bytes  → sink answers one byte when all arrived
//   'E'                   then any messages   → sink echoes each message back

import path from 'node:path'
import HyperDHT, { type NoiseSecretStream } from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import { keyPairFromSeed, randomBytes } from '../../lib/crypto/keys'
import { LineChild } from './line-child'
import type { HostPort } from '../../lib/net/peer-network'
import { enlargeSocketBuffers } from '../../lib/net/socket-buffers'

export interface RawSink {
  publicKey: Buffer
  close(): Promise<void>
}

/** Accepts raw benchmark connections (see the wire format above) until closed. */
export async function startRawSink(opts: { bootstrap: HostPort[]; host?: string }): Promise<RawSink> {
  const keyPair = keyPairFromSeed(randomBytes(32))
  const dht = new HyperDHT({ keyPair, bootstrap: opts.bootstrap, host: opts.host ?? '127.0.0.1' })
  // The same sockets as PeerNetwork's, so the baseline is a like-for-like connection.
  enlargeSocketBuffers(dht)
  const swarm = new Hyperswarm({ keyPair, dht })
  swarm.on('connection', (conn) => serveRaw(conn))
  await swarm.listen()
  return { publicKey: keyPair.publicKey, close: () => swarm.destroy() }
}

function serveRaw(conn: NoiseSecretStream): void {
  conn.on('error', () => {})
  let mode: 'T' | 'E' | null = null
  let expected = 0
  let received = 0
  conn.on('data', (data: Buffer) => {
    if (mode === null) {
      mode = data[0] === 0x45 ? 'E' : 'T'
      if (mode === 'T') expected = data.readUInt32LE(1) + data.readUInt32LE(5) * 2 ** 32
      return
    }
    if (mode === 'E') {
      conn.write(data)
      return
    }
    received += data.byteLength
    if (received >= expected) conn.write(Buffer.from([0x41]))
  })
}

export interface SpawnedRawSink extends RawSink {
  /** CPU time the sink process has used so far (process.cpuUsage()), for CPU-per-byte figures. */
  cpu(): Promise<NodeJS.CpuUsage>
}

/** Runs startRawSink in a child process; resolves once it listens. */
export async function spawnRawSink(bootstrap: HostPort[]): Promise<SpawnedRawSink> {
  const child = new LineChild(path.join(__dirname, 'raw-bench-child.js'), [JSON.stringify(bootstrap)], {
    label: 'raw sink'
  })
  let publicKey: string
  try {
    publicKey = (JSON.parse(await child.next()) as { publicKey: string }).publicKey
  } catch (err) {
    await child.close(5_000)
    throw err
  }
  return {
    publicKey: Buffer.from(publicKey, 'hex'),
    cpu: () => child.ask<NodeJS.CpuUsage>('cpu'),
    close: () => child.close(5_000)
  }
}

/** A client swarm on loopback with one connection to `publicKey`. */
export async function connectRaw(
  bootstrap: HostPort[],
  publicKey: Buffer
): Promise<{ conn: NoiseSecretStream; close(): Promise<void> }> {
  const keyPair = keyPairFromSeed(randomBytes(32))
  const dht = new HyperDHT({ keyPair, bootstrap, host: '127.0.0.1' })
  enlargeSocketBuffers(dht)
  const swarm = new Hyperswarm({ keyPair, dht })
  try {
    const conn = await new Promise<NoiseSecretStream>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('raw connection timed out')), 15_000)
      swarm.on('connection', (conn) => {
        clearTimeout(timer)
        conn.on('error', () => {})
        resolve(conn)
      })
      swarm.joinPeer(publicKey)
    })
    return { conn, close: () => swarm.destroy() }
  } catch (err) {
    await swarm.destroy()
    throw err
  }
}

export interface ThroughputResult {
  bytes: number
  ms: number
  mbPerSec: number
}

/** Writes `totalBytes` in `writeBytes` messages over one connection, honouring 'drain', until the sink acks. */
export async function measureRawThroughput(opts: {
  bootstrap: HostPort[]
  sinkPublicKey: Buffer
  totalBytes?: number
  writeBytes?: number
}): Promise<ThroughputResult> {
  return measureRawFanOut({ ...opts, sinkPublicKeys: [opts.sinkPublicKey] })
}

/**
 * The same `totalBytes` over one connection to each sink at once, from this
 * process; done when every sink has acked. With k sinks this is what a
 * replicas-k write costs with no ring at all (every stored byte crosses k
 * connections), so it bounds what the ring can reach on this machine.
 * `bytes` and `mbPerSec` count the bytes once, as bytes stored.
 */
export async function measureRawFanOut(opts: {
  bootstrap: HostPort[]
  sinkPublicKeys: Buffer[]
  totalBytes?: number
  writeBytes?: number
}): Promise<ThroughputResult> {
  const total = opts.totalBytes ?? 256 * 1024 * 1024
  const writeBytes = opts.writeBytes ?? 64 * 1024
  const links: { conn: NoiseSecretStream; close(): Promise<void> }[] = []
  try {
    for (const key of opts.sinkPublicKeys) links.push(await connectRaw(opts.bootstrap, key))
    const block = randomBytes(writeBytes)
    const started = process.hrtime.bigint()
    await Promise.all(links.map((l) => sendTotal(l.conn, total, block)))
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    return { bytes: total, ms, mbPerSec: total / 1e6 / (ms / 1000) }
  } finally {
    await Promise.all(links.map((l) => l.close()))
  }
}

/** The 'T' exchange: header, `total` bytes in messages of `block`'s size, then the sink's one-byte ack. */
async function sendTotal(conn: NoiseSecretStream, total: number, block: Buffer): Promise<void> {
  const header = Buffer.alloc(9)
  header[0] = 0x54
  header.writeUInt32LE(total % 2 ** 32, 1)
  header.writeUInt32LE(Math.floor(total / 2 ** 32), 5)
  conn.write(header)
  const acked = new Promise<void>((resolve) => conn.once('data', () => resolve()))
  const closed = new Promise<never>((_, reject) => conn.once('close', () => reject(new Error('connection closed'))))
  closed.catch(() => {})
  for (let sent = 0; sent < total; sent += block.byteLength) {
    const piece = sent + block.byteLength <= total ? block : block.subarray(0, total - sent)
    if (!conn.write(piece)) {
      await Promise.race([new Promise<void>((resolve) => conn.once('drain', () => resolve())), closed])
    }
  }
  await Promise.race([acked, closed])
}

export interface LatencyResult {
  count: number
  p50Us: number
  p99Us: number
  perSec: number
}

/** Sequential round trips of `size`-byte messages over one raw connection (after a warm-up). */
export async function measureRawLatency(opts: {
  bootstrap: HostPort[]
  sinkPublicKey: Buffer
  count?: number
  warmup?: number
  size?: number
}): Promise<LatencyResult> {
  const { conn, close } = await connectRaw(opts.bootstrap, opts.sinkPublicKey)
  try {
    conn.write(Buffer.from([0x45]))
    const ping = randomBytes(opts.size ?? 32)
    const once = () =>
      new Promise<void>((resolve) => {
        conn.once('data', () => resolve())
        conn.write(ping)
      })
    return await measureLatency(once, opts.count ?? 5_000, opts.warmup ?? 200)
  } finally {
    await close()
  }
}

/** Times `count` sequential calls of `roundTrip` after `warmup` untimed ones. */
export async function measureLatency(
  roundTrip: () => Promise<unknown>,
  count: number,
  warmup: number
): Promise<LatencyResult> {
  for (let i = 0; i < warmup; i++) await roundTrip()
  const samples = new Float64Array(count)
  const started = process.hrtime.bigint()
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint()
    await roundTrip()
    samples[i] = Number(process.hrtime.bigint() - t0) / 1e3
  }
  const totalMs = Number(process.hrtime.bigint() - started) / 1e6
  samples.sort()
  const pick = (q: number) => samples[Math.min(count - 1, Math.floor(q * count))]
  return { count, p50Us: pick(0.5), p99Us: pick(0.99), perSec: count / (totalMs / 1000) }
}
