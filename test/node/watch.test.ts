// Push of record changes (docs/ring-node.md, "Watch") on a real ring over
// hyperswarm on 127.0.0.1: a client-only node subscribes to a record key,
// another node writes the record, the watcher hears of each new version;
// the subscriptions follow the key to its new responsible machines when its
// owner leaves, come back after a cut connection, and are bounded per peer.

import test, { type Test } from 'brittle'
import { createRecord, keyPairFromSeed, randomBytes, recordKey } from '../../lib/crypto'
import {
  UnwatchRequest,
  UnwatchResponse,
  WATCH_METHODS,
  WatchRequest,
  WatchResponse
} from '../../lib/node/watch-messages'
import type { RingNode } from '../../lib/node/ring-node'
import { createTestRing, responsibleOf, ringConsistent } from '../helpers/ring'
import { waitFor } from '../helpers/wait'

/** Nodes whose WatchService holds the watcher's subscription to `key`. */
/**
 * Runs a test's steps; a failure is reported with t.fail rather than thrown,
 * since brittle ends the process on a thrown error without running the
 * teardowns that close the nodes and remove their temp dirs.
 */
async function steps(t: Test, body: () => Promise<void>): Promise<void> {
  try {
    await body()
  } catch (err) {
    t.fail((err as Error).message)
  }
}

function holdersOf(nodes: RingNode[], watcher: RingNode): RingNode[] {
  const hex = watcher.publicKey.toString('hex')
  return nodes.filter((n) => !n.chord.isClosed && (n.watches?.count(hex) ?? 0) > 0)
}

test('a watcher hears of every write of a record, across an owner leaving and a cut connection', async (t) => {
  t.timeout(180_000)
  const ring = await createTestRing(t)
  await steps(t, async () => {
    for (let i = 0; i < 5; i++) await ring.add()
    await waitFor('a consistent 5-node ring', () => ringConsistent(ring.nodes), 60_000)
    const members = [...ring.nodes]
    const watcher = await ring.add({ clientOnly: true, watchRefreshMs: 2000 })
    await watcher.waitForGateway(15_000)
    // Any live member writes (the first may be the owner that leaves below).
    let writer = members[0]

    const owner = keyPairFromSeed(randomBytes(32))
    const name = randomBytes(32)
    const key = recordKey(owner.publicKey, name)
    let version = 0
    const write = async () => {
      version++
      await writer.client.putRecord(createRecord(owner, name, version, randomBytes(64)), version - 1, key)
    }

    const heard: number[] = []
    const watch = watcher.watcher.watch(key, (v) => heard.push(v))
    t.teardown(() => watch.close(), { order: -1 })
    await waitFor('the subscription is live', () => watch.live, 15_000)
    await waitFor('subscribed at the 3 responsible machines', () => holdersOf(members, watcher).length === 3, 15_000)
    t.alike(
      new Set(holdersOf(members, watcher)),
      new Set(responsibleOf(members, key, 3)),
      'the machines holding the subscription are the responsible ones'
    )

    const pushed = async (what: string) => {
      const started = Date.now()
      await write()
      await waitFor(`version ${version} pushed (${what})`, () => heard.includes(version), {
        timeoutMs: 10_000,
        intervalMs: 5
      })
      const ms = Date.now() - started
      t.pass(`${what}: version ${version} pushed ${ms} ms after the write began`)
      return ms
    }
    await pushed('first write')
    await pushed('second write')

    // The owner leaves: the key moves to a machine that held no subscription; the watcher follows it.
    const leaving = responsibleOf(members, key, 3)[0]
    await leaving.close()
    const live = members.filter((n) => n !== leaving)
    writer = live[0]
    await waitFor('a consistent 4-node ring', () => ringConsistent(live), 60_000)
    const now = responsibleOf(live, key, 3)
    await waitFor(
      'subscribed at the new responsible machines',
      () => now.every((n) => holdersOf(live, watcher).includes(n)),
      20_000
    )
    t.pass('re-subscribed at the machines now responsible')
    await pushed('after the owner left')

    // A cut connection drops the holder's side of the subscription; the watcher makes it again.
    const cut = now[0]
    watcher.network.blockPeer(cut.publicKey)
    await waitFor('the cut holder dropped the subscription', () => !holdersOf(live, watcher).includes(cut), 15_000)
    t.pass('the holder dropped the subscription with the connection')
    await pushed('while one holder is cut off')
    watcher.network.unblockPeer(cut.publicKey)
    await waitFor('subscribed again after reconnecting', () => holdersOf(live, watcher).includes(cut), 30_000)
    t.pass('re-subscribed after the reconnect')
    await pushed('after the reconnect')
    t.alike(
      heard,
      [...new Set(heard)].sort((a, b) => a - b),
      'each version heard once, in order'
    )

    watch.close()
    await waitFor('unsubscribed everywhere after close()', () => holdersOf(live, watcher).length === 0, 10_000)
    t.pass('close() unsubscribes')
  })
})

