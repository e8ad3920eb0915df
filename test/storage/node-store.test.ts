import test from 'brittle'
import {
  createRecord,
  encodeRecord,
  type KeyPair,
  keyPairFromSeed,
  randomBytes,
  recordKey,
  sha256,
  verifyRecord
} from '../../lib/crypto'
import { inRingInterval, MAX_VALUE_BYTES, NodeStore, type ScanItem } from '../../lib/storage'
import { tempDir } from '../helpers/temp-dir'
import { codeOf, keyOf, openStore } from './helpers'

async function collect(it: AsyncIterable<ScanItem>): Promise<string[]> {
  const out: string[] = []
  for await (const item of it) out.push(item.key.toString('hex'))
  return out
}

/** key + delta modulo 2^256, big-endian. */
function addToKey(key: Buffer, delta: bigint): Buffer {
  const n = (BigInt(`0x${key.toString('hex')}`) + delta + 2n ** 256n) % 2n ** 256n
  return Buffer.from(n.toString(16).padStart(64, '0'), 'hex')
}

function recordAt(kp: KeyPair, name: Buffer, version: number, value: string, deleted = false) {
  const record = createRecord(kp, name, version, Buffer.from(value), deleted)
  return { key: recordKey(kp.publicKey, name), bytes: encodeRecord(record), record }
}

test('immutable values round-trip at 0 B, 1 B, 1 MiB and 4 MiB, with ranged reads', async (t) => {
  const store = await openStore(t)
  const values: Buffer[] = []
  for (const size of [0, 1, 1024 * 1024, MAX_VALUE_BYTES]) {
    const bytes = randomBytes(size)
    values.push(bytes)
    const key = sha256(bytes)
    await store.putImmutable(key, bytes)
    const got = await store.get(key)
    t.is(got?.kind, 'immutable', `${size} B kind`)
    t.ok(got?.bytes.equals(bytes), `${size} B bytes`)
    const mid = Math.floor(size / 2)
    const slice = await store.read(key, mid, mid + 4096)
    t.ok(slice?.equals(bytes.subarray(mid, mid + 4096)), `${size} B ranged read`)
    t.is((await store.read(key, size + 10, size + 20))?.byteLength, 0, `${size} B read past the end is empty`)
  }
  // After a large value, lmdb's reused read buffer is larger than a small value: a
  // ranged read must still end at the small value's end, not return stale bytes.
  for (const bytes of values) {
    t.alike(await store.read(sha256(bytes), 0, 8192), bytes.subarray(0, 8192), `${bytes.byteLength} B read after 4 MiB`)
    t.alike((await store.get(sha256(bytes)))?.bytes, bytes, `${bytes.byteLength} B get after 4 MiB`)
  }
  t.alike(await store.stats(), { keys: 4, bytes: 1 + 1024 * 1024 + MAX_VALUE_BYTES })
  t.is(await store.get(randomBytes(32)), null, 'absent key is null')
  t.is(await store.read(randomBytes(32), 0, 10), null, 'absent key read is null')
  t.is(await codeOf(store.read(keyOf(1), 5, 4)), 'ERANGE')
})

test('a value in shared memory is stored (lmdb itself crashes on one)', async (t) => {
  const store = await openStore(t)
  const bytes = Buffer.from(new SharedArrayBuffer(1024 * 1024))
  bytes.set(randomBytes(bytes.byteLength))
  await store.putImmutable(sha256(bytes), bytes)
  t.alike((await store.get(sha256(bytes)))?.bytes, bytes)
})

test('immutable puts are idempotent and refuse bad keys and oversize values', async (t) => {
  const store = await openStore(t)
  const bytes = Buffer.from('chunk')
  const key = sha256(bytes)
  await store.putImmutable(key, bytes)
  await store.putImmutable(key, bytes)
  t.alike(await store.stats(), { keys: 1, bytes: 5 }, 'second put changes nothing')

  t.is(await codeOf(store.putImmutable(sha256(Buffer.from('other')), bytes)), 'EBADKEY', 'key is not the hash')
  t.is(await codeOf(store.putImmutable(key.subarray(0, 31), bytes)), 'EBADKEY', 'short key')
  const big = Buffer.alloc(MAX_VALUE_BYTES + 1)
  t.is(await codeOf(store.putImmutable(sha256(big), big)), 'ETOOBIG')
  t.is(await store.get(sha256(Buffer.from('other'))), null, 'nothing stored for the refused put')
})

