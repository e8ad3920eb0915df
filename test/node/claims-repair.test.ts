// Claims through the ring and anti-entropy (docs/ring-node.md, "DeleteFile"):
// two users store the same bytes; one user's delete leaves the value on k
// machines, the second removes it everywhere; repair converges and then stops
// moving anything (no holder keeps re-sending claims it disagrees on).

import test from 'brittle'
import { keyPairFromSeed, randomBytes } from '../../lib/crypto'
import type { RingNode } from '../../lib/node/ring-node'
import { copiesOf, createTestRing, ringConsistent } from '../helpers/ring'
import { waitFor } from '../helpers/wait'

async function repairRounds(nodes: RingNode[], rounds: number): Promise<void> {
  for (let r = 0; r < rounds; r++) for (const n of nodes) await n.repairNow()
}

/** Values pushed, pulled or handed off by all nodes so far. */
function moved(nodes: RingNode[]): number {
  return nodes.reduce((sum, n) => {
    const s = (n as unknown as { repair: { stats: { pushed: number; pulled: number; handedOff: number } } }).repair
      .stats
    return sum + s.pushed + s.pulled + s.handedOff
  }, 0)
}

test('two owners of one value: the first delete keeps it on k machines, the second removes it; repair goes quiet', async (t) => {
  t.timeout(300_000)
  const ring = await createTestRing(t)
  for (let i = 0; i < 5; i++) await ring.add()
  await waitFor('a consistent 5-node ring', () => ringConsistent(ring.nodes), 60_000)
  const alice = keyPairFromSeed(randomBytes(32))
  const bob = keyPairFromSeed(randomBytes(32))
  const values = Array.from({ length: 20 }, () => randomBytes(3000))
  const keys: Buffer[] = []
  for (const v of values) keys.push(await ring.nodes[0].client.putImmutable(v, alice))
  for (const v of values) await ring.nodes[3].client.putImmutable(v, bob)

  for (const key of keys) {
    const res = await ring.nodes[1].client.deleteImmutable(key, alice)
    t.is(res.refused.length, 0, 'alice may delete her claim')
  }
  await repairRounds(ring.nodes, 2)
  let onK = 0
  for (const key of keys) if ((await copiesOf(ring.nodes, key)) === 3) onK++
  t.is(onK, keys.length, 'bob’s claim keeps every value on 3 machines after alice’s delete and two repair rounds')
  for (let i = 0; i < keys.length; i++) {
    t.ok((await ring.nodes[4].client.get(keys[i]))?.bytes.equals(values[i]), 'readable')
  }

  // Repair converges: a few more rounds move nothing.
  await repairRounds(ring.nodes, 2)
  const before = moved(ring.nodes)
  await repairRounds(ring.nodes, 3)
  t.is(moved(ring.nodes) - before, 0, 'three more rounds on every node move nothing')

  for (const key of keys) await ring.nodes[2].client.deleteImmutable(key, bob)
  await repairRounds(ring.nodes, 2)
  let gone = 0
  for (const key of keys) if ((await copiesOf(ring.nodes, key)) === 0) gone++
  t.is(gone, keys.length, 'after bob’s delete no machine holds any of them')
  const quiet = moved(ring.nodes)
  await repairRounds(ring.nodes, 3)
  t.is(moved(ring.nodes) - quiet, 0, 'and repair stays quiet over the tombstones')
})
