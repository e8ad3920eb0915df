// The tree never forks, replay never drops, offline works (issue 12, items 2,
// 3 and 9), at the Volume level: a FaultyValueStore over a real
// LocalValueStore answers "absent", "could not tell" or times out on chosen
// keys, or the whole store goes offline, while Volumes load their root,
// replay a crashed session's journal and flush.

import { recordCopyStoreFor } from '../../lib/app/record-copy-store'
import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { randomBytes } from '../../lib/crypto'
import { recordKey } from '../../lib/crypto/record'
import { LocalValueStore } from '../../lib/volume/local-value-store'
import { Volume, type VolumeOptions } from '../../lib/volume/volume'
import { VolumeKeys } from '../../lib/volume/volume-keys'
import { FaultyValueStore } from '../helpers/faulty-value-store'
import { tempDir } from '../helpers/temp-dir'
import { sleep, waitFor } from '../helpers/wait'

async function localStore(dir: string): Promise<LocalValueStore> {
  const store = new LocalValueStore(dir)
  await store.ready()
  return store
}

async function open(
  home: string,
  store: FaultyValueStore | LocalValueStore,
  seed: Buffer,
  opts: Partial<VolumeOptions> = {}
): Promise<Volume> {
  const v = new Volume({
    home,
    store,
    recordCopy: recordCopyStoreFor(home),
    keys: new VolumeKeys(seed),
    readCacheBytes: 0,
    flushIntervalMs: 60_000,
    syncIntervalMs: 0,
    ...opts
  })
  await v.ready()
  return v
}

async function writeFile(v: Volume, p: string, data: Buffer): Promise<void> {
  const inode = await v.create(p, 0o644)
  await v.write(inode, data, 0)
  await v.closeFile(inode)
}

async function readFile(v: Volume, p: string): Promise<Buffer> {
  const inode = await v.resolve(p)
  const out = Buffer.alloc(inode.size)
  const n = await v.read(inode, out, out.length, 0)
  return out.subarray(0, n)
}

function pointerKey(seed: Buffer): Buffer {
  const keys = new VolumeKeys(seed)
  return recordKey(keys.publicKey, keys.rootPointerName)
}

test('a home that had a tree never creates another root, even when the store answers that none exists', async (t) => {
  const seed = randomBytes(32)
  const home = tempDir(t, 'home')
  const ring = await localStore(tempDir(t, 'ring'))
  const a = await open(home, ring, seed)
  await a.mkdir('/docs', 0o755)
  await writeFile(a, '/docs/note.txt', Buffer.from('written before the remount'))
  const rootId = a.root.hex
  await a.close()

  // The remount meets a store that holds nothing (an offline member whose own node store lacks the pointer).
  const alone = await localStore(tempDir(t, 'alone'))
  const b = await open(home, alone, seed, { rootWaitMs: 5000 })
  t.teardown(() => b.close().catch(() => {}))
  t.is(b.root.hex, rootId, 'the same root')
  t.alike(await b.readdir('/'), ['docs'], 'the whole tree it has seen')
  t.alike(await readFile(b, '/docs/note.txt'), Buffer.from('written before the remount'), 'an inline file reads')
  const stray = await alone.getRecord(pointerKey(seed))
  t.is(stray, null, 'no second pointer was written')
})

test('"could not tell" is waited out: a first mount never creates a root on EUNSURE', async (t) => {
  const seed = randomBytes(32)
  const ring = await localStore(tempDir(t, 'ring'))
  const a = await open(tempDir(t, 'home-a'), ring, seed)
  await writeFile(a, '/kept.txt', Buffer.from('the one tree'))
  const rootId = a.root.hex
  await a.close()

  // A second computer's mount (not marked adopted): the pointer's holders do not answer for 2.5 s.
  const faulty = new FaultyValueStore(ring)
  faulty.fault(pointerKey(seed), 'unsure')
  setTimeout(() => faulty.fault(pointerKey(seed), null), 2500)
  const notices: string[] = []
  const b = await open(tempDir(t, 'home-b'), faulty, seed, { notice: (l) => notices.push(l) })
  t.teardown(() => b.close().catch(() => {}))
  t.ok(faulty.hits.unsure >= 2, `EUNSURE answered ${faulty.hits.unsure} times`)
  t.is(b.root.hex, rootId, 'the existing root, not a new one')
  t.alike(await readFile(b, '/kept.txt'), Buffer.from('the one tree'))
  t.ok(
    notices.some((l) => l.includes('waiting')),
    `the user is told: ${notices.join(' | ')}`
  )
  const pointer = await ring.getRecord(pointerKey(seed))
  t.is(pointer?.version, 1, 'the pointer was never rewritten')
})

