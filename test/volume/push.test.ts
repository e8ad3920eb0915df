// Push between two Volumes of one user on a real ring (hyperswarm on
// 127.0.0.1), without FUSE: with the poller slowed to 30 s, a change flushed
// by one Volume is taken in by the other within a few seconds only because
// the machines holding the sync beacon push its new version
// (remote-sync.ts, lib/node/record-watcher.ts). And a Volume on a ring of
// one, where the beacon's only holder is its own node, works as before.

import { recordCopyStoreFor } from '../../lib/app/record-copy-store'
import test, { type Test } from 'brittle'
import { randomBytes } from '../../lib/crypto'
import type { RingNode } from '../../lib/node/ring-node'
import { RingValueStore } from '../../lib/app/ring-value-store'
import { MemberValueStore } from '../../lib/app/member-value-store'
import { Volume } from '../../lib/volume/volume'
import { VolumeKeys } from '../../lib/volume/volume-keys'
import { createTestRing, ringConsistent } from '../helpers/ring'
import { tempDir } from '../helpers/temp-dir'
import { waitFor } from '../helpers/wait'

/** Far above every deadline below: only push can explain a change seen in time. */
const SLOW_POLL_MS = 30_000
const DEADLINE_MS = 8_000

async function open(t: Test, node: RingNode, seed: Buffer): Promise<Volume> {
  const ring = new RingValueStore(node)
  const home = tempDir(t, 'push-home')
  const volume = new Volume({
    home,
    recordCopy: recordCopyStoreFor(home),
    store: node.store ? new MemberValueStore(ring, node) : ring,
    readCacheBytes: 0,
    chunkSize: 4096,
    flushIntervalMs: 100,
    syncIntervalMs: SLOW_POLL_MS,
    keys: new VolumeKeys(seed),
    onError: (err) => {
      throw err
    }
  })
  await volume.ready()
  // Before the ring nodes close (their teardown runs at order 0).
  t.teardown(() => volume.close(), { order: -1 })
  return volume
}

/**
 * Runs a test's steps; a failure is reported with t.fail rather than thrown,
 * since brittle ends the process on a thrown error without running the
 * teardowns that close the Volumes and nodes and remove the temp dirs.
 */
async function steps(t: Test, body: () => Promise<void>): Promise<void> {
  try {
    await body()
  } catch (err) {
    t.fail((err as Error).message)
  }
}

const names = async (v: Volume, p: string) => (await v.readdir(p)).sort().join(',')

async function seen(what: string, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now()
  await waitFor(what, () => check().catch(() => false), { timeoutMs: DEADLINE_MS, intervalMs: 20 })
  return Date.now() - started
}

test('push: with the poller at 30 s, a change in one Volume reaches the other in seconds', async (t) => {
  t.timeout(120_000)
  const ring = await createTestRing(t)
  await steps(t, async () => {
    for (let i = 0; i < 3; i++) await ring.add()
    await waitFor('a consistent 3-node ring', () => ringConsistent(ring.nodes), 60_000)
    // B on a client-only node (a laptop beside servers), A on a member.
    const client = await ring.add({ clientOnly: true })
    await client.waitForGateway(15_000)
    const seed = randomBytes(32)
    const a = await open(t, ring.nodes[0], seed)
    const b = await open(t, client, seed)
    t.is(await names(b, '/'), '', 'b starts empty')

    const took: string[] = []
    const step = async (what: string, check: () => Promise<boolean>) => {
      const ms = await seen(what, check)
      took.push(`${what} ${ms} ms`)
      t.pass(`${what} in ${ms} ms`)
    }
    const file = await a.create('/note.txt', 0o644)
    await a.write(file, Buffer.from('hello'), 0)
    await a.closeFile(file)
    await step('create', async () => (await names(b, '/')) === 'note.txt')
    await a.mkdir('/docs', 0o755)
    await step('mkdir', async () => (await names(b, '/')) === 'docs,note.txt')
    await a.rename('/note.txt', '/docs/moved.txt')
    await step('rename', async () => (await names(b, '/')) === 'docs' && (await names(b, '/docs')) === 'moved.txt')
    await b.mkdir('/docs/from-b', 0o700)
    await step('b → a', async () => (await names(a, '/docs')) === 'from-b,moved.txt')
    t.comment(`push latency (flush interval 100 ms, poller 30 s): ${took.join('; ')}`)
    t.ok(b.syncStats().pushTicks > 0 && a.syncStats().pushTicks > 0, 'both ticked on a push')
    t.ok(b.syncStats().ticks < 20, `b polled only on pushes: ${b.syncStats().ticks} ticks`)
  })
})

test('push on a ring of one: the node pushes to itself and its own bumps start no tick', async (t) => {
  t.timeout(60_000)
  const ring = await createTestRing(t)
  await steps(t, async () => {
    const node = await ring.add()
    const v = await open(t, node, randomBytes(32))
    for (let i = 0; i < 5; i++) {
      await v.mkdir(`/d${i}`, 0o755)
      await v.sync()
    }
    await waitFor('the own bumps pushed back', () => v.syncStats().pushes >= 5, 5000)
    t.is(v.syncStats().pushTicks, 0, 'none of them started a tick')
    t.is(await names(v, '/'), 'd0,d1,d2,d3,d4')
  })
})
