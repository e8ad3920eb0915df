// Measures candidate storage engines for the node store (lib/storage) on its
// workload: 32-byte keys, ~200 B records and 1 MiB chunks, every write durable
// before it is acknowledged, range scans in key order. Each figure is also
// printed as a ratio against plain files (write + fsync per value) measured in
// the same run on the same disk, so runs on different machines compare.
//
//   npm run build && node dist/scripts/bench-storage.js [--small N] [--large N] [--dir DIR] [--only NAME,...]
//
// Results and the decision are in docs/storage.md.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { open as openLmdb } from 'lmdb'
import minimist from 'minimist'
import type RocksDB from 'rocksdb-native'
import { randomBytes, sha256 } from '../lib/crypto'
import { NodeStore } from '../lib/storage'

interface Engine {
  /** Resolves once the value is durable (or, where the engine cannot promise that, says so in its note). */
  put(key: Buffer, value: Buffer): Promise<void>
  get(key: Buffer): Promise<Buffer | null>
  /** Number of keys in (after, upTo], visited in key order. */
  scan(after: Buffer, upTo: Buffer): Promise<number>
  close(): Promise<void>
}

interface Candidate {
  name: string
  note: string
  open(dir: string): Promise<Engine>
}

// ---- candidates ------------------------------------------------------------

