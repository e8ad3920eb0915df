// Two Volumes of one user on one store, as two computers: changes made in one
// reach the other running one through the poller (remote-sync.ts), local
// unflushed changes are never replaced, and a concurrent edit of one file
// ends as a conflict copy with both contents. No timing is asserted: every
// wait polls with a deadline.

import { recordCopyStoreFor } from '../../lib/app/record-copy-store'
import test, { type Test } from 'brittle'
import { randomBytes } from '../../lib/crypto'
import { recordKey } from '../../lib/crypto/record'
import { LocalValueStore } from '../../lib/volume/local-value-store'
import { VolumeKeys } from '../../lib/volume/volume-keys'
import { type Inode, Volume } from '../../lib/volume/volume'
import { tempDir } from '../helpers/temp-dir'
import { sleep, waitFor } from '../helpers/wait'

const DEADLINE_MS = 15_000

async function open(
  t: { teardown(fn: () => unknown): void },
  store: LocalValueStore,
  seed: Buffer,
  opts: { flushIntervalMs?: number; syncIntervalMs?: number; adoptRootTimeoutMs?: number } = {}
): Promise<Volume> {
  const home = tempDir(t, 'home')
  const volume = new Volume({
    home,
    store,
    recordCopy: recordCopyStoreFor(home),
    readCacheBytes: 0,
    chunkSize: 4096,
    flushIntervalMs: opts.flushIntervalMs ?? 50,
    syncIntervalMs: opts.syncIntervalMs ?? 50,
    keys: new VolumeKeys(seed),
    adoptRootTimeoutMs: opts.adoptRootTimeoutMs,
    onError: (err) => {
      throw err
    }
  })
  await volume.ready()
  return volume
}

type OpenOptions = Parameters<typeof open>[3]

/** Two computers of one user on one store; both close in teardown. */
async function twoDevices(t: Test, aOpts: OpenOptions = {}, bOpts: OpenOptions = {}) {
  const store = new LocalValueStore(tempDir(t, 'store'))
  await store.ready()
  const seed = randomBytes(32)
  const a = await open(t, store, seed, aOpts)
  const b = await open(t, store, seed, bOpts)
  t.teardown(() => Promise.all([a.close(), b.close()]))
  return { a, b }
}

async function readFile(v: Volume, p: string): Promise<string> {
  const inode = await v.resolve(p)
  const out = Buffer.alloc(inode.size)
  const n = await v.read(inode, out, out.length, 0)
  return out.subarray(0, n).toString()
}

async function writeFile(v: Volume, p: string, data: string, opts: { append?: boolean } = {}): Promise<Inode> {
  const inode = opts.append ? await v.resolve(p) : await v.create(p, 0o644)
  await v.write(inode, Buffer.from(data), opts.append ? inode.size : 0)
  await v.closeFile(inode)
  return inode
}

/** Polls `check` until it returns true or the deadline passes; errors (ENOENT while it arrives) count as false. */
async function eventually(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  await waitFor(what, check, { timeoutMs: DEADLINE_MS, intervalMs: 20, retryErrors: true })
}

const names = async (v: Volume, p: string) => (await v.readdir(p)).sort().join(',')

test('sync: changes in one running volume reach the other, step by step', async (t) => {
  const { a, b } = await twoDevices(t)
  t.is(await names(b, '/'), '', 'b starts empty')

  await writeFile(a, '/note.txt', 'hello')
  await eventually('b lists note.txt', async () => (await names(b, '/')) === 'note.txt')
  await eventually('b reads it', async () => (await readFile(b, '/note.txt')) === 'hello')

  await a.mkdir('/docs', 0o755)
  await eventually('b lists docs', async () => (await names(b, '/')) === 'docs,note.txt')
  t.is(await names(b, '/docs'), '', 'b has looked into docs (now watched)')

  await a.rename('/note.txt', '/docs/moved.txt')
  await eventually('b sees the rename', async () => (await names(b, '/docs')) === 'moved.txt')
  t.is(await names(b, '/'), 'docs')
  t.is(await readFile(b, '/docs/moved.txt'), 'hello')

  const big = 'x'.repeat(10_000)
  await writeFile(a, '/docs/moved.txt', big, { append: true })
  await eventually('b sees the append', async () => (await readFile(b, '/docs/moved.txt')) === `hello${big}`)
  t.is(b.stat(await b.resolve('/docs/moved.txt')).size, 5 + big.length, 'size too')

  await a.unlink('/docs/moved.txt')
  await eventually('b sees the delete', async () => (await names(b, '/docs')) === '')
  await t.exception(() => b.resolve('/docs/moved.txt'), /ENOENT/)

  // And back: b's changes reach a the same way.
  await b.mkdir('/docs/from-b', 0o700)
  await eventually('a sees b', async () => (await names(a, '/docs')) === 'from-b')
  t.ok(b.syncStats().taken > 0 && a.syncStats().taken > 0, 'both took records in')
})