test('a root that cannot be read in time fails with a clear error, and never becomes a new tree', async (t) => {
  const seed = randomBytes(32)
  const ring = await localStore(tempDir(t, 'ring'))
  const faulty = new FaultyValueStore(ring)
  faulty.fault(pointerKey(seed), 'timeout')
  const started = Date.now()
  await t.exception(
    open(tempDir(t, 'home'), faulty, seed, { rootWaitMs: 2000 }),
    /could not be read from the network/,
    'EHOSTUNREACH with the cause'
  )
  t.ok(Date.now() - started >= 2000, 'it waited')
  t.is(await ring.getRecord(pointerKey(seed)), null, 'no root pointer was written')
})

test('offline: the remount shows the tree, reads inline files, takes writes into the journal, merges when back', async (t) => {
  t.timeout(120_000)
  const seed = randomBytes(32)
  const home = tempDir(t, 'home')
  const ring = await localStore(tempDir(t, 'ring'))
  const faulty = new FaultyValueStore(ring)
  const a = await open(home, faulty, seed)
  await a.mkdir('/photos', 0o755)
  await writeFile(a, '/photos/list.txt', Buffer.from('one\ntwo\n'))
  await a.close()

  faulty.offline = true
  const b = await open(home, faulty, seed, { chunkSize: 64 * 1024 })
  let bClosed = false
  t.teardown(async () => {
    faulty.offline = false
    if (!bClosed) await b.close().catch(() => {})
  })
  t.alike(await b.readdir('/photos'), ['list.txt'])
  t.alike(await readFile(b, '/photos/list.txt'), Buffer.from('one\ntwo\n'))
  const big = randomBytes(200_000)
  await writeFile(b, '/photos/offline.bin', big)
  await b.mkdir('/photos/new', 0o755)
  await writeFile(b, '/photos/new/small.txt', Buffer.from('made offline'))
  await b.closeFile(b.root)
  // A flush cannot finish while offline (chunk uploads wait and retry, records fail): nothing is lost meanwhile.
  b.flush().catch(() => {})
  await waitFor('offline noticed', () => b.status().offline, { timeoutMs: 10_000, intervalMs: 50, retryErrors: true })
  const s = b.status()
  t.ok(s.offline, 'status says offline')
  t.ok(s.dirty >= 3, `status says what waits: ${s.dirty} records`)
  t.ok(fs.readdirSync(path.join(home, 'cache', 'journal')).length > 0, 'the journal keeps the changes')
  t.ok(faulty.hits.offline > 0)

  faulty.offline = false
  await waitFor(
    'the offline changes stored',
    () => {
      b.flush().catch(() => {})
      return b.status().dirty === 0 && b.status().pendingChunks === 0
    },
    { timeoutMs: 60_000, intervalMs: 500, retryErrors: true }
  )
  t.absent(b.status().offline, 'online again')
  await b.close()
  bClosed = true

  const other = await open(tempDir(t, 'home-other'), ring, seed)
  t.teardown(() => other.close().catch(() => {}))
  t.alike((await other.readdir('/photos')).sort(), ['list.txt', 'new', 'offline.bin'])
  t.alike(await readFile(other, '/photos/offline.bin'), big, 'a chunked file written offline arrived whole')
  t.alike(await readFile(other, '/photos/new/small.txt'), Buffer.from('made offline'))
})

