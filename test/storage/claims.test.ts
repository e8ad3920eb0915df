// Ownership of immutable values at the NodeStore (docs/storage.md, "Ownership
// of chunks"): only a user holding a claim can delete it, a delete removes
// only its signer's claim, dates far ahead are refused, a record wins at its
// key, and an equal-version record fork is settled the same way everywhere.

import test from 'brittle'
import {
  type ChunkClaim,
  createChunkClaim,
  createChunkDelete,
  createRecord,
  encodeRecord,
  keyPairFromSeed,
  MAX_CLOCK_SKEW_MS,
  namespace,
  randomBytes,
  recordKey,
  sha256
} from '../../lib/crypto'
import { codeOf, openStore } from './helpers'

const alice = keyPairFromSeed(randomBytes(32))
const bob = keyPairFromSeed(randomBytes(32))
const mallory = keyPairFromSeed(randomBytes(32))

function chunk(size = 500): { key: Buffer; bytes: Buffer } {
  const bytes = randomBytes(size)
  return { key: sha256(bytes), bytes }
}

test('only a claim owner deletes: empty, forged and foreign deletes leave the value; its own delete removes it', async (t) => {
  const store = await openStore(t)
  const { key, bytes } = chunk()
  await store.putImmutable(key, bytes, { claims: [createChunkClaim(alice, key)], fresh: true })
  t.ok(await store.stat(key), 'stored with alice’s claim')

  t.is(await codeOf(store.deleteChunk(key, createChunkDelete(mallory, key))), 'EPERM', 'a stranger’s signed delete')
  const forged: ChunkClaim = { ...createChunkDelete(mallory, key), owner: alice.publicKey }
  t.is(await codeOf(store.deleteChunk(key, forged)), 'EBADSIG', 'a delete naming alice signed by mallory')
  const replayedClaim = createChunkClaim(alice, key)
  t.is(await codeOf(store.deleteChunk(key, replayedClaim)), 'EBADSIG', 'alice’s claim is not a delete')
  const flipped = { ...replayedClaim, deleted: true }
  t.is(await codeOf(store.deleteChunk(key, flipped)), 'EBADSIG', 'nor does flipping its flag make it one')
  t.is(await codeOf(store.putTombstone(key, Date.now())), 'EPERM', 'no unsigned tombstone over a claimed value')
  t.alike((await store.get(key))?.bytes, bytes, 'the value is still there')

  // Mallory read the bytes and posts them again: she only adds her claim, and deleting it takes only hers.
  await store.putImmutable(key, bytes, { claims: [createChunkClaim(mallory, key)], fresh: true })
  t.ok(await store.deleteChunk(key, createChunkDelete(mallory, key)), 'mallory deletes her own claim')
  t.alike((await store.get(key))?.bytes, bytes, 'alice’s claim keeps the value')

  t.ok(await store.deleteChunk(key, createChunkDelete(alice, key)), 'alice deletes hers')
  t.is(await store.get(key), null, 'no claim left: the value is gone')
  t.is((await store.entry(key))?.kind, 'tombstone', 'a tombstone of the signed deletes stays')
  const state = await store.chunkState(key)
  t.is(state.claims.length, 2, 'both owners’ deletes are kept for anti-entropy')
  t.ok(
    state.claims.every((c) => c.deleted),
    'all of them deletes'
  )
  t.is((await store.stats()).keys, 0, 'stats count no tombstone')
})

test('two users store the same bytes: the value stays until both delete', async (t) => {
  const store = await openStore(t)
  const { key, bytes } = chunk()
  await store.putImmutable(key, bytes, { claims: [createChunkClaim(alice, key)], fresh: true })
  await store.putImmutable(key, bytes, { claims: [createChunkClaim(bob, key)], fresh: true })
  await store.deleteChunk(key, createChunkDelete(alice, key))
  t.alike((await store.get(key))?.bytes, bytes, 'bob still holds a claim')
  await store.deleteChunk(key, createChunkDelete(bob, key))
  t.is(await store.get(key), null, 'gone after both deletes')
  t.is(
    await store.deleteChunk(randomBytes(32), createChunkDelete(alice, randomBytes(32))).catch((e) => e.code),
    'EBADSIG',
    'a delete signed for another key'
  )
  const unknown = randomBytes(32)
  t.is(await store.deleteChunk(unknown, createChunkDelete(alice, unknown)), false, 'an unknown key: nothing stored')
  t.is(await store.entry(unknown), null, 'no tombstone is kept for a key this store never held')
})

