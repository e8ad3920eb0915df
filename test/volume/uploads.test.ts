// Uploads that fail (the ring is down, the store is full) on a real Volume
// over a LocalValueStore with fault injection at the ValueStore boundary:
// they are retried with backoff, the reason is reported (status, per-file
// status, one log line per cause), close() finishes in seconds leaving the
// work in the journal and spool, and the next mount stores it.

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { randomBytes, sha256 } from '../../lib/crypto'
import type { SignedRecord } from '../../lib/crypto/record'
import { LocalValueStore } from '../../lib/volume/local-value-store'
import { backoffDelay, settlesWhileProgressing, settlesWithin, sleep } from '../../lib/common/retry'
import { codedError } from '../../lib/common/errors'
import { openVolume } from '../helpers/volume'
import { tempDir } from '../helpers/temp-dir'
import { waitFor } from '../helpers/wait'

/** A LocalValueStore whose writes fail with `down` (a code) while it is set: the ring unreachable, or full. */
class FailingStore extends LocalValueStore {
  down: string | null = null
  putAttempts = 0
  override async putImmutable(bytes: Buffer): Promise<Buffer> {
    this.putAttempts++
    if (this.down) throw codedError(this.down, `injected: ${this.down} for ${sha256(bytes).toString('hex')}`)
    return super.putImmutable(bytes)
  }
  override async putRecord(record: SignedRecord, expectedVersion: number): Promise<void> {
    if (this.down) throw codedError(this.down, `injected: ${this.down}`)
    return super.putRecord(record, expectedVersion)
  }
}

const MiB = 1024 * 1024

test('backoff: exponential, jittered, capped', (t) => {
  const at = (attempt: number, r: number) => backoffDelay(attempt, { baseMs: 100, capMs: 5000, random: () => r })
  t.is(at(0, 0), 50, 'attempt 0: half of the base at the least')
  t.is(at(0, 0.999), 100, 'and the base at the most')
  t.is(at(3, 0), 400, 'doubles per attempt')
  t.ok(at(20, 0.999) <= 5000 && at(20, 0.999) > 4900, 'never above the cap')
  t.is(at(1000, 0), 2500, 'a huge attempt number stays finite')
})

test('settlesWithin and sleep: bounded waits that close() can cut short', async (t) => {
  t.is(await settlesWithin(Promise.resolve(1), 1000), true)
  t.is(await settlesWithin(new Promise(() => {}), 50), false, 'a promise that never settles is left behind')
  const errors: Error[] = []
  t.is(await settlesWithin(Promise.reject(new Error('x')), 1000, (e) => errors.push(e)), false)
  t.is(errors.length, 1, 'its failure is reported')
  // While progress is made it waits past idleMs; with none it gives up after idleMs.
  let n = 0
  const ticking = setInterval(() => n++, 20)
  const slow = new Promise((r) => setTimeout(r, 400))
  t.is(
    await settlesWhileProgressing(slow, { idleMs: 150, maxMs: 10_000, progress: () => n }),
    true,
    'slow but moving: waited'
  )
  clearInterval(ticking)
  const t0 = Date.now()
  t.is(await settlesWhileProgressing(new Promise(() => {}), { idleMs: 150, maxMs: 10_000, progress: () => n }), false)
  t.ok(Date.now() - t0 < 5000, 'stuck: gave up after about idleMs')
  const c = new AbortController()
  const s = sleep(60_000, c.signal)
  c.abort()
  t.is(await s, false, 'an aborted sleep ends at once')
})

test('ring down: uploads back off and say why; close() finishes in seconds; the next mount uploads what was left', async (t) => {
  const home = tempDir(t, 'uploads-home')
  const storeDir = tempDir(t, 'uploads-store')
  const store = new FailingStore(storeDir)
  await store.ready()
  const notices: string[] = []
  const volume = await openVolume(home, store, { notice: (line) => notices.push(line), closeTimeoutMs: 2000 })
  let closed = false
  t.teardown(() => (closed ? undefined : volume.close()))

  store.down = 'EUNAVAILABLE'
  const data = randomBytes(3 * MiB + 1234)
  const inode = await volume.create('/big.bin', 0o644)
  await volume.write(inode, data, 0)
  await volume.closeFile(inode)

  await waitFor('an upload failure', () => Boolean(volume.status().uploadFailure), {
    timeoutMs: 30_000,
    intervalMs: 50,
    failOnTimeout: false
  })
  const status = volume.status()
  t.is(status.uploadFailure?.code, 'EUNAVAILABLE', 'status says why uploads wait')
  t.ok(status.pendingChunks >= 4, `${status.pendingChunks} chunks wait`)
  const report = await volume.replicaReport(inode)
  t.ok(report.uploadError?.startsWith('EUNAVAILABLE'), `the file's status says why: ${report.uploadError}`)

  // Retried, with backoff: a few attempts per chunk in a second, not a tight loop.
  const before = store.putAttempts
  await sleep(1000) // on purpose: the attempts in one second are counted
  const perSecond = store.putAttempts - before
  t.ok(perSecond > 0, `uploads are retried (${perSecond} attempts in 1 s)`)
  t.ok(perSecond < 20 * status.pendingChunks, 'with backoff, not in a tight loop')
  const failing = notices.filter((l) => l.includes('uploads failing'))
  t.is(failing.length, 1, `one log line for one cause: ${failing.join(' | ')}`)

  const closeStarted = Date.now()
  await volume.close()
  closed = true
  const closeMs = Date.now() - closeStarted
  t.comment(`close with the store down took ${closeMs} ms`)
  t.ok(closeMs < 15_000, 'close() does not wait for the store')
  t.ok(
    notices.some((l) => /kept on this machine/.test(l)),
    'and says what it left for the next mount'
  )
  t.ok(fs.readdirSync(path.join(home, 'cache', 'spool')).length >= 4, 'the chunks are in the spool')
  t.absent(
    fs.existsSync(path.join(storeDir, 'immutable', sha256(data).toString('hex').slice(0, 2))),
    'nothing reached the store'
  )

  // The ring is back: the next mount replays the journal, uploads the spool and the file is whole.
  store.down = null
  const again = await openVolume(home, store)
  t.teardown(() => again.close())
  const reopened = await again.resolve('/big.bin')
  const buf = Buffer.alloc(data.byteLength)
  t.is(await again.read(reopened, buf, buf.byteLength, 0), data.byteLength)
  t.alike(sha256(buf), sha256(data), 'the file reads back whole')
  await again.sync()
  t.is(again.status().pendingChunks, 0, 'every chunk is stored')
  t.is(again.status().uploadFailure, null, 'no failure left')
  t.is(fs.readdirSync(path.join(home, 'cache', 'spool')).length, 0, 'and the spool is empty')
})

