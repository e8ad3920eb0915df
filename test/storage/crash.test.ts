// SIGKILL safety: a writer process is killed at random moments, again and
// again on the same store; afterwards every value stored must verify and
// every write the writer saw acknowledged must be there.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import path from 'node:path'
import test from 'brittle'
import { decodeRecord, randomBytes, sha256, verifyRecord } from '../../lib/crypto'
import { NodeStore } from '../../lib/storage'
import { tempDir } from '../helpers/temp-dir'

const WRITER = path.join(__dirname, 'fixtures', 'crash-writer.js')
const ROUNDS = 6

interface Acks {
  /** Chunks acknowledged and not since being deleted. */
  chunks: Set<string>
  /** Highest acknowledged version per record key. */
  records: Map<string, number>
  total: number
}

/** Runs the writer until `killAfterMs` past its `ready` line, SIGKILLs it, and folds its acks into `acks`. */
function runAndKill(
  dir: string,
  seed: Buffer,
  killAfterMs: number,
  acks: Acks,
  live: Set<ChildProcessWithoutNullStreams>
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, dir, seed.toString('hex')], { stdio: 'pipe' })
    live.add(child)
    let buffered = ''
    let stderr = ''
    let timer: NodeJS.Timeout | null = null
    child.stderr.on('data', (d) => {
      stderr += d
    })
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? '' // a line cut by the kill was never fully acknowledged
      for (const line of lines) {
        const [what, hex, version] = line.split(' ')
        if (what === 'ready') timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs)
        else if (what === 'imm') acks.chunks.add(hex)
        else if (what === 'deleting') acks.chunks.delete(hex)
        else if (what === 'rec') acks.records.set(hex, Math.max(Number(version), acks.records.get(hex) ?? 0))
        if (what !== 'ready' && what !== 'deleting') acks.total++
      }
    })
    child.on('error', reject)
    child.on('close', (code, signal) => {
      live.delete(child)
      if (timer) clearTimeout(timer)
      if (signal === 'SIGKILL') resolve()
      else reject(new Error(`writer exited with ${code}/${signal} before the kill: ${stderr}`))
    })
  })
}

test('a store SIGKILLed mid-write reopens with every acked value and nothing corrupt', {
  timeout: 120_000
}, async (t) => {
  const dir = tempDir(t, 'crash')
  const live = new Set<ChildProcessWithoutNullStreams>()
  t.teardown(() => {
    for (const child of live) child.kill('SIGKILL')
  })
  const seed = randomBytes(32)
  const acks: Acks = { chunks: new Set(), records: new Map(), total: 0 }
  for (let round = 0; round < ROUNDS; round++) {
    await runAndKill(dir, seed, 100 + Math.floor(Math.random() * 500), acks, live)
  }
  t.comment(`${acks.total} acknowledged writes over ${ROUNDS} kills`)
  t.ok(acks.total > 50, 'the writer got real work done between kills')

  const store = new NodeStore(dir)
  t.teardown(() => store.close())
  await store.ready()

  let keys = 0
  let bytes = 0
  let bad = 0
  const zero = Buffer.alloc(32)
  for await (const item of store.scan(zero, zero)) {
    keys++
    bytes += item.size
    const value = await store.get(item.key)
    if (!value || value.bytes.byteLength !== item.size || value.kind !== item.kind) {
      bad++
      continue
    }
    if (item.kind === 'immutable') {
      if (!sha256(value.bytes).equals(item.key)) bad++
    } else {
      const record = decodeRecord(value.bytes)
      if (!verifyRecord(record, item.key) || record.version !== item.version) bad++
    }
  }
  t.is(bad, 0, `all ${keys} stored values are complete and verify`)
  t.alike(await store.stats(), { keys, bytes }, 'stats agree with the index after crashes')

  let missingChunks = 0
  for (const hex of acks.chunks) if (!(await store.get(Buffer.from(hex, 'hex')))) missingChunks++
  t.is(missingChunks, 0, `all ${acks.chunks.size} acknowledged chunks are present`)
  let lostVersions = 0
  for (const [hex, version] of acks.records) {
    const stored = await store.getRecord(Buffer.from(hex, 'hex'))
    if (!stored || stored.record.version < version) lostVersions++
  }
  t.is(lostVersions, 0, `all ${acks.records.size} records hold at least their acknowledged version`)
})