test('sync: local unflushed changes win; a concurrent edit keeps both as a conflict copy', async (t) => {
  // b writes nothing to the store until told to: its edits stay local and dirty.
  const { a, b } = await twoDevices(t, {}, { flushIntervalMs: 3_600_000 })

  await writeFile(a, '/shared.txt', 'base')
  await eventually('b reads base', async () => (await readFile(b, '/shared.txt')) === 'base')

  const fb = await b.resolve('/shared.txt')
  await b.truncate(fb, 0)
  await b.write(fb, Buffer.from('edit by b'), 0)
  await b.closeFile(fb)
  const fa = await a.resolve('/shared.txt')
  await a.truncate(fa, 0)
  await a.write(fa, Buffer.from('edit by a'), 0)
  await a.fsync(fa)

  // b polls (and sees the newer record) while its own edit is unflushed: it keeps its edit.
  const before = b.syncStats().ticks
  await b.pollRemote()
  await b.pollRemote()
  t.ok(b.syncStats().ticks >= before + 2)
  t.is(await readFile(b, '/shared.txt'), 'edit by b', 'the local edit is not replaced')

  await b.sync()
  const conflictOf = async (v: Volume) => (await v.readdir('/')).find((n) => n.startsWith('shared (conflict'))
  const copy = await conflictOf(b)
  t.ok(copy, `b made a conflict copy: ${await names(b, '/')}`)
  t.is(await readFile(b, '/shared.txt'), 'edit by b')
  t.is(await readFile(b, `/${copy}`), 'edit by a', 'the other edit is kept as a copy')

  await eventually('a lists the copy', async () => (await conflictOf(a)) === copy)
  await eventually('a reads b’s edit', async () => (await readFile(a, '/shared.txt')) === 'edit by b')
  t.is(await readFile(a, `/${copy}`), 'edit by a')
})

test('sync: a file deleted elsewhere while edited here comes back with the edit', async (t) => {
  const { a, b } = await twoDevices(t, {}, { flushIntervalMs: 3_600_000 })
  await writeFile(a, '/keep.txt', 'v1')
  await writeFile(a, '/other.txt', 'o')
  await eventually('b reads v1', async () => (await readFile(b, '/keep.txt')) === 'v1')

  const fb = await b.resolve('/keep.txt')
  await b.write(fb, Buffer.from('v2 by b'), 0)
  await b.closeFile(fb)
  await a.unlink('/keep.txt')
  await a.unlink('/other.txt')
  await a.sync()
  await b.pollRemote()
  await b.pollRemote()
  t.ok((await names(b, '/')).includes('keep.txt'), 'b still lists the file it is editing')
  t.is(await readFile(b, '/keep.txt'), 'v2 by b', 'with the edit')
  await b.sync()
  t.is(await names(b, '/'), 'keep.txt', 'b: the edited file is back, the other removal taken in')
  await eventually('a sees it back', async () => (await names(a, '/')) === 'keep.txt')
  t.is(await readFile(a, '/keep.txt'), 'v2 by b')
})

test('sync: an idle volume reads one record per poll, and re-reads watched ones only after a change elsewhere', async (t) => {
  // Polled by hand (interval 0 would turn the poller off; a long one keeps the timer out of the way).
  const { a, b } = await twoDevices(t, { syncIntervalMs: 3_600_000 }, { syncIntervalMs: 3_600_000 })
  for (let i = 0; i < 20; i++) await a.mkdir(`/d${i}`, 0o755)
  await a.sync()
  await a.pollRemote()
  await b.pollRemote()
  for (let i = 0; i < 20; i++) await b.readdir(`/d${i}`)
  await b.pollRemote()

  const s0 = b.syncStats()
  for (let i = 0; i < 5; i++) await b.pollRemote()
  const s1 = b.syncStats()
  t.is(s1.beaconReads - s0.beaconReads, 5, 'one beacon read per poll')
  t.is(s1.recordReads - s0.recordReads, 0, 'no record re-read while nothing changed')

  await writeFile(a, '/d3/new', 'n')
  await a.sync()
  await b.pollRemote()
  const s2 = b.syncStats()
  t.is(s2.recordReads - s1.recordReads, s2.watched, `after a change elsewhere the ${s2.watched} watched records once`)
  t.is(await names(b, '/d3'), 'new')
  await b.pollRemote()
  t.is(b.syncStats().recordReads, s2.recordReads, 'and not again')

  // Its own changes do not make a device re-read its own records.
  const own0 = a.syncStats().recordReads
  await a.mkdir('/own', 0o755)
  await a.sync()
  await a.pollRemote()
  t.is(a.syncStats().recordReads, own0, 'no re-read after its own change')
})