test('a value whose hash the caller knows is not hashed again, and the known hash must still be the key', async (t) => {
  const store = await openStore(t)
  const bytes = randomBytes(1024)
  const key = sha256(bytes)
  await store.putImmutable(key, bytes, { knownHash: key })
  t.ok((await store.get(key))?.bytes.equals(bytes), 'stored under its known hash')
  t.is(
    await codeOf(store.putImmutable(sha256(randomBytes(8)), bytes, { knownHash: key })),
    'EBADKEY',
    'a known hash under another key'
  )
  // Without the hint the bytes are hashed (and refused when they do not match).
  const view = bytes.subarray(0, 512)
  t.is(await codeOf(store.putImmutable(key, view)), 'EBADKEY', 'bytes without a known hash are hashed')
  // The hint is taken as is: bytes that do not hash to it are stored, which
  // shows they were not hashed a second time (only code that hashed them may pass it).
  const other = randomBytes(512)
  const vouched = sha256(randomBytes(16))
  await store.putImmutable(vouched, other, { knownHash: vouched })
  t.ok((await store.get(vouched))?.bytes.equals(other), "the known hash replaces the store's own hash")
})

test('records: forged, misplaced, malformed, stale and equivocating writes are refused', async (t) => {
  const store = await openStore(t)
  const alice = keyPairFromSeed(randomBytes(32))
  const mallory = keyPairFromSeed(randomBytes(32))
  const name = randomBytes(32)
  const v1 = recordAt(alice, name, 1, 'one')
  await store.putRecord(v1.key, v1.bytes)
  t.alike((await store.get(v1.key))?.bytes, v1.bytes)
  t.is((await store.stat(v1.key))?.version, 1)

  const forged = encodeRecord({ ...createRecord(mallory, name, 9, Buffer.from('x')), owner: alice.publicKey })
  t.is(await codeOf(store.putRecord(v1.key, forged)), 'EBADSIG', 'signature by another key')
  const mallorys = recordAt(mallory, name, 9, 'x')
  t.is(await codeOf(store.putRecord(v1.key, mallorys.bytes)), 'EBADSIG', 'record of another owner at this key')
  const tampered = Buffer.from(recordAt(alice, name, 5, 'five').bytes)
  tampered[tampered.length - 1] ^= 1
  t.is(await codeOf(store.putRecord(v1.key, tampered)), 'EBADSIG', 'tampered signature')
  t.is(await codeOf(store.putRecord(v1.key, Buffer.from('junk'))), 'EBADRECORD', 'undecodable')
  t.is(await codeOf(store.putRecord(v1.key, Buffer.concat([v1.bytes, Buffer.from([0])]))), 'EBADRECORD')

  const v0 = recordAt(alice, name, 0, 'zero')
  t.is(await codeOf(store.putRecord(v1.key, v0.bytes)), 'ESTALE', 'rollback')
  await store.putRecord(v1.key, v1.bytes)
  t.pass('identical record again is an idempotent success')
  t.alike((await store.get(v1.key))?.bytes, v1.bytes, 'still v1 after all refusals')
  const stored = await store.getRecord(v1.key)
  t.ok(stored && verifyRecord(stored.record, v1.key))
  t.is(await codeOf(store.deleteImmutable(v1.key)), 'EKIND', 'a record is not garbage-collected like a chunk')
})

