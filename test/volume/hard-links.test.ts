// Hard links in the Volume (docs/hard-links.md): the stored link count, its
// wire form (absent means 1, so older records read unchanged), the file's
// data going only with its last name, and two computers changing the names of
// one linked file at once: the counts merge so the file is never deleted
// while a name lists it, and a file that lost all its names keeps its data.

import test, { type Test } from 'brittle'
import { randomBytes } from '../../lib/crypto'
import { stateFromWire, stateToWire } from '../../lib/volume/inode'
import { LocalValueStore } from '../../lib/volume/local-value-store'
import { findProblems } from '../../lib/volume/tree-check'
import type { Volume } from '../../lib/volume/volume'
import { tempDir } from '../helpers/temp-dir'
import { openVolume } from '../helpers/volume'

/** Flushing and polling only when the test says: changes made on both stay local until then. */
const BY_HAND = { flushIntervalMs: 3_600_000, syncIntervalMs: 3_600_000 }

/** A Volume of the user `seed` on `store`; a failure in the background fails the test. */
function open(t: Test, store: LocalValueStore, seed: Buffer, home = tempDir(t, 'home')): Promise<Volume> {
  return openVolume(home, store, {
    seed,
    chunkSize: 4096,
    ...BY_HAND,
    onError: (err) => {
      throw err
    }
  })
}

async function storeOf(t: Test): Promise<LocalValueStore> {
  const store = new LocalValueStore(tempDir(t, 'store'))
  await store.ready()
  return store
}

/** Two computers of one user on one store, both closed in teardown. */
async function twoComputers(t: Test): Promise<{ a: Volume; b: Volume }> {
  const store = await storeOf(t)
  const seed = randomBytes(32)
  const a = await open(t, store, seed)
  const b = await open(t, store, seed)
  t.teardown(() => Promise.all([a.close(), b.close()]))
  return { a, b }
}

async function readFile(v: Volume, p: string): Promise<string> {
  const inode = await v.resolve(p)
  const out = Buffer.alloc(inode.size)
  const n = await v.read(inode, out, out.length, 0)
  return out.subarray(0, n).toString()
}

async function writeFile(v: Volume, p: string, data: string): Promise<void> {
  const inode = await v.create(p, 0o644)
  await v.write(inode, Buffer.from(data), 0)
  await v.closeFile(inode)
}

const names = async (v: Volume, p: string) => (await v.readdir(p)).sort().join(',')
const nlink = async (v: Volume, p: string) => v.stat(await v.resolve(p)).nlink

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'no error'
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}

/** Both take in what the other stored (two polls: the beacon, then the records it names). */
async function exchange(a: Volume, b: Volume): Promise<void> {
  await a.sync()
  await b.sync()
  for (let i = 0; i < 2; i++) {
    await a.pollRemote()
    await b.pollRemote()
  }
}

test('hard links: wire form of the link count', (t) => {
  const base = { type: 'file' as const, mode: 0o100644, uid: 0, gid: 0, atime: 1, mtime: 1, ctime: 1 }
  const one = stateToWire({ ...base, xattrs: new Map() })
  t.absent('nl' in one, 'one name: no field, as records before hard links')
  t.is(stateFromWire(one).nlink, undefined, 'a record without the field has one name')
  const three = stateToWire({ ...base, xattrs: new Map(), nlink: 3 })
  t.is(three.nl, 3)
  t.is(stateFromWire(three).nlink, 3)
})

test('hard links: findProblems allows a file listings up to its link count', (t) => {
  const id = (n: string) => Buffer.from(n)
  const hex = (n: string) => id(n).toString('hex')
  const root = new Map([
    ['a', { id: id('f1'), type: 'file' as const }],
    ['d', { id: id('d1'), type: 'dir' as const }]
  ])
  const d1 = new Map([
    ['b', { id: id('f1'), type: 'file' as const }],
    ['c', { id: id('f1'), type: 'file' as const }]
  ])
  const tree = (links: number) => (h: string) =>
    h === hex('root')
      ? { hex: h, type: 'dir' as const, entries: root }
      : h === hex('d1')
        ? { hex: h, type: 'dir' as const, entries: d1 }
        : h === hex('f1')
          ? { hex: h, type: 'file' as const, entries: null, links }
          : undefined
  t.alike(findProblems(hex('root'), tree(3), [hex('f1'), hex('d1')]).problems, [], 'three names, link count 3')
  const over = findProblems(hex('root'), tree(2), [hex('f1'), hex('d1')]).problems
  t.is(over.length, 1, 'three names, link count 2: one listing is extra')
  t.is(over[0].kind === 'extra-entry' && `${over[0].name} ${over[0].cause}`, 'c double-parent', 'the last one met')
})