test('sync: an identity from another computer waits for its tree instead of starting a new one', async (t) => {
  const store = new LocalValueStore(tempDir(t, 'store'))
  await store.ready()
  const seed = randomBytes(32)
  // Nothing in the store yet, and nobody creates it: a clear failure, no root written.
  const lonelyHome = tempDir(t, 'home')
  const lonely = new Volume({
    home: lonelyHome,
    store,
    recordCopy: recordCopyStoreFor(lonelyHome),
    keys: new VolumeKeys(seed),
    adoptRootTimeoutMs: 1500
  })
  await t.exception(() => lonely.ready(), /not found in the network/)

  // The other computer creates the tree while this one is waiting: it is the one adopted.
  const waiting = open(t, store, seed, { adoptRootTimeoutMs: 60_000 })
  // On purpose: the open above is under way (waiting) before the tree exists; it is not awaited.
  await sleep(300)
  const a = await open(t, store, seed)
  await writeFile(a, '/from-a', 'a')
  await a.sync()
  const b = await waiting
  t.teardown(() => Promise.all([a.close(), b.close()]))
  await eventually('b lists from-a', async () => (await names(b, '/')) === 'from-a')
})

test('sync: a root pointer found before its root record is served waits for the record', async (t) => {
  const store = new LocalValueStore(tempDir(t, 'store'))
  await store.ready()
  const seed = randomBytes(32)
  const a = await open(t, store, seed)
  await writeFile(a, '/from-a', 'a')
  await a.sync()
  await a.close()
  // A ring still merging: the pointer is there, every other record is not served for a while.
  const keys = new VolumeKeys(seed)
  const pointerKey = recordKey(keys.publicKey, keys.rootPointerName)
  const servedFrom = Date.now() + 1500
  const merging: LocalValueStore = Object.assign(Object.create(store), {
    getRecord: (key: Buffer) => (key.equals(pointerKey) || Date.now() >= servedFrom ? store.getRecord(key) : null)
  })
  const bHome = tempDir(t, 'home')
  const b = new Volume({ home: bHome, store: merging, recordCopy: recordCopyStoreFor(bHome), readCacheBytes: 0, keys })
  await b.ready()
  t.teardown(() => b.close())
  t.ok(Date.now() >= servedFrom, 'ready only once the root record was served')
  t.is(await names(b, '/'), 'from-a', 'the existing tree, not a new one')
})

test('sync: a file still being written is published without holes: its sealed prefix, then all of it', async (t) => {
  const { a, b } = await twoDevices(t, { flushIntervalMs: 3_600_000 })
  const data = randomBytes(3 * 4096 + 100)
  const f = await a.create('/growing', 0o644)
  // Three full chunks (sealed as they fill) and a partial fourth, still unsealed: no close.
  await a.write(f, data, 0)
  await a.flush()
  await a.pollRemote()
  const bytes = async () => {
    const i = await b.resolve('/growing')
    const out = Buffer.alloc(i.size)
    await b.read(i, out, out.length, 0)
    return out
  }
  await eventually('b sees the file', async () => (await b.readdir('/')).includes('growing'))
  const out = await bytes()
  // How much is sealed by then depends on the crypto pool: any whole-chunk prefix, never zeros for the rest.
  t.ok(out.byteLength % 4096 === 0 && out.byteLength <= 3 * 4096, `a whole-chunk prefix (${out.byteLength} bytes)`)
  t.alike(out, data.subarray(0, out.byteLength), 'holding exactly the data written there')

  await a.closeFile(f)
  await a.flush()
  await a.pollRemote()
  await eventually('b sees all of it', async () => (await bytes()).equals(data))
  t.pass('then the whole file')
})