test('records: compare-and-swap on the expected version', async (t) => {
  const store = await openStore(t)
  const alice = keyPairFromSeed(randomBytes(32))
  const name = randomBytes(32)
  const v1 = recordAt(alice, name, 1, 'one')
  const v2 = recordAt(alice, name, 2, 'two')
  const v2b = recordAt(alice, name, 2, 'two from another mount')

  t.is(await codeOf(store.putRecord(v1.key, v1.bytes, 3)), 'ECONFLICT', 'nothing stored, expected 3')
  await store.putRecord(v1.key, v1.bytes, 0)
  t.pass('create with expectedVersion 0')
  await store.putRecord(v2.key, v2.bytes, 1)
  t.pass('swap 1 → 2')

  let err: { code?: string; current?: { record: { version: number; value: Buffer } } | null } = {}
  try {
    await store.putRecord(v2b.key, v2b.bytes, 1)
  } catch (e) {
    err = e as typeof err
  }
  t.is(err.code, 'ECONFLICT', 'second writer that also read version 1 loses')
  t.is(err.current?.record.version, 2, 'error carries the current record')
  t.is(err.current?.record.value.toString(), 'two')

  const v3 = recordAt(alice, name, 3, 'three')
  t.is(await codeOf(store.putRecord(v3.key, v3.bytes, 1)), 'ECONFLICT', 'newer version but stale expectation')
  const v2again = recordAt(alice, name, 2, 'two again')
  t.is(await codeOf(store.putRecord(v2again.key, v2again.bytes, 2)), 'ESTALE', 'expectation right, version not above')

  // Two concurrent CAS writers from the same base: exactly one wins.
  const a = recordAt(alice, name, 3, 'a')
  const b = recordAt(alice, name, 3, 'b')
  const codes = await Promise.all([
    codeOf(store.putRecord(a.key, a.bytes, 2)),
    codeOf(store.putRecord(b.key, b.bytes, 2))
  ])
  t.alike(codes.sort(), ['ECONFLICT', null].sort(), 'one null (won), one ECONFLICT')
})

test('tombstones keep winning against older versions and can be superseded by newer ones', async (t) => {
  const store = await openStore(t)
  const alice = keyPairFromSeed(randomBytes(32))
  const name = randomBytes(32)
  const v4 = recordAt(alice, name, 4, 'four')
  const tomb = recordAt(alice, name, 5, '', true)
  await store.putRecord(v4.key, v4.bytes)
  await store.putRecord(tomb.key, tomb.bytes)
  for (const v of [1, 4, 5]) {
    const old = recordAt(alice, name, v, `resurrect ${v}`)
    t.is(await codeOf(store.putRecord(old.key, old.bytes)), 'ESTALE', `version ${v} cannot resurrect`)
  }
  const stored = await store.getRecord(tomb.key)
  t.is(stored?.record.deleted, true, 'tombstone stored')
  t.is(stored?.record.version, 5)
  const v6 = recordAt(alice, name, 6, 'recreated')
  await store.putRecord(v6.key, v6.bytes)
  t.is((await store.getRecord(v6.key))?.record.deleted, false, 'a newer version re-creates the record')
})

