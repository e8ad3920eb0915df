import test, { type Test } from 'brittle'
import { keyPairFromSeed, randomBytes, sha256 } from '../../lib/crypto'
import { createTestRing, responsibleOf, ringConsistent } from '../helpers/ring'
import { waitFor } from '../helpers/wait'

/** The user who stores (and alone may delete) the values these tests write. */
const user = keyPairFromSeed(randomBytes(32))

// Also the measurement behind the hand-off figures in docs/ring-node.md: the
// comments print how long the joiner took to receive its share and how long
// until every value was on exactly its k responsible machines again.
async function joinWith2000(t: Test, replicas: number): Promise<void> {
  const ring = await createTestRing(t, { replicas })
  for (let i = 0; i < 4; i++) await ring.add()
  await waitFor('a consistent 4-node ring', () => ringConsistent(ring.nodes), 60_000)
  const values = Array.from({ length: 2000 }, () => randomBytes(200))
  const keys: Buffer[] = []
  for (let i = 0; i < values.length; i += 16) {
    keys.push(...(await Promise.all(values.slice(i, i + 16).map((v) => ring.nodes[0].client.putImmutable(v, user)))))
  }

  const started = Date.now()
  const joiner = await ring.add()
  await waitFor('a consistent 5-node ring', () => ringConsistent(ring.nodes), 60_000)
  const consistent = Date.now() - started
  const share = keys.filter((k) => responsibleOf(ring.nodes, k, replicas).includes(joiner))
  const received = await waitFor(
    'the joiner holds its share',
    async () => {
      for (const k of share) if (!(await joiner.store?.stat(k))) return false
      return true
    },
    { timeoutMs: 300_000, intervalMs: 100 }
  )
  const placed = await waitFor(
    `every value on exactly its ${replicas} machines`,
    async () => {
      for (const k of keys) {
        const want = responsibleOf(ring.nodes, k, replicas)
        for (const n of ring.nodes) if (Boolean(await n.store?.stat(k)) !== want.includes(n)) return false
      }
      return true
    },
    { timeoutMs: 300_000, intervalMs: 100 }
  )
  t.comment(
    `k = ${replicas}: ring consistent ${consistent} ms after the join; the joiner held its ${share.length} keys ` +
      `${consistent + received} ms after; every value on exactly its ${replicas} machines ${consistent + received + placed} ms after`
  )
  t.pass('the share reached the joiner and every stray was handed off')
}

test('a node joins a ring holding 2,000 small values: it receives its share, strays are handed off', async (t) => {
  t.timeout(600_000)
  await joinWith2000(t, 3)
})

// Times the hand-off sweep alone: 2,000 values written straight into one
// machine's store that it is not responsible for, as a join leaves them,
// then two repair rounds on it (the first copies them, the second, finding
// them stray again, drops them).
test('the hand-off sweep moves 2,000 strays to their machines in two rounds', async (t) => {
  t.timeout(600_000)
  const ring = await createTestRing(t)
  // Rounds run only when asked (and when the ring around a node changes).
  for (let i = 0; i < 5; i++) await ring.add({ repairIntervalMs: 3_600_000 })
  await waitFor('a consistent 5-node ring', () => ringConsistent(ring.nodes), 60_000)
  const holder = ring.nodes[0]
  const strays: Buffer[] = []
  while (strays.length < 2000) {
    const value = randomBytes(200)
    const key = sha256(value)
    if (responsibleOf(ring.nodes, key, 3).includes(holder)) continue
    await holder.store?.putImmutable(key, value)
    strays.push(key)
  }
  const started = Date.now()
  await holder.repairNow()
  const first = Date.now() - started
  await holder.repairNow()
  const both = Date.now() - started
  t.comment(`2,000 strays of 200 B: first round ${first} ms, both rounds ${both} ms`)
  // Two rounds do it unless a copy timed out on a loaded machine; then more rounds finish the job.
  const placed = async () => {
    for (const key of strays) {
      const want = responsibleOf(ring.nodes, key, 3)
      for (const n of ring.nodes) if (Boolean(await n.store?.stat(key)) !== want.includes(n)) return false
    }
    return true
  }
  await waitFor(
    'every stray on exactly its 3 machines',
    async () => {
      if (await placed()) return true
      await holder.repairNow()
      return false
    },
    300_000
  )
  t.pass('every stray is on exactly its 3 machines and gone from the holder')
})