test('replay never drops: what cannot be applied stays in the journal and is applied when the store answers', async (t) => {
  const seed = randomBytes(32)
  const home = tempDir(t, 'home')
  const ring = await localStore(tempDir(t, 'ring'))
  const a = await open(home, ring, seed)
  const dir = await a.mkdir('/dir', 0o755)
  await writeFile(a, '/dir/old.txt', Buffer.from('old'))
  await a.sync()
  // Changes that reach only the journal, then a crash (a is abandoned without close).
  await writeFile(a, '/dir/new.txt', Buffer.from('made just before the crash'))
  await a.rename('/dir/old.txt', '/dir/renamed.txt')
  await a.closeFile(a.root)
  const dirKey = recordKey(a.keys.publicKey, dir.id)

  // The home's record copy is gone too (a home from before it, or a lost disk): only the store can answer.
  fs.rmSync(path.join(home, 'records'), { recursive: true, force: true })
  const faulty = new FaultyValueStore(ring)
  faulty.fault(dirKey, 'timeout')
  const errors: string[] = []
  const b = await open(home, faulty, seed, { onError: (e) => errors.push(e.message), flushIntervalMs: 200 })
  t.teardown(() => b.close().catch(() => {}))
  t.ok(faulty.hits.timeout > 0, 'the directory did not answer during replay')
  t.ok(b.status().replayWaiting, 'the replay waits')
  t.ok(b.status().replayOps >= 3, `${b.status().replayOps} ops wait`)
  t.ok(fs.readdirSync(path.join(home, 'cache', 'journal')).length > 0, 'the journal is kept')
  // The background flusher runs meanwhile and must not discard the held journal: on purpose,
  // a few of its rounds (200 ms apart) go by.
  await sleep(1500)
  t.ok(b.status().replayWaiting)

  faulty.fault(dirKey, null)
  await waitFor('the replay finished', () => !b.status().replayWaiting, {
    timeoutMs: 30_000,
    intervalMs: 200,
    retryErrors: true
  })
  t.alike((await b.readdir('/dir')).sort(), ['new.txt', 'renamed.txt'])
  await b.close()

  const other = await open(tempDir(t, 'home-other'), ring, seed)
  t.teardown(() => other.close().catch(() => {}))
  t.alike((await other.readdir('/dir')).sort(), ['new.txt', 'renamed.txt'], 'the store holds the replayed names')
  t.alike(await readFile(other, '/dir/new.txt'), Buffer.from('made just before the crash'))
  t.alike(await readFile(other, '/dir/renamed.txt'), Buffer.from('old'))
  t.is(fs.readdirSync(path.join(home, 'cache', 'journal')).length, 0, 'the journal goes once everything is stored')
})

test('a replay that meets a directory answering "absent" keeps both its stored entries and the journal\'s', async (t) => {
  const seed = randomBytes(32)
  const home = tempDir(t, 'home')
  const ring = await localStore(tempDir(t, 'ring'))
  const a = await open(home, ring, seed)
  const dir = await a.mkdir('/d', 0o755)
  await writeFile(a, '/d/before.txt', Buffer.from('stored'))
  await a.sync()
  await writeFile(a, '/d/f.txt', Buffer.from('entry only in the journal'))
  await a.closeFile(a.root)
  fs.rmSync(path.join(home, 'records'), { recursive: true, force: true })

  // "Absent" (an offline member asking only itself): the journal's state of the directory is
  // written from version 0, and the store's compare-and-swap merges it with what it holds.
  const faulty = new FaultyValueStore(ring)
  faulty.fault(recordKey(a.keys.publicKey, dir.id), 'absent')
  const b = await open(home, faulty, seed)
  t.teardown(() => b.close().catch(() => {}))
  t.ok(faulty.hits.absent > 0)
  faulty.fault(recordKey(a.keys.publicKey, dir.id), null)
  await waitFor('the replay finished', () => !b.status().replayWaiting, {
    timeoutMs: 30_000,
    intervalMs: 200,
    retryErrors: true
  })
  const other = await open(tempDir(t, 'home-other'), ring, seed)
  t.teardown(() => other.close().catch(() => {}))
  t.alike((await other.readdir('/d')).sort(), ['before.txt', 'f.txt'], 'nothing dropped, nothing forked')
  t.alike(await readFile(other, '/d/f.txt'), Buffer.from('entry only in the journal'))
})

test('a flush that meets a stale replica merges and stores above every version seen', async (t) => {
  const seed = randomBytes(32)
  const ring = await localStore(tempDir(t, 'ring'))
  const faulty = new FaultyValueStore(ring)
  const home = tempDir(t, 'home-a')
  const a = await open(home, faulty, seed)
  await writeFile(a, '/one', Buffer.from('1'))
  await a.sync()
  await writeFile(a, '/two', Buffer.from('2'))
  await a.sync()
  const rootKey = recordKey(a.keys.publicKey, a.root.id)
  await a.close()
  // The root's read answers the version before the last: the copy in the home is newer and wins.
  faulty.fault(rootKey, 'stale')
  const b = await open(home, faulty, seed)
  t.teardown(() => b.close().catch(() => {}))
  t.ok(faulty.hits.stale > 0)
  t.alike((await b.readdir('/')).sort(), ['one', 'two'], 'not rolled back')
  await writeFile(b, '/three', Buffer.from('3'))
  await b.sync()
  faulty.fault(rootKey, null)
  const stored = await ring.getRecord(rootKey)
  t.ok(stored && stored.version >= 4, `stored at version ${stored?.version}`)
  const other = await open(tempDir(t, 'home-other'), ring, seed)
  t.teardown(() => other.close().catch(() => {}))
  t.alike((await other.readdir('/')).sort(), ['one', 'three', 'two'])
})
