import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { createRecord, keyPairFromSeed, randomBytes, recordKey, sha256, verifyRecord } from '../../lib/crypto'
import { LocalValueStore } from '../../lib/volume/local-value-store'
import { type HasTeardown, tempDir } from '../helpers/temp-dir'

async function freshStore(t: HasTeardown) {
  const dir = tempDir(t, 'lvs')
  const store = new LocalValueStore(dir)
  await store.ready()
  return { store, dir }
}

test('immutable values live at sha256(bytes) and survive reopening', async (t) => {
  const { store, dir } = await freshStore(t)
  const bytes = randomBytes(1000)
  const key = await store.putImmutable(bytes)
  t.alike(key, sha256(bytes))
  t.alike(await store.getImmutable(key), bytes)
  t.alike(await store.putImmutable(bytes), key, 'idempotent')
  const again = new LocalValueStore(dir)
  await again.ready()
  t.alike(await again.getImmutable(key), bytes)
  await t.exception(again.getImmutable(randomBytes(32)), /no value/)
  try {
    await again.getImmutable(randomBytes(32))
  } catch (err) {
    t.is((err as { code: string }).code, 'ENOENT')
  }
  t.absent(
    fs.readdirSync(path.join(dir, 'immutable', key.toString('hex').slice(0, 2))).some((n) => n.startsWith('.tmp'))
  )
})

test('records: compare-and-swap on versions, forgeries refused, conflict carries the current record', async (t) => {
  const { store } = await freshStore(t)
  const alice = keyPairFromSeed(randomBytes(32))
  const mallory = keyPairFromSeed(randomBytes(32))
  const name = randomBytes(32)
  const key = recordKey(alice.publicKey, name)
  t.is(await store.getRecord(key), null)
  await store.putRecord(createRecord(alice, name, 1, Buffer.from('v1')), 0)
  const r1 = await store.getRecord(key)
  t.ok(r1 && verifyRecord(r1, key))
  t.is(r1?.value.toString(), 'v1')

  try {
    await store.putRecord(createRecord(alice, name, 2, Buffer.from('stale')), 0)
    t.fail('expected a conflict')
  } catch (err) {
    t.is((err as { code: string }).code, 'ECONFLICT')
    t.is((err as { current: { version: number } }).current.version, 1)
  }
  await t.exception(store.putRecord(createRecord(alice, name, 1, Buffer.from('same')), 1), /does not grow/)
  await store.putRecord(createRecord(alice, name, 2, Buffer.from('v2')), 1)
  t.is((await store.getRecord(key))?.value.toString(), 'v2')

  const forged = { ...createRecord(mallory, name, 3, Buffer.from('evil')), owner: alice.publicKey }
  await t.exception(store.putRecord(forged, 2), /does not verify/)
  await store.putRecord(createRecord(alice, name, 3, Buffer.alloc(0), true), 2)
  t.is((await store.getRecord(key))?.deleted, true, 'tombstone keeps the version')
})

test('concurrent compare-and-swap: exactly one writer wins per version', async (t) => {
  const { store } = await freshStore(t)
  const alice = keyPairFromSeed(randomBytes(32))
  const name = randomBytes(32)
  const results = await Promise.allSettled(
    Array.from({ length: 8 }, (_, i) => store.putRecord(createRecord(alice, name, 1, Buffer.from(`w${i}`)), 0))
  )
  t.is(results.filter((r) => r.status === 'fulfilled').length, 1)
})
