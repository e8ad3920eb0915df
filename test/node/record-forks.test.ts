// A record write counts as stored only where the new version really is
// (issue 12, item 9): a replica keeping a different record of the same
// version (a fork) or a newer one makes the write fail with the other record,
// so the writer merges instead of believing it landed. The holders settle the
// fork the same way, and anti-entropy leaves them all with one record.

import test from 'brittle'
import { createRecord, encodeRecord, keyPairFromSeed, randomBytes, recordKey, sha256 } from '../../lib/crypto'
import { FileKind, METHODS, PostFileRequest, PostFileResponse } from '../../lib/node/file-messages'
import type { RingNode } from '../../lib/node/ring-node'
import { createTestRing, ringConsistent } from '../helpers/ring'
import { waitFor } from '../helpers/wait'

test('a replica holding another record of the same version fails the write; the fork is settled everywhere', async (t) => {
  t.timeout(180_000)
  const ring = await createTestRing(t, { replicas: 3 })
  for (let i = 0; i < 3; i++) await ring.add()
  await waitFor('a consistent 3-node ring', () => ringConsistent(ring.nodes), 60_000)
  const alice = keyPairFromSeed(randomBytes(32))
  const name = randomBytes(32)
  const key = recordKey(alice.publicKey, name)
  const writer = ring.nodes[0]
  await writer.client.putRecord(createRecord(alice, name, 1, Buffer.from('one')), 0, key)

  // One replica (not the owner) already holds a different version 2, as after a
  // write the owner missed while it was away.
  const owner = (await writer.client.responsible(key))[0]
  const byAddress = (a: string) => ring.nodes.find((n) => n.publicKey.toString('hex') === a) as RingNode
  const replica = ring.nodes.find((n) => n.publicKey.toString('hex') !== owner.address) as RingNode
  const theirs = encodeRecord(createRecord(alice, name, 2, Buffer.from('the other device’s tree')))
  await replica.store!.putRecord(key, theirs)

  // Directly: a replica copy of another version 2 is answered ok: false with what the replica keeps.
  const mine = encodeRecord(createRecord(alice, name, 2, Buffer.from('this device’s tree')))
  const direct = await writer.network.request(
    replica.publicKey,
    METHODS.PostFile,
    { key, kind: FileKind.Record, bytes: mine, replicate: false },
    PostFileRequest,
    PostFileResponse
  )
  t.is(direct.ok, false, 'a replica copy that does not land is not ok')
  t.ok(direct.current?.equals(theirs), 'and carries the record the replica held')

  // Through the owner's compare-and-swap, as the Volume writes.
  await replica.store!.delete(key)
  await replica.store!.putRecord(key, encodeRecord(createRecord(alice, name, 1, Buffer.from('one'))))
  await replica.store!.putRecord(key, theirs)
  const err = await writer.client
    .putRecord(createRecord(alice, name, 2, Buffer.from('this device’s tree, again')), 1, key)
    .catch((e) => e)
  t.is(err?.code, 'ECONFLICT', 'the writer is told its write did not land everywhere')
  t.ok(err?.current && err.current.version === 2, 'with the other version 2 to merge')

  // The holders settle on one record of version 2, the same on each (a repair round carries it).
  const held = async () => {
    const all = await Promise.all(ring.nodes.map((n) => n.store!.get(key)))
    return new Set(all.map((v) => (v ? sha256(v.bytes).toString('hex') : 'none')))
  }
  await waitFor(
    'one record of version 2 on every holder',
    async () => {
      for (const n of ring.nodes) await n.repairNow()
      return (await held()).size === 1
    },
    60_000
  )
  t.is((await held()).size, 1, 'every holder keeps the same record')
  t.is((await byAddress(owner.address).store!.stat(key))?.version, 2)

  // The writer merges and writes version 3 over it: stored everywhere.
  const current = await writer.client.getRecord(key)
  await writer.client.putRecord(createRecord(alice, name, 3, Buffer.from('merged')), current!.version, key)
  for (const n of ring.nodes) t.is((await n.store!.getRecord(key))?.record.version, 3, 'version 3 on every holder')
})