test('a node that joins and takes keys over is subscribed at, and its writes are pushed', async (t) => {
  t.timeout(180_000)
  const ring = await createTestRing(t)
  await steps(t, async () => {
    for (let i = 0; i < 4; i++) await ring.add()
    await waitFor('a consistent 4-node ring', () => ringConsistent(ring.nodes), 60_000)
    const watcher = await ring.add({ clientOnly: true, watchRefreshMs: 2000 })
    await watcher.waitForGateway(15_000)
    const owner = keyPairFromSeed(randomBytes(32))
    // Enough keys that the joiner (one machine of 5, 3 responsible per key) takes some of them.
    const names = Array.from({ length: 16 }, () => randomBytes(32))
    const keys = names.map((n) => recordKey(owner.publicKey, n))
    const heard = new Map<string, number>()
    const watches = keys.map((key) => watcher.watcher.watch(key, (v) => heard.set(key.toString('hex'), v)))
    t.teardown(
      () => {
        for (const w of watches) w.close()
      },
      { order: -1 }
    )
    const members = () => ring.nodes.filter((n) => n !== watcher)
    const covered = () =>
      keys.every((key) => responsibleOf(members(), key, 3).every((n) => n.watches?.has(key, watcher.publicKey)))
    await waitFor('subscribed at every key’s responsible machines', covered, 15_000)

    const joiner = await ring.add()
    // ringConsistent leaves out machines not yet members: the joiner must be one first.
    await waitFor('a consistent 5-node ring', () => joiner.chord.isMember && ringConsistent(members()), 60_000)
    const taken = keys.filter((key) => responsibleOf(members(), key, 3).includes(joiner))
    t.ok(taken.length > 0, `the joiner is responsible for ${taken.length} of ${keys.length} keys`)
    await waitFor('subscribed at the joiner for the keys it took', covered, 20_000)
    t.pass('every key is watched at its responsible machines, the joiner included')

    // A write of each key the joiner took: the watcher hears of it.
    for (const key of taken) {
      const name = names[keys.indexOf(key)]
      await ring.nodes[0].client.putRecord(createRecord(owner, name, 1, randomBytes(16)), 0, key)
    }
    await waitFor('every write pushed', () => taken.every((k) => heard.get(k.toString('hex')) === 1), 10_000)
    t.pass('the writes of the keys the joiner took were pushed')
  })
})

test('watches are bounded per peer and dropped when its connection closes', async (t) => {
  t.timeout(120_000)
  const ring = await createTestRing(t)
  await steps(t, async () => {
    const holder = await ring.add({ maxWatchesPerPeer: 3 })
    const peer = await ring.add({ clientOnly: true })
    await peer.waitForGateway(15_000)
    const peerHex = peer.publicKey.toString('hex')
    const ask = (key: Buffer) =>
      peer.network.request(holder.publicKey, WATCH_METHODS.Watch, { key }, WatchRequest, WatchResponse)

    const keys = Array.from({ length: 4 }, () => randomBytes(32))
    for (const key of keys.slice(0, 3)) t.is((await ask(key)).version, 0, 'a key nothing is stored at: version 0')
    await ask(keys[0])
    t.is(holder.watches?.count(peerHex), 3, 'watching the same key again does not count twice')
    await t.exception(ask(keys[3]), /at most 3 keys/, 'the 4th key is refused')
    t.is(holder.watches?.count(peerHex), 3, 'the refused watch holds nothing')

    await peer.network.request(
      holder.publicKey,
      WATCH_METHODS.Unwatch,
      { key: keys[1] },
      UnwatchRequest,
      UnwatchResponse
    )
    t.is(holder.watches?.count(peerHex), 2, 'Unwatch frees a place')
    await ask(keys[3])
    t.is(holder.watches?.count(peerHex), 3, 'which another key can take')

    await peer.destroy()
    await waitFor('the watches are dropped with the connection', () => holder.watches?.count() === 0, 15_000)
    t.pass('no watch outlives the connection')
  })
})
