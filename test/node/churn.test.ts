import test from 'brittle'
import { keyPairFromSeed, randomBytes } from '../../lib/crypto'
import { copiesOf, createTestRing, ringConsistent } from '../helpers/ring'
import { sleep, waitFor } from '../helpers/wait'

/** The user who stores (and alone may delete) the values these tests write. */
const user = keyPairFromSeed(randomBytes(32))

test('sixteen nodes joining at once end in one ring with every value readable', async (t) => {
  t.timeout(240_000)
  const ring = await createTestRing(t)
  for (let i = 0; i < 4; i++) await ring.add()
  await waitFor('a consistent 4-node ring', () => ringConsistent(ring.nodes), 60_000)
  const values = Array.from({ length: 40 }, () => randomBytes(2048))
  const keys = await Promise.all(values.map((v) => ring.nodes[0].client.putImmutable(v, user)))

  await Promise.all(Array.from({ length: 16 }, () => ring.add()))
  const ms = await waitFor('one consistent 20-node ring', () => ringConsistent(ring.nodes), 120_000)
  t.comment(`20 nodes consistent ${ms} ms after 16 joined at once`)
  for (const n of ring.nodes) t.ok(n.chord.isMember, 'every node is a member')

  for (let i = 0; i < keys.length; i++) {
    const got = await ring.nodes[4 + (i % 16)].client.get(keys[i])
    t.ok(got?.bytes.equals(values[i]), `value ${i} readable through a new node`)
  }
  await waitFor(
    'every value on at least 3 of the 20 nodes',
    async () => {
      for (const key of keys) if ((await copiesOf(ring.nodes, key)) < 3) return false
      return true
    },
    60_000
  )
  t.pass('replicas follow the new owners')
})

test('nodes joining while a client streams large values: no error, no stale byte', async (t) => {
  t.timeout(240_000)
  const ring = await createTestRing(t)
  for (let i = 0; i < 3; i++) await ring.add()
  await waitFor('a consistent 3-node ring', () => ringConsistent(ring.nodes), 60_000)
  // 4 MiB values are read in 1 MiB ranged pieces, so joins land between pieces.
  const values = Array.from({ length: 6 }, () => randomBytes(4 * 1024 * 1024))
  const keys = []
  for (const v of values) keys.push(await ring.nodes[0].client.putImmutable(v, user))

  let reading = true
  let reads = 0
  const errors: string[] = []
  const reader = (async () => {
    while (reading) {
      for (let i = 0; i < keys.length && reading; i++) {
        try {
          const got = await ring.nodes[1].client.get(keys[i])
          if (!got?.bytes.equals(values[i])) errors.push(`read ${reads}: value ${i} ${got ? 'differs' : 'missing'}`)
        } catch (err) {
          errors.push(`read ${reads}: ${(err as Error).message}`)
        }
        reads++
      }
    }
  })()
  await waitFor('the first read', () => reads > 0, 60_000)
  const readsBeforeJoins = reads
  for (let i = 0; i < 5; i++) {
    await ring.add()
    // On purpose: the joins are spread out so that reads run between them.
    await sleep(500)
  }
  await waitFor('a consistent 8-node ring', () => ringConsistent(ring.nodes), 120_000)
  const readsDuringJoins = reads - readsBeforeJoins
  // Then every value once more, now that the new owners took over.
  const target = reads + keys.length
  await waitFor('one more pass over every value', () => reads >= target, 120_000)
  reading = false
  await reader
  t.comment(`${readsDuringJoins} reads of 4 MiB values while 5 nodes joined, ${reads} in all`)
  t.ok(readsDuringJoins > 0, 'reads ran while the nodes joined')
  t.alike(errors, [], 'no read failed or returned a wrong byte')
})