async function fsync(file: string): Promise<void> {
  const fh = await fs.promises.open(file, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

function fileEngine(dir: string, atomic: boolean): Engine {
  const fileOf = (key: Buffer) => path.join(dir, key.toString('hex'))
  return {
    async put(key, value) {
      const file = fileOf(key)
      const target = atomic ? `${file}.tmp` : file
      const fh = await fs.promises.open(target, 'w')
      try {
        await fh.write(value)
        await fh.sync()
      } finally {
        await fh.close()
      }
      if (atomic) {
        await fs.promises.rename(target, file)
        await fsync(dir)
      }
    },
    async get(key) {
      return fs.promises.readFile(fileOf(key)).catch(() => null)
    },
    async scan(after, upTo) {
      // A directory has no key order: list, filter and sort every name.
      const lo = after.toString('hex')
      const hi = upTo.toString('hex')
      const names = (await fs.promises.readdir(dir)).filter((n) => n > lo && n <= hi).sort()
      return names.length
    },
    async close() {}
  }
}

function lmdbCandidate(overlappingSync: boolean): Candidate['open'] {
  return async (dir) => {
    const root = openLmdb({ path: dir, maxDbs: 2, overlappingSync })
    const db = root.openDB<Buffer, Buffer>({ name: 'values', keyEncoding: 'binary', encoding: 'binary' })
    return {
      async put(key, value) {
        await db.put(key, value)
        if (overlappingSync) await root.flushed
      },
      async get(key) {
        return db.getBinary(key) ?? null
      },
      async scan(after, upTo) {
        let n = 0
        for (const _ of db.getKeys({ start: after, exclusiveStart: true, end: upTo, inclusiveEnd: true })) n++
        return n
      },
      close: () => root.close()
    }
  }
}

function loadRocksDB(): typeof RocksDB | null {
  try {
    return require('rocksdb-native') as typeof RocksDB
  } catch {
    return null
  }
}

function rocksCandidate(syncWal: boolean): Candidate['open'] {
  return async (dir) => {
    const Rocks = loadRocksDB()
    if (!Rocks) throw new Error('rocksdb-native is not installed')
    const db = new Rocks(dir)
    await db.ready()
    return {
      async put(key, value) {
        await db.put(key, value)
        // rocksdb-native never sets WriteOptions.sync, so the WAL is only in
        // the page cache. fsync of any fd of the WAL file flushes it (Linux),
        // which is the closest it gets to a synced write.
        if (syncWal) await fsync(path.join(dir, (await db.currentWalFile()).path))
      },
      get: (key) => db.get(key),
      async scan(after, upTo) {
        let n = 0
        for await (const _ of db.iterator({ gt: after, lte: upTo }, { values: false, capacity: 256 })) n++
        return n
      },
      close: () => db.close()
    }
  }
}

/** `knownHash`: put as a node's own write is (the ring client hashed the value already), so the store does not hash it. */
async function nodeStoreEngine(dir: string, knownHash = false): Promise<Engine> {
  const store = new NodeStore(dir)
  await store.ready()
  return {
    put: (key, value) => store.putImmutable(key, value, knownHash ? { knownHash: key } : {}),
    async get(key) {
      return (await store.get(key))?.bytes ?? null
    },
    async scan(after, upTo) {
      let n = 0
      for await (const _ of store.scan(after, upTo)) n++
      return n
    },
    close: () => store.close()
  }
}

const CANDIDATES: Candidate[] = [
  {
    name: 'files',
    note: 'baseline: one file per value, write + fsync',
    open: async (dir) => fileEngine(dir, false)
  },
  {
    name: 'files-atomic',
    note: 'values as files done safely: tmp, fsync, rename, fsync dir',
    open: async (dir) => fileEngine(dir, true)
  },
  { name: 'lmdb', note: 'lmdb-js, overlappingSync, await db.flushed', open: lmdbCandidate(true) },
  { name: 'lmdb-nooverlap', note: 'lmdb-js, overlappingSync off (sync inside commit)', open: lmdbCandidate(false) },
  {
    name: 'rocksdb',
    note: 'rocksdb-native put: WAL NOT synced (survives SIGKILL, not power loss)',
    open: rocksCandidate(false)
  },
  { name: 'rocksdb-walsync', note: 'rocksdb-native put + fsync of the WAL file', open: rocksCandidate(true) },
  {
    name: 'nodestore',
    note: 'NodeStore.putImmutable (lmdb + sha256 check + index + stats)',
    open: (dir) => nodeStoreEngine(dir)
  },
  {
    name: 'nodestore-known',
    note: "NodeStore.putImmutable with the caller's knownHash (a node's own write: no second sha256)",
    open: (dir) => nodeStoreEngine(dir, true)
  }
]

// ---- measurement -----------------------------------------------------------

interface Figures {
  putOps: number
  putMBs: number
  putP50: number
  putP99: number
  putConcOps: number
  putConcMBs: number
  getOps: number
  getMBs: number
  getP50: number
  getP99: number
  scanKeys: number
  scanKeysPerSec: number
}

interface Workload {
  name: string
  size: number
  count: number
}

function makeValues(w: Workload): { keys: Buffer[]; values: Buffer[] } {
  const values = Array.from({ length: w.count }, () => randomBytes(w.size))
  return { values, keys: values.map((v) => sha256(v)) }
}

function percentile(sortedMs: number[], p: number): number {
  return sortedMs[Math.min(sortedMs.length - 1, Math.floor((sortedMs.length * p) / 100))]
}

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

async function timedSequential(n: number, op: (i: number) => Promise<unknown>) {
  const lat: number[] = []
  const start = nowMs()
  for (let i = 0; i < n; i++) {
    const t0 = nowMs()
    await op(i)
    lat.push(nowMs() - t0)
  }
  const seconds = (nowMs() - start) / 1000
  lat.sort((a, b) => a - b)
  return { seconds, p50: percentile(lat, 50), p99: percentile(lat, 99) }
}

async function timedConcurrent(n: number, inFlight: number, op: (i: number) => Promise<unknown>) {
  let next = 0
  const start = nowMs()
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) await op(next++)
    })
  )
  return (nowMs() - start) / 1000
}

