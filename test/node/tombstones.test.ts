// Tombstones for immutable values (docs/ring-node.md, "DeleteFile"): a
// machine that missed a delete gets it through anti-entropy instead of
// copying the value back, and a later write of the same bytes wins.

import path from 'node:path'
import test from 'brittle'
import { keyPairFromSeed, randomBytes } from '../../lib/crypto'
import type { RingNode } from '../../lib/node/ring-node'
import { NodeStore } from '../../lib/storage'
import { copiesOf, createTestRing, ringConsistent } from '../helpers/ring'
import { waitFor } from '../helpers/wait'

/** The user who stores (and alone may delete) the values these tests write. */
const user = keyPairFromSeed(randomBytes(32))

function live(nodes: RingNode[]): RingNode[] {
  return nodes.filter((n) => !n.chord.isClosed)
}

/** A consistent 5-node ring (k = 3) holding one value written through node 0, and the machines that hold it. */
async function ringWithValue(t: Parameters<typeof createTestRing>[0]) {
  const ring = await createTestRing(t)
  for (let i = 0; i < 5; i++) await ring.add()
  await waitFor('a consistent 5-node ring', () => ringConsistent(ring.nodes), 60_000)
  const key = await ring.nodes[0].client.putImmutable(randomBytes(5000), user)
  const holders: RingNode[] = []
  for (const n of ring.nodes) if (await n.store?.stat(key)) holders.push(n)
  return { ring, key, holders }
}

/** Several full repair rounds on every live node, one node after another. */
async function repairRounds(nodes: RingNode[], rounds: number): Promise<void> {
  for (let r = 0; r < rounds; r++) for (const n of live(nodes)) await n.repairNow()
}

test('a holder away during a delete comes back: the tombstone wins, the value stays gone', async (t) => {
  t.timeout(300_000)
  const { ring, key, holders } = await ringWithValue(t)
  t.is(holders.length, 3, 'stored on k = 3 machines')
  // Stop a holder that is not the writer; its home (and its copy) stays.
  const away = holders.find((n) => n !== ring.nodes[0]) as RingNode
  await away.destroy()
  await waitFor('a consistent ring without the stopped holder', () => ringConsistent(live(ring.nodes)), 60_000)

  await ring.nodes[0].client.deleteImmutable(key, user)
  t.is(await copiesOf(live(ring.nodes), key), 0, 'deleted on every live machine')

  const stopped = new NodeStore(path.join(away.home, 'node-store'))
  t.ok(await stopped.stat(key), 'the stopped holder still has its copy')
  await stopped.close()
  const back = await ring.add({ home: away.home })
  await waitFor('the returning holder back in a consistent ring', () => ringConsistent(live(ring.nodes)), 60_000)
  const ms = await waitFor(
    'the returned copy deleted by anti-entropy',
    async () => (await copiesOf(live(ring.nodes), key)) === 0,
    60_000
  )
  t.comment(`the copy that came back was deleted ${ms} ms after the ring was whole again`)

  await repairRounds(ring.nodes, 3)
  t.is(await copiesOf(live(ring.nodes), key), 0, 'still gone after three more repair rounds on every machine')
  for (const n of live(ring.nodes)) t.is(await n.client.get(key), null, 'a read through any node finds nothing')
  const status = await back.status()
  t.is(status.keys, 0, 'the tombstone is not counted as a stored key')
})

test('a holder cut off during a delete rejoins: its copy is deleted, not copied back', async (t) => {
  t.timeout(300_000)
  const { ring, key, holders } = await ringWithValue(t)
  const away = holders.find((n) => n !== ring.nodes[0]) as RingNode
  const rest = ring.nodes.filter((n) => n !== away)
  // Unlike a restart, the cut-off machine stays a member throughout (a ring
  // of one, then merged back), so its copy is never a stray it hands off:
  // only the tombstone can delete it.
  for (const n of rest) {
    n.network.blockPeer(away.publicKey)
    away.network.blockPeer(n.publicKey)
  }
  await waitFor('the four others a ring of their own', () => ringConsistent(rest) && ringConsistent([away]), 120_000)
  await ring.nodes[0].client.deleteImmutable(key, user)
  t.is(await copiesOf(rest, key), 0, 'deleted on every machine in reach')
  t.ok(await away.store?.stat(key), 'the cut-off machine still holds its copy')

  for (const n of rest) {
    n.network.unblockPeer(away.publicKey)
    away.network.unblockPeer(n.publicKey)
  }
  await waitFor('one consistent ring again', () => ringConsistent(ring.nodes), 180_000)
  await waitFor('the copy deleted by anti-entropy', async () => (await copiesOf(ring.nodes, key)) === 0, 60_000)
  await repairRounds(ring.nodes, 3)
  t.is(await copiesOf(ring.nodes, key), 0, 'still gone after three more repair rounds on every machine')
  for (const n of ring.nodes) t.is(await n.client.get(key), null, 'a read through any node finds nothing')
})

test('put, delete, put again the same bytes: the second write is readable and stays on k machines', async (t) => {
  t.timeout(300_000)
  const ring = await createTestRing(t)
  for (let i = 0; i < 5; i++) await ring.add()
  await waitFor('a consistent 5-node ring', () => ringConsistent(ring.nodes), 60_000)

  const value = randomBytes(3000)
  const key = await ring.nodes[1].client.putImmutable(value, user)
  await ring.nodes[2].client.deleteImmutable(key, user)
  t.is(await copiesOf(ring.nodes, key), 0, 'deleted everywhere')
  t.is(await ring.nodes[3].client.get(key), null, 'not found after the delete')

  t.alike(await ring.nodes[4].client.putImmutable(value, user), key, 'the same bytes are stored again')
  t.is(await copiesOf(ring.nodes, key), 3, 'on k machines at acknowledgement')
  // The machines that hold tombstones but are not responsible hand them to
  // the responsible ones, which must keep the newer value.
  await repairRounds(ring.nodes, 3)
  t.is(await copiesOf(ring.nodes, key), 3, 'still on k machines after three repair rounds on every machine')
  for (const n of ring.nodes) t.ok((await n.client.get(key))?.bytes.equals(value), 'readable through every node')
})