test('claims and deletes dated more than the clock skew ahead are refused', async (t) => {
  const store = await openStore(t)
  const { key, bytes } = chunk()
  const far = Date.now() + MAX_CLOCK_SKEW_MS + 60_000
  t.is(
    await codeOf(store.putImmutable(key, bytes, { claims: [createChunkClaim(alice, key, far)] })),
    'EFUTURE',
    'a future claim'
  )
  t.is(await store.stat(key), null, 'and nothing is stored')
  const near = Date.now() + 60_000
  await store.putImmutable(key, bytes, { claims: [createChunkClaim(alice, key, near)] })
  t.ok(await store.stat(key), 'a claim a minute ahead (clock skew) is taken')
  t.is(
    await codeOf(store.deleteChunk(key, createChunkDelete(alice, key, 2 ** 53 - 1))),
    'EFUTURE',
    'a delete at 2^53−1'
  )
  t.is(
    await codeOf(store.putChunkDeletes(key, [createChunkDelete(alice, key, far)])),
    'EFUTURE',
    'a future repair delete'
  )
  t.is(await codeOf(store.putTombstone(randomBytes(32), 4e15)), 'EFUTURE', 'an unsigned tombstone dated 4e15')
  const legacy = chunk()
  t.is(await codeOf(store.putImmutable(legacy.key, legacy.bytes, { writtenAt: 2 ** 53 - 1 })), 'EFUTURE')
  t.ok(await store.stat(key), 'the value survived every attempt')
})

test('per owner the later of claim and delete wins, whatever order copies arrive in', async (t) => {
  const a = await openStore(t)
  const b = await openStore(t)
  const { key, bytes } = chunk()
  const t0 = Date.now() - 10_000
  const claimA = createChunkClaim(alice, key, t0)
  const deleteA = createChunkDelete(alice, key, t0 + 1000)
  const claimB = createChunkClaim(bob, key, t0 + 500)
  const reclaimA = createChunkClaim(alice, key, t0 + 2000)
  // Store a sees them in time order, store b backwards, as repair may deliver them.
  await a.putImmutable(key, bytes, { claims: [claimA] })
  await a.putImmutable(key, bytes, { claims: [claimB] })
  await a.putChunkDeletes(key, [deleteA])
  await a.putImmutable(key, bytes, { claims: [reclaimA] })
  await b.putImmutable(key, bytes, { claims: [reclaimA] })
  await b.putChunkDeletes(key, [deleteA])
  await b.putImmutable(key, bytes, { claims: [claimA, claimB] })
  t.is(await a.syncDigest(key, 'immutable'), await b.syncDigest(key, 'immutable'), 'the same claims whatever the order')
  t.ok(await a.stat(key), 'a holds the value')
  t.ok(await b.stat(key), 'b holds the value')
  const owners = (await b.chunkState(key)).claims.filter((c) => !c.deleted).map((c) => c.owner.toString('hex'))
  t.alike(owners.sort(), [alice.publicKey.toString('hex'), bob.publicKey.toString('hex')].sort())

  // A claim older than its owner's own delete is refused to a client (it would be lost), taken silently from repair.
  const other = chunk()
  await a.putImmutable(other.key, other.bytes, { claims: [createChunkClaim(alice, other.key, t0)], fresh: true })
  await a.deleteChunk(other.key, createChunkDelete(alice, other.key, t0 + 1000))
  t.is(
    await codeOf(
      a.putImmutable(other.key, other.bytes, { claims: [createChunkClaim(alice, other.key, t0 + 500)], fresh: true })
    ),
    'ESTALE',
    'a fresh write dated before the writer’s own delete is refused, not lost silently'
  )
  await a.putImmutable(other.key, other.bytes, { claims: [createChunkClaim(alice, other.key, t0 + 1500)], fresh: true })
  t.ok(await a.stat(other.key), 'a claim after the delete brings the value back')
})