async function measure(candidate: Candidate, w: Workload, baseDir: string, inFlight: number): Promise<Figures> {
  const dir = fs.mkdtempSync(path.join(baseDir, `${candidate.name}-`))
  const engine = await candidate.open(dir)
  try {
    const seq = makeValues(w)
    const conc = makeValues(w)
    const put = await timedSequential(w.count, (i) => engine.put(seq.keys[i], seq.values[i]))
    const concSeconds = await timedConcurrent(w.count, inFlight, (i) => engine.put(conc.keys[i], conc.values[i]))
    const order = seq.keys.map((_, i) => i).sort(() => Math.random() - 0.5)
    const get = await timedSequential(w.count, async (i) => {
      const v = await engine.get(seq.keys[order[i]])
      if (!v || v.byteLength !== w.size) throw new Error(`${candidate.name}: bad read`)
    })
    // Half the ring: (0x40…, 0xc0…], about half of the 2·count keys.
    const after = Buffer.alloc(32, 0x40)
    const upTo = Buffer.alloc(32, 0xc0)
    const scanStart = nowMs()
    const scanKeys = await engine.scan(after, upTo)
    const scanSeconds = (nowMs() - scanStart) / 1000
    const mb = (w.count * w.size) / 1e6
    return {
      putOps: w.count / put.seconds,
      putMBs: mb / put.seconds,
      putP50: put.p50,
      putP99: put.p99,
      putConcOps: w.count / concSeconds,
      putConcMBs: mb / concSeconds,
      getOps: w.count / get.seconds,
      getMBs: mb / get.seconds,
      getP50: get.p50,
      getP99: get.p99,
      scanKeys,
      scanKeysPerSec: scanKeys / Math.max(scanSeconds, 1e-6)
    }
  } finally {
    await engine.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

// ---- report ----------------------------------------------------------------

const fmt = (n: number, digits = 0) =>
  n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(n >= 10 ? Math.max(digits, 1) : 2)

function row(name: string, f: Figures, base: Figures): string {
  const r = (v: number, b: number) => `${fmt(v)} (${(v / b).toFixed(2)}×)`
  const rl = (v: number, b: number) => `${v.toFixed(2)} (${(v / b).toFixed(2)}×)`
  return [
    name.padEnd(16),
    `put ${r(f.putOps, base.putOps)} ops/s ${r(f.putMBs, base.putMBs)} MB/s p50 ${rl(f.putP50, base.putP50)} ms p99 ${rl(f.putP99, base.putP99)} ms`,
    `put×${inFlightArg} ${r(f.putConcOps, base.putConcOps)} ops/s ${r(f.putConcMBs, base.putConcMBs)} MB/s`,
    `get ${r(f.getOps, base.getOps)} ops/s ${r(f.getMBs, base.getMBs)} MB/s p50 ${rl(f.getP50, base.getP50)} ms p99 ${rl(f.getP99, base.getP99)} ms`,
    `scan ${f.scanKeys} keys ${r(f.scanKeysPerSec, base.scanKeysPerSec)} keys/s`
  ].join('\n    ')
}

const args = minimist(process.argv.slice(2), {
  string: ['dir', 'only'],
  default: { small: 2000, large: 128, 'in-flight': 16 }
})
const inFlightArg = Number(args['in-flight'])

async function main() {
  const baseDir = fs.mkdtempSync(path.join(args.dir ?? os.tmpdir(), 'peerstore-bench-storage-'))
  const only = args.only ? String(args.only).split(',') : null
  const workloads: Workload[] = [
    { name: 'records ~200 B', size: 200, count: Number(args.small) },
    { name: 'chunks 1 MiB', size: 1024 * 1024, count: Number(args.large) }
  ]
  process.stdout.write(
    `# bench-storage: node ${process.version}, ${os.cpus().length} CPU, dir ${baseDir}\n` +
      `# latencies are for one write/read in flight; put×${inFlightArg} has ${inFlightArg} in flight; ratios are against 'files'\n`
  )
  for (const c of CANDIDATES) process.stdout.write(`#   ${c.name.padEnd(16)} ${c.note}\n`)
  try {
    for (const w of workloads) {
      process.stdout.write(`\n## ${w.name}, ${w.count} values per phase\n`)
      const base = await measure(CANDIDATES[0], w, baseDir, inFlightArg)
      process.stdout.write(`${row(CANDIDATES[0].name, base, base)}\n`)
      for (const c of CANDIDATES.slice(1)) {
        if (only && !only.includes(c.name)) continue
        try {
          process.stdout.write(`${row(c.name, await measure(c, w, baseDir, inFlightArg), base)}\n`)
        } catch (err) {
          process.stdout.write(`${c.name.padEnd(16)} skipped: ${(err as Error).message}\n`)
        }
      }
    }
  } finally {
    fs.rmSync(baseDir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