test('ordered scans over ring intervals, with wrap-around and empty ranges', async (t) => {
  const store = await openStore(t)
  const chunks: Buffer[] = []
  for (let i = 0; i < 40; i++) {
    const bytes = Buffer.from(`chunk ${i}`)
    chunks.push(sha256(bytes))
    await store.putImmutable(sha256(bytes), bytes)
  }
  const sorted = chunks.map((k) => k.toString('hex')).sort()
  const all = await collect(store.scan(keyOf(0x00), keyOf(0x00)))
  const whole = sorted
    .filter((h) => h > keyOf(0).toString('hex'))
    .concat(sorted.filter((h) => h <= keyOf(0).toString('hex')))
  t.alike(all, whole, 'from == to is the whole ring, starting after from')

  const check = async (from: Buffer, to: Buffer, label: string) => {
    const expected = chunks
      .filter((k) => inRingInterval(k, from, to))
      .map((k) => k.toString('hex'))
      .sort()
    const got = await collect(store.scan(from, to))
    const wraps = Buffer.compare(from, to) >= 0
    const ordered = wraps
      ? expected.filter((h) => h > from.toString('hex')).concat(expected.filter((h) => h <= to.toString('hex')))
      : expected
    t.alike(got, ordered, label)
    return got
  }
  await check(keyOf(0x40), keyOf(0xc0), 'plain interval')
  const wrapped = await check(keyOf(0xc0), keyOf(0x40), 'wrapping interval')
  t.ok(wrapped.length > 0, 'wrapping interval is not empty')
  t.ok(Buffer.from(wrapped[0], 'hex')[0] >= 0xc0, 'wrapping scan starts after from')

  // Exact boundaries: (k, k] is everything; (k-, k] holds just k; (k, k+] holds nothing.
  const k = Buffer.from(sorted[10], 'hex')
  const justBefore = addToKey(k, -1n)
  t.alike(await collect(store.scan(justBefore, k)), [sorted[10]], 'to is inclusive')
  t.alike(await collect(store.scan(k, Buffer.from(sorted[11], 'hex'))), [sorted[11]], 'from is exclusive')
  const justAfter = addToKey(k, 1n)
  t.alike(await collect(store.scan(k, justAfter)), [], 'empty interval')
  t.alike(await collect(store.scan(Buffer.alloc(32, 0xff), Buffer.alloc(32, 0))), [], 'empty wrap across max/min')

  const items: ScanItem[] = []
  for await (const item of store.scan(keyOf(0), keyOf(0))) items.push(item)
  t.ok(
    items.every((i) => i.kind === 'immutable' && i.size === `chunk ${chunks.findIndex((c) => c.equals(i.key))}`.length),
    'items carry kind and size'
  )
})

test('scan pages through more keys than one read transaction lists', async (t) => {
  const store = await openStore(t)
  const hex: string[] = []
  let bytesHeld = 0
  await Promise.all(
    Array.from({ length: 1300 }, (_, i) => {
      const bytes = Buffer.from(`value ${i}`)
      hex.push(sha256(bytes).toString('hex'))
      bytesHeld += bytes.byteLength
      return store.putImmutable(sha256(bytes), bytes)
    })
  )
  hex.sort()
  const zero = Buffer.alloc(32)
  const got = await collect(store.scan(zero, zero))
  t.is(got.length, 1300)
  t.alike(got, hex, 'all keys, once each, in order')
  t.alike(await store.stats(), { keys: 1300, bytes: bytesHeld }, 'stats counted every concurrent put once')
})

test('deletes update stats; values, records and stats persist across close and reopen', async (t) => {
  const dir = tempDir(t, 'store')
  const alice = keyPairFromSeed(randomBytes(32))
  const name = randomBytes(32)
  const rec = recordAt(alice, name, 7, 'seven')
  const a = Buffer.from('a'.repeat(100))
  const b = randomBytes(300_000)

  const first = new NodeStore(dir)
  t.teardown(() => first.close())
  await first.putImmutable(sha256(a), a)
  await first.putImmutable(sha256(b), b)
  await first.putRecord(rec.key, rec.bytes)
  t.is(await first.deleteImmutable(sha256(a)), true)
  t.is(await first.deleteImmutable(sha256(a)), false, 'second delete finds nothing')
  t.alike(await first.stats(), { keys: 2, bytes: b.byteLength + rec.bytes.byteLength })
  await first.close()
  t.is(await codeOf(first.get(sha256(b))), 'ECLOSED', 'a closed store refuses calls')

  const second = await openStore(t, dir)
  t.is(await second.get(sha256(a)), null, 'deleted value stays deleted')
  t.ok((await second.get(sha256(b)))?.bytes.equals(b), 'chunk survives reopen')
  t.alike((await second.getRecord(rec.key))?.record.version, 7, 'record survives reopen')
  t.alike(await second.stats(), { keys: 2, bytes: b.byteLength + rec.bytes.byteLength }, 'stats survive reopen')
  const stale = recordAt(alice, name, 6, 'six')
  t.is(await codeOf(second.putRecord(stale.key, stale.bytes)), 'ESTALE', 'version floor survives reopen')
  t.is(await second.delete(rec.key), true, 'generic delete removes a record (hand-off)')
  t.alike(await second.stats(), { keys: 1, bytes: b.byteLength })
})
