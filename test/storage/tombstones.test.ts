import test, { type Test } from 'brittle'
import { createRecord, encodeRecord, keyPairFromSeed, randomBytes, recordKey, sha256 } from '../../lib/crypto'
import { NodeStore, type ScanItem, supersedes, TOMBSTONE_TTL_MS } from '../../lib/storage'
import { codeOf } from './helpers'
import { tempDir } from '../helpers/temp-dir'

/** The clock of these tests: times in the thousands of ms stay within the time-to-live. */
const clock = { now: () => 10_000 }

async function openAt(t: Test, dir = tempDir(t, 'store')): Promise<NodeStore> {
  const store = new NodeStore(dir, clock)
  t.teardown(() => store.close())
  await store.ready()
  return store
}

async function collect(it: AsyncIterable<ScanItem>): Promise<ScanItem[]> {
  const out: ScanItem[] = []
  for await (const item of it) out.push(item)
  return out
}

const zero = Buffer.alloc(32)

test('a tombstone replaces an immutable value, is hidden from reads and stats, and persists across reopen', async (t) => {
  const dir = tempDir(t, 'store')
  const bytes = randomBytes(1000)
  const key = sha256(bytes)
  const kept = randomBytes(500)

  const first = await openAt(t, dir)
  await first.putImmutable(key, bytes, { writtenAt: 1000 })
  await first.putImmutable(sha256(kept), kept, { writtenAt: 1000 })
  t.is(await first.putTombstone(key, 2000), true, 'the tombstone deletes the older value')
  t.is(await first.get(key), null, 'get does not serve a tombstone')
  t.is(await first.stat(key), null, 'stat does not list a tombstone as a value')
  t.is(await first.read(key, 0, 10), null, 'read finds nothing')
  t.alike(await first.entry(key), { kind: 'tombstone', size: 0, version: 2000 })
  t.alike(await first.stats(), { keys: 1, bytes: 500 }, 'stats count values only')
  await first.close()

  const second = await openAt(t, dir)
  t.alike(await second.entry(key), { kind: 'tombstone', size: 0, version: 2000 }, 'the tombstone survives reopen')
  t.alike(await second.stats(), { keys: 1, bytes: 500 }, 'stats survive reopen')
  const listed = (await collect(second.scan(zero, zero))).find((i) => i.key.equals(key))
  t.is(listed?.kind, 'tombstone', 'scan lists the tombstone, for anti-entropy')

  // A repair copy written before the delete stays out; one written after it wins.
  await second.putImmutable(key, bytes, { writtenAt: 1500 })
  t.is(await second.get(key), null, 'an older copy does not come back')
  await second.putImmutable(key, bytes, { writtenAt: 2000 })
  t.is(await second.get(key), null, 'a copy as old as the delete does not come back either')
  t.is(await second.putTombstone(key, 1800), false, 'an earlier tombstone changes nothing')
  t.is((await second.entry(key))?.version, 2000)
  await second.putImmutable(key, bytes, { writtenAt: 2500 })
  t.ok((await second.get(key))?.bytes.equals(bytes), 'a copy written after the delete wins')
  t.alike(await second.stats(), { keys: 2, bytes: 1500 })
  t.is(await second.putTombstone(key, 2200), false, 'a tombstone older than the value does not delete it')
  t.ok(await second.get(key))
})

test("a client's write clears a tombstone whatever the clocks say; a client's delete always wins", async (t) => {
  const store = await openAt(t)
  const bytes = randomBytes(100)
  const key = sha256(bytes)
  await store.putTombstone(key, 5000)
  await store.putImmutable(key, bytes, { writtenAt: 4000, fresh: true })
  const entry = await store.stat(key)
  t.is(entry?.kind, 'immutable', 'the fresh write replaced the tombstone')
  t.ok((entry?.version ?? 0) > 5000, 'and is dated after it, so anti-entropy lets it win')
  t.is(await store.putTombstone(key, 3000, { fresh: true }), true, "a client's delete deletes it")
  t.is(await store.get(key), null)
  t.ok(supersedes({ tombstone: true, version: 5001 }, { tombstone: false, version: 5001 }, false), 'delete wins a tie')
  t.absent(supersedes({ tombstone: false, version: 9 }, { tombstone: false, version: 1 }, false), 'copies are equal')

  const owner = keyPairFromSeed(randomBytes(32))
  const record = createRecord(owner, randomBytes(32), 1, Buffer.from('r'))
  const rkey = recordKey(owner.publicKey, record.name)
  await store.putRecord(rkey, encodeRecord(record))
  t.is(await codeOf(store.putTombstone(rkey, 1)), 'EKIND', 'a record is not deleted with an immutable tombstone')
})

test('tombstones expire after the time-to-live and are swept', async (t) => {
  let now = 1_000_000
  const ttl = 60_000
  const store = new NodeStore(tempDir(t, 'store'), { tombstoneTtlMs: ttl, now: () => now })
  t.teardown(() => store.close())
  t.ok(TOMBSTONE_TTL_MS >= 7 * 24 * 3600_000, 'the default keeps tombstones for weeks')
  const values = Array.from({ length: 5 }, () => randomBytes(64))
  for (const [i, v] of values.entries()) await store.putTombstone(sha256(v), now - i * 10_000)
  t.is((await collect(store.scan(zero, zero))).length, 5)
  t.is(await store.dropExpiredTombstones(), 0, 'none is due yet')

  now += 30_000 // the tombstones dated 30 s and 40 s before are 60 s and 70 s old now: due
  t.is(await store.entry(sha256(values[3])), null, 'an expired tombstone counts as absent before the sweep')
  t.is((await collect(store.scan(zero, zero))).length, 3, 'scan skips expired tombstones')
  await store.putImmutable(sha256(values[4]), values[4], { writtenAt: 1 })
  t.ok(await store.get(sha256(values[4])), 'an expired tombstone keeps nothing out')
  t.is(await store.dropExpiredTombstones(), 1, 'the sweep drops the one still stored (the other was replaced)')
  t.is(await store.dropExpiredTombstones(), 0)
  t.alike(await store.stats(), { keys: 1, bytes: 64 })

  now += 10 * ttl
  t.is(await store.dropExpiredTombstones(), 3, 'the rest expire in turn')
  t.alike(
    (await collect(store.scan(zero, zero))).map((i) => i.kind),
    ['immutable'],
    'only the value is left'
  )
})