test('ring down: writers go on past the memory budget, the chunks wait in the spool (not in memory)', async (t) => {
  const home = tempDir(t, 'spill-home')
  const store = new FailingStore(tempDir(t, 'spill-store'))
  await store.ready()
  const volume = await openVolume(home, store, { notice: () => {}, closeTimeoutMs: 1000 })
  let closed = false
  t.teardown(() => (closed ? undefined : volume.close()))
  store.down = 'EUNAVAILABLE'
  const inode = await volume.create('/offline.bin', 0o644)
  const data = randomBytes(MiB)
  let peak = 0
  const started = Date.now()
  // 160 MiB: well past the 64 MiB of sealed chunks writers may hold in memory while uploads wait.
  for (let i = 0; i < 160; i++) {
    data.writeUInt32BE(i, 0)
    await volume.write(inode, data, i * MiB)
    peak = Math.max(peak, volume.chunks.pendingMemoryBytes)
  }
  await volume.closeFile(inode)
  t.comment(
    `160 MiB written with the store down in ${Date.now() - started} ms; peak ${(peak / MiB).toFixed(0)} MiB pending in memory; ${volume.chunks.stats.spilled} chunks spilled`
  )
  t.ok(peak <= 80 * MiB, 'memory stays near the budget')
  t.ok(volume.chunks.stats.spilled > 0, 'chunks were spilled to the spool')
  t.ok(fs.readdirSync(path.join(home, 'cache', 'spool')).length >= 100, 'they wait in the spool')
  // A spilled chunk still reads back (from the spool).
  const back = Buffer.alloc(MiB)
  t.is(await volume.read(inode, back, MiB, 5 * MiB), MiB)
  t.is(back.readUInt32BE(0), 5, 'a spilled chunk reads back')
  await volume.close()
  closed = true

  store.down = null
  const again = await openVolume(home, store)
  t.teardown(() => again.close())
  await again.sync()
  t.is(again.status().pendingChunks, 0, 'the next mount stored every chunk')
  const reopened = await again.resolve('/offline.bin')
  t.is(reopened.size, 160 * MiB)
  for (const i of [0, 77, 159]) {
    t.is(await again.read(reopened, back, MiB, i * MiB), MiB)
    t.is(back.readUInt32BE(0), i, `chunk ${i} is whole`)
  }
})

test('a full store: writers get ENOSPC instead of waiting, and writes work again once it has room', async (t) => {
  const home = tempDir(t, 'full-home')
  const store = new FailingStore(tempDir(t, 'full-store'))
  await store.ready()
  const volume = await openVolume(home, store, { notice: () => {}, closeTimeoutMs: 2000 })
  t.teardown(() => volume.close())
  const kept = randomBytes(2 * MiB)
  const first = await volume.create('/kept.bin', 0o644)
  await volume.write(first, kept, 0)
  await volume.fsync(first)

  store.down = 'ENOSPC'
  const inode = await volume.create('/full.bin', 0o644)
  let code: string | null = null
  const started = Date.now()
  try {
    for (let i = 0; i < 64; i++) await volume.write(inode, randomBytes(MiB), i * MiB)
    await volume.closeFile(inode)
  } catch (err) {
    code = (err as { code?: string }).code ?? null
  }
  t.is(code, 'ENOSPC', `the writer got ENOSPC after ${Date.now() - started} ms`)
  t.ok(Date.now() - started < 20_000, 'without waiting for room that never comes')

  store.down = null
  const buf = Buffer.alloc(kept.byteLength)
  t.is(await volume.read(first, buf, buf.byteLength, 0), kept.byteLength)
  t.alike(sha256(buf), sha256(kept), 'what was confirmed before is intact')
  // Once a retry of the failing chunks gets through (backoff), writes are accepted again.
  const waited = await waitFor('uploads resumed', () => !volume.status().uploadFailure, {
    timeoutMs: 60_000,
    failOnTimeout: false
  })
  t.comment(`uploads resumed ${waited} ms after the store had room`)
  await volume.sync()
  const later = await volume.create('/later.bin', 0o644)
  await volume.write(later, randomBytes(2 * MiB), 0)
  await volume.fsync(later)
  t.is(volume.status().uploadFailure, null, 'the store took everything once it had room')
})
