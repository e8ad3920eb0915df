// Namespace operations on one Volume over a LocalValueStore seen through a
// wrapper (fault injection at the ValueStore boundary: it only delays reads
// and watches the writes): two crossed renames started together end as one
// rename and one refusal, never a cycle; and a flush that moves entries
// between folders writes them so that a reader of the store at any moment
// finds each moved entry in at least one folder.

import { recordCopyStoreFor } from '../../lib/app/record-copy-store'
import test, { type Test } from 'brittle'
import { randomBytes } from '../../lib/crypto'
import { recordKey, type SignedRecord } from '../../lib/crypto/record'
import { decryptState } from '../../lib/volume/inode'
import { LocalValueStore } from '../../lib/volume/local-value-store'
import type { ValueStore } from '../../lib/volume/value-store'
import { Volume } from '../../lib/volume/volume'
import { VolumeKeys } from '../../lib/volume/volume-keys'
import { tempDir } from '../helpers/temp-dir'

/** Delegates to a LocalValueStore; reads can be slowed, and every record write is shown to `onPut`. */
class WatchedStore implements ValueStore {
  readDelayMs = 0
  onPut: ((record: SignedRecord) => void) | null = null
  constructor(private readonly inner: LocalValueStore) {}
  getImmutable(key: Buffer) {
    return this.inner.getImmutable(key)
  }
  putImmutable(bytes: Buffer) {
    return this.inner.putImmutable(bytes)
  }
  async getRecord(key: Buffer) {
    if (this.readDelayMs) await new Promise((r) => setTimeout(r, this.readDelayMs))
    return this.inner.getRecord(key)
  }
  async putRecord(record: SignedRecord, expected: number) {
    await this.inner.putRecord(record, expected)
    this.onPut?.(record)
  }
}

async function setup(t: Test) {
  const local = new LocalValueStore(tempDir(t, 'store'))
  await local.ready()
  const store = new WatchedStore(local)
  const keys = new VolumeKeys(randomBytes(32))
  const open = async () => {
    const home = tempDir(t, 'home')
    const v = new Volume({
      home,
      store,
      recordCopy: recordCopyStoreFor(home),
      keys,
      readCacheBytes: 0,
      flushIntervalMs: 60_000,
      syncIntervalMs: 0
    })
    await v.ready()
    return v
  }
  return { store, keys, open }
}

test('two crossed renames at once, each over an empty folder: one is done, the other refused; no cycle', async (t) => {
  const { store, open } = await setup(t)
  const first = await open()
  for (const d of ['/a', '/b', '/a/y', '/b/x']) await first.mkdir(d, 0o755)
  await first.close()
  // A fresh mount loads everything from a slow store: each rename waits on loads (of the
  // folder it replaces last) after it checked that it makes no cycle.
  const v = await open()
  store.readDelayMs = 30
  const results = await Promise.allSettled([v.rename('/a', '/b/x'), v.rename('/b', '/a/y')])
  store.readDelayMs = 0
  const done = results.filter((r) => r.status === 'fulfilled').length
  const refused = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))
  t.is(done, 1, 'one rename is done')
  t.is(refused.length, 1, `the other is refused: ${refused.join()}`)
  const root = await v.readdir('/')
  t.is(root.length, 1, `one folder left in the root (none would be a cycle cut off from it): ${root.join()}`)
  // Closed here, before the teardown removes the home (teardowns run in the order they were added).
  await v.close()
})

test('moves between folders are stored so that a reader always finds each moved entry somewhere', async (t) => {
  const { store, keys, open } = await setup(t)
  const v = await open()
  t.teardown(() => v.close())
  await v.mkdir('/src', 0o755)
  await v.mkdir('/dst', 0o755)
  const f = await v.create('/src/f', 0o644)
  const g = await v.create('/dst/g', 0o644)
  await v.sync()
  const src = await v.resolve('/src')
  const dst = await v.resolve('/dst')
  // What a reader of the store sees after each record write: the entries of both folders.
  const stored = new Map<string, Buffer[]>()
  const listed = (rec: SignedRecord, id: Buffer) =>
    [...(decryptState(rec.value, id, keys.inodeKey(id)).entries?.values() ?? [])].map((e) => e.id)
  const keyOf = (id: Buffer) => recordKey(keys.publicKey, id).toString('hex')
  const dirs = new Map([
    [keyOf(src.id), src.id],
    [keyOf(dst.id), dst.id]
  ])
  const missing: string[] = []
  let puts = 0
  store.onPut = (rec) => {
    const hex = recordKey(rec.owner, rec.name).toString('hex')
    const id = dirs.get(hex)
    if (!id) return
    puts++
    stored.set(hex, listed(rec, id))
    const all = [...stored.values()].flat()
    for (const [name, inode] of [
      ['f', f],
      ['g', g]
    ] as const) {
      if (stored.size === 2 && !all.some((x) => x.equals(inode.id))) missing.push(`${name} after write ${puts}`)
    }
  }
  // Start from what is stored now.
  for (const [hex, id] of dirs) {
    const rec = await store.getRecord(Buffer.from(hex, 'hex'))
    stored.set(hex, listed(rec!, id))
  }
  // One flush pass carries both moves: f from src to dst, g from dst to src.
  await v.rename('/src/f', '/dst/f')
  await v.rename('/dst/g', '/src/g')
  await v.sync()
  store.onPut = null
  t.alike(missing, [], `no moved entry was in neither folder (${puts} folder writes)`)
  t.alike((await v.readdir('/src')).sort(), ['g'])
  t.alike((await v.readdir('/dst')).sort(), ['f'])
  await v.close()
})
