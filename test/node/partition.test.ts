import test from 'brittle'
import { keyPairFromSeed, randomBytes } from '../../lib/crypto'
import { copiesOf, createTestRing, ringConsistent } from '../helpers/ring'
import { waitFor } from '../helpers/wait'

/** The user who stores (and alone may delete) the values these tests write. */
const user = keyPairFromSeed(randomBytes(32))

test('two groups lose sight of each other, write on both sides, find each other again: one ring, every write readable', async (t) => {
  t.timeout(300_000)
  const ring = await createTestRing(t)
  for (let i = 0; i < 6; i++) await ring.add()
  await waitFor('a consistent 6-node ring', () => ringConsistent(ring.nodes), 60_000)
  const groupA = ring.nodes.slice(0, 3)
  const groupB = ring.nodes.slice(3)

  const before = randomBytes(3000)
  const beforeKey = await ring.nodes[0].client.putImmutable(before, user)

  // The partition: every connection between the groups is cut and none is allowed.
  for (const a of groupA) for (const b of groupB) a.network.blockPeer(b.publicKey)
  for (const b of groupB) for (const a of groupA) b.network.blockPeer(a.publicKey)
  const split = await waitFor(
    'two separate consistent rings',
    () => ringConsistent(groupA) && ringConsistent(groupB),
    120_000
  )
  t.comment(`split into two rings in ${split} ms`)

  const sideA = Array.from({ length: 10 }, () => randomBytes(2000))
  const sideB = Array.from({ length: 10 }, () => randomBytes(2000))
  const keysA = await Promise.all(sideA.map((v) => groupA[0].client.putImmutable(v, user)))
  const keysB = await Promise.all(sideB.map((v) => groupB[0].client.putImmutable(v, user)))

  // The heal: the groups may connect again and find each other through the topic.
  for (const a of groupA) for (const b of groupB) a.network.unblockPeer(b.publicKey)
  for (const b of groupB) for (const a of groupA) b.network.unblockPeer(a.publicKey)
  const healed = await waitFor('one consistent 6-node ring again', () => ringConsistent(ring.nodes), 180_000)
  t.comment(`merged into one ring ${healed} ms after the heal`)

  const all = [...keysA.map((k, i) => [k, sideA[i]]), ...keysB.map((k, i) => [k, sideB[i]]), [beforeKey, before]]
  for (let i = 0; i < all.length; i++) {
    const [key, value] = all[i]
    const got = await ring.nodes[(i * 5) % 6].client.get(key)
    t.ok(got?.bytes.equals(value), `write ${i} readable from the merged ring`)
  }
  await waitFor(
    'every write on 3 machines of the merged ring',
    async () => {
      for (const [key] of all) if ((await copiesOf(ring.nodes, key)) < 3) return false
      return true
    },
    120_000
  )
  t.pass('replication restored after the merge')
})