test('values stored before claims: no remote delete removes them, and claims added later keep them', async (t) => {
  const store = await openStore(t)
  const { key, bytes } = chunk()
  await store.putImmutable(key, bytes) // no claim: as stored by the code before claims
  t.alike(await store.chunkState(key), { claims: [], unclaimed: true }, 'an unclaimed value')
  t.is(await codeOf(store.deleteChunk(key, createChunkDelete(mallory, key))), 'EPERM', 'nobody deletes it remotely')
  await store.putImmutable(key, bytes, { claims: [createChunkClaim(alice, key)], fresh: true })
  const state = await store.chunkState(key)
  t.is(state.claims.length, 1, 'alice’s claim is added')
  t.ok(state.unclaimed, 'the unsigned claim stays')
  await store.deleteChunk(key, createChunkDelete(alice, key))
  t.alike((await store.get(key))?.bytes, bytes, 'deleting alice’s claim leaves the value (a leak, never a loss)')
  t.ok(await store.deleteImmutable(key), 'the member itself may still drop its own copy')
  t.is(await store.entry(key), null, 'and nothing of it is left')
})

test('a record wins at its key: no value, tombstone or delete blocks it', async (t) => {
  const store = await openStore(t)
  const name = randomBytes(32)
  const key = recordKey(alice.publicKey, name)
  // The bytes that hash to a record key are refused as a value.
  const preimage = Buffer.concat([namespace('record-key'), alice.publicKey, name])
  t.alike(sha256(preimage), key, 'these bytes hash to the record key')
  t.is(await codeOf(store.putImmutable(key, preimage, { claims: [createChunkClaim(mallory, key)] })), 'EKIND')
  // Deletes for a key never held leave nothing; an old unsigned tombstone at the key is replaced.
  t.is(await store.deleteChunk(key, createChunkDelete(mallory, key)), false)
  t.is(await store.putChunkDeletes(key, [createChunkDelete(mallory, key)]), false)
  t.is(await store.entry(key), null, 'nothing stored for the record key')
  await store.putTombstone(key, Date.now())
  t.is((await store.entry(key))?.kind, 'tombstone', 'an unsigned tombstone from before claims at the key')
  const record = createRecord(alice, name, 1, Buffer.from('root'))
  await store.putRecord(key, encodeRecord(record))
  t.is((await store.getRecord(key))?.record.version, 1, 'the record replaced it')
  t.is((await store.stats()).keys, 1)
})

test('an equal-version fork is settled the same way on every store and reported', async (t) => {
  const name = randomBytes(32)
  const key = recordKey(alice.publicKey, name)
  const one = encodeRecord(createRecord(alice, name, 1, Buffer.from('first tree')))
  const two = encodeRecord(createRecord(alice, name, 1, Buffer.from('second tree')))
  const winner = Buffer.compare(sha256(one), sha256(two)) < 0 ? one : two
  const a = await openStore(t)
  const b = await openStore(t)
  await a.putRecord(key, one)
  await b.putRecord(key, two)
  const errA = await a.putRecord(key, two).catch((e) => e)
  const errB = await b.putRecord(key, one).catch((e) => e)
  t.is(errA.code, 'EFORK', 'reported as a fork, not success')
  t.is(errB.code, 'EFORK')
  t.alike(errA.current.bytes, one, 'with the record held before')
  t.alike((await a.get(key))?.bytes, winner, 'a keeps the lower hash')
  t.alike((await b.get(key))?.bytes, winner, 'b keeps the same one')
  t.is(await a.syncDigest(key, 'record'), await b.syncDigest(key, 'record'), 'and anti-entropy sees them equal')
  await a.putRecord(key, encodeRecord(createRecord(alice, name, 2, Buffer.from('merged'))))
  t.is((await a.getRecord(key))?.record.version, 2, 'a higher version settles it for good')
})