test('hard links: names, counts and data on one volume, and after reopening', async (t) => {
  const store = await storeOf(t)
  const seed = randomBytes(32)
  const home = tempDir(t, 'home')
  const v = await open(t, store, seed, home)
  await v.mkdir('/d', 0o755)
  await writeFile(v, '/a', 'data')
  const linked = await v.link('/a', '/d/b')
  t.is(linked, await v.resolve('/a'), 'one inode under both names')
  t.is(await nlink(v, '/a'), 2)
  t.is(await nlink(v, '/d/b'), 2)
  t.is(await codeOf(v.link('/d', '/d2')), 'EPERM', 'a folder: EPERM')
  t.is(await codeOf(v.link('/a', '/d/b')), 'EEXIST')
  t.is(await codeOf(v.link('/missing', '/x')), 'ENOENT')
  t.is(v.stat(await v.resolve('/d')).nlink, 2, 'a folder’s count is still its own (no subfolders)')

  await v.link('/a', '/c')
  await v.unlink('/a')
  t.is(await nlink(v, '/c'), 2)
  t.is(await readFile(v, '/d/b'), 'data', 'the data stays with the other names')
  await writeFile(v, '/new', 'other')
  await v.rename('/new', '/c')
  t.is(await nlink(v, '/d/b'), 1, 'a rename over one name drops one')
  t.is(await readFile(v, '/d/b'), 'data')
  await v.link('/d/b', '/e')
  await v.sync()
  await v.close()

  const again = await open(t, store, seed, home)
  t.is(await names(again, '/'), 'c,d,e')
  t.is(await nlink(again, '/e'), 2, 'the count is stored')
  t.is(await nlink(again, '/d/b'), 2)
  t.is(await readFile(again, '/e'), 'data')
  await again.unlink('/e')
  await again.unlink('/d/b')
  await again.sync()
  t.is(await names(again, '/d'), '')
  const report = await again.checkAll(false)
  t.alike(report.problems, [], 'nothing left over: no orphan')
  await again.close()
})

test('hard links: both computers unlink the same name of a linked file', async (t) => {
  const { a, b } = await twoComputers(t)
  await writeFile(a, '/x', 'kept')
  await a.link('/x', '/y')
  await exchange(a, b)
  t.is(await nlink(b, '/y'), 2, 'b sees both names')

  await a.unlink('/x')
  await b.unlink('/x')
  await exchange(a, b)
  for (const [who, v] of [
    ['a', a],
    ['b', b]
  ] as const) {
    t.is(await names(v, '/'), 'y', `${who}: y stays`)
    t.is(await nlink(v, '/y'), 1, `${who}: one name counted, not zero`)
    t.is(await readFile(v, '/y'), 'kept', `${who}: the data is there`)
  }
})

test('hard links: both computers add a name to one file at once', async (t) => {
  const { a, b } = await twoComputers(t)
  await writeFile(a, '/x', 'kept')
  await exchange(a, b)
  await a.link('/x', '/p')
  await b.link('/x', '/q')
  await exchange(a, b)
  for (const [who, v] of [
    ['a', a],
    ['b', b]
  ] as const) {
    t.is(await names(v, '/'), 'p,q,x', `${who}: every name`)
    t.is(await nlink(v, '/p'), 3, `${who}: both links counted`)
  }
  for (const name of ['/x', '/p', '/q']) await a.unlink(name)
  await a.sync()
  t.is(await names(a, '/'), '', 'all three names removed')
})

test('hard links: each computer unlinks a different name: the data is kept', async (t) => {
  const { a, b } = await twoComputers(t)
  await writeFile(a, '/x', 'kept')
  await a.link('/x', '/y')
  await exchange(a, b)
  await a.unlink('/x')
  await b.unlink('/y')
  await exchange(a, b)
  // Neither saw the other's unlink: the merged count (never below either side's) keeps the file,
  // now in no folder; the tree check gives it a name back.
  const report = await b.checkAll(true)
  t.is(report.remaining?.length, 0, `repaired: ${report.repaired.join('; ')}`)
  await exchange(a, b)
  for (const [who, v] of [
    ['a', a],
    ['b', b]
  ] as const) {
    const listed = await names(v, '/')
    t.is(listed.split(',').length, 1, `${who}: one name back (${listed})`)
    t.is(await readFile(v, `/${listed}`), 'kept', `${who}: with the data`)
    t.is(await nlink(v, `/${listed}`), 1, `${who}: counted once`)
  }
})

test('hard links: a crash after the journal took links and unlinks loses none of them', async (t) => {
  const home = tempDir(t, 'home')
  const storeDir = tempDir(t, 'store')
  const v1 = await openVolume(home, storeDir)
  await writeFile(v1, '/a', 'stored once')
  await writeFile(v1, '/gone', 'both names go')
  await v1.link('/gone', '/gone2')
  await v1.sync()
  await v1.link('/a', '/b')
  await v1.link('/a', '/c')
  await v1.unlink('/c')
  await v1.unlink('/gone')
  await v1.unlink('/gone2')
  await v1.commit()
  // Abandon v1 without close(), as if SIGKILLed; closed only when the test is over, so its timers write nowhere.
  t.teardown(() => v1.close().catch(() => {}))
  const v2 = await openVolume(home, storeDir)
  t.is(await names(v2, '/'), 'a,b', 'the journal’s names: a new one, a removed one, a file with both names gone')
  t.is(await nlink(v2, '/a'), 2)
  t.is(await nlink(v2, '/b'), 2)
  t.is(await readFile(v2, '/b'), 'stored once')
  await v2.sync()
  t.alike((await v2.checkAll(false)).problems, [], 'the tree is sound')
  await v2.close()
})
