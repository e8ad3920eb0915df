// The tree invariant (lib/volume/tree-check.ts): the pure walk on made-up
// trees, then two Volumes of one user on one store that move two folders
// into each other at once (the merge cuts both off the root and makes a
// cycle), checked and repaired by hand with the check after merges off, and
// settled by that check on its own when it is on. Nothing written is lost in
// either case. Waits poll up to a deadline.

import { recordCopyStoreFor } from '../../lib/app/record-copy-store'
import test, { type Test } from 'brittle'
import { randomBytes } from '../../lib/crypto'
import type { DirEntry } from '../../lib/volume/inode'
import { LocalValueStore } from '../../lib/volume/local-value-store'
import { type CheckNode, findProblems, placeOrphans } from '../../lib/volume/tree-check'
import { Volume } from '../../lib/volume/volume'
import { VolumeKeys } from '../../lib/volume/volume-keys'
import { tempDir } from '../helpers/temp-dir'
import { waitFor } from '../helpers/wait'

const DEADLINE_MS = 20_000

/** A made-up tree: folder name → its entries (name → inode name); inode names double as ids. */
function graph(dirs: Record<string, Record<string, string>>): (hex: string) => CheckNode | undefined {
  const id = (n: string) => Buffer.from(n)
  return (hex) => {
    const name = Buffer.from(hex, 'hex').toString()
    const d = dirs[name]
    if (d) {
      const entries = new Map<string, DirEntry>(
        Object.entries(d).map(([k, v]) => [k, { id: id(v), type: v.startsWith('d') ? 'dir' : 'file' }])
      )
      return { hex, type: 'dir', entries }
    }
    return name.startsWith('f') ? { hex, type: 'file', entries: null } : undefined
  }
}
const hex = (n: string) => Buffer.from(n).toString('hex')
const unhex = (h: string) => Buffer.from(h, 'hex').toString()

test('findProblems: a sound tree, a second parent, a cycle, orphans', (t) => {
  const sound = graph({ root: { a: 'da', f: 'f1' }, da: { g: 'f2' } })
  t.alike(findProblems(hex('root'), sound, [hex('da'), hex('f1'), hex('f2')]).problems, [], 'sound tree: nothing')

  // f1 listed in root and in da: the listing nearer the root stays.
  const twice = graph({ root: { a: 'da', f: 'f1' }, da: { again: 'f1' } })
  const p1 = findProblems(hex('root'), twice).problems
  t.is(p1.length, 1)
  t.is(p1[0].kind === 'extra-entry' && p1[0].cause, 'double-parent')
  t.is(
    p1[0].kind === 'extra-entry' && `${unhex(p1[0].dir)}/${p1[0].name}`,
    'da/again',
    'the deeper listing is the extra one'
  )

  // Same depth: the earlier name (bytes) keeps it, on every computer.
  const tie = graph({ root: { 'by-b': 'f1', 'by-a': 'f1' } })
  const p2 = findProblems(hex('root'), tie).problems
  t.is(p2.length === 1 && p2[0].kind === 'extra-entry' && p2[0].name, 'by-b')

  // q lists its own ancestor p: the back edge is the extra one, never the root's listing.
  const cycle = graph({ root: { p: 'dp' }, dp: { q: 'dq' }, dq: { back: 'dp' } })
  const p3 = findProblems(hex('root'), cycle).problems
  t.is(p3.length === 1 && p3[0].kind === 'extra-entry' && `${p3[0].cause} ${p3[0].name}`, 'cycle back')

  // The merge of two crossed moves: p and q in each other, neither in the root.
  const cut = graph({ root: {}, dp: { q: 'dq', pf: 'f1' }, dq: { p: 'dp', qf: 'f2' } })
  const known = ['dp', 'dq', 'f1', 'f2'].map(hex)
  const w = findProblems(hex('root'), cut, known)
  t.alike(
    w.problems.map((p) => (p.kind === 'orphan' ? unhex(p.id) : p.kind)).sort(),
    ['dp', 'dq', 'f1', 'f2'],
    'all four are orphans'
  )
  // A computer that last saw q in the root puts q back there (p comes with it); with no folder
  // to go back to, the lowest id of the cycle goes to the root.
  const orphans = w.problems.map((p) => (p.kind === 'orphan' ? p.id : ''))
  const lastSeen: Record<string, string> = { dq: 'root', dp: 'dq', f1: 'dp', f2: 'dq' }
  const back = placeOrphans(orphans, (h) => hex(lastSeen[unhex(h)]), cut, w.reached, hex('root'))
  t.alike(
    [...back].map(([k, v]) => `${unhex(k)}→${unhex(v)}`),
    ['dq→root']
  )
  const none = placeOrphans(orphans, () => null, cut, w.reached, hex('root'))
  t.alike(
    [...none].map(([k, v]) => `${unhex(k)}→${unhex(v)}`),
    ['dp→root'],
    'lowest id of the cycle'
  )
  // A file whose last folder is an orphan that does not list it (seen between two versions)
  // waits for that folder instead of going to the root.
  const between = graph({ root: {}, dp: { q: 'dq' }, dq: { p: 'dp' } })
  const w3 = findProblems(hex('root'), between, ['dp', 'dq', 'f2'].map(hex))
  const seen: Record<string, string> = { dq: 'root', dp: 'dq', f2: 'dq' }
  const placed = placeOrphans(
    w3.problems.map((p) => (p.kind === 'orphan' ? p.id : '')),
    (h) => hex(seen[unhex(h)]),
    between,
    w3.reached,
    hex('root')
  )
  t.alike(
    [...placed].map(([k, v]) => `${unhex(k)}→${unhex(v)}`),
    ['dq→root'],
    'f2 is not put in the root'
  )

  // A folder not loaded may hold the unreached ones: no orphan is judged then.
  const partial = graph({ root: { u: 'dunloaded' } })
  const w2 = findProblems(hex('root'), partial, [hex('f9')])
  t.alike(w2.unknown, [hex('dunloaded')])
  t.alike(w2.problems, [])
})

async function open(t: Test, store: LocalValueStore, seed: Buffer, treeSettleMs: number) {
  const home = tempDir(t, 'home')
  const volume = new Volume({
    home,
    store,
    recordCopy: recordCopyStoreFor(home),
    readCacheBytes: 0,
    chunkSize: 4096,
    flushIntervalMs: 50,
    syncIntervalMs: 50,
    keys: new VolumeKeys(seed),
    treeSettleMs,
    onError: (err) => {
      throw err
    }
  })
  await volume.ready()
  return volume
}

/** Polls `check` until it returns true or the deadline passes; errors (ENOENT while it arrives) count as false. */
async function eventually(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  await waitFor(what, check, { timeoutMs: DEADLINE_MS, intervalMs: 50, retryErrors: true })
}

/** Every path with a file's content, sorted. */
async function tree(v: Volume, p = '/'): Promise<string[]> {
  const out: string[] = []
  for (const { name, inode } of (await v.list(p)).sort((x, y) => (x.name < y.name ? -1 : 1))) {
    const full = `${p === '/' ? '' : p}/${name}`
    if (full.split('/').length > 8) throw new Error(`too deep: ${full}`)
    if (inode.type === 'dir') out.push(`${full}/`, ...(await tree(v, full)))
    else {
      const buf = Buffer.alloc(inode.size)
      await v.read(inode, buf, buf.length, 0)
      out.push(`${full}=${buf.toString()}`)
    }
  }
  return out
}

/** Two computers; /p/pf and /q/qf; then A moves p into q while B moves q into p, and both flush. */
async function crossedMoves(t: Test, treeSettleMs: number) {
  const store = new LocalValueStore(tempDir(t, 'store'))
  await store.ready()
  const seed = randomBytes(32)
  const a = await open(t, store, seed, treeSettleMs)
  const b = await open(t, store, seed, treeSettleMs)
  t.teardown(() => Promise.all([a.close(), b.close()]))
  await a.mkdir('/p', 0o755)
  await a.mkdir('/q', 0o755)
  for (const [p, text] of [
    ['/p/pf', 'in p'],
    ['/q/qf', 'in q']
  ]) {
    const f = await a.create(p, 0o644)
    await a.write(f, Buffer.from(text), 0)
    await a.closeFile(f)
  }
  await a.sync()
  await eventually('b sees p and q', async () => (await tree(b)).join() === '/p/,/p/pf=in p,/q/,/q/qf=in q')
  await Promise.all([a.rename('/p', '/q/p'), b.rename('/q', '/p/q')])
  await Promise.all([a.sync(), b.sync()])
  // Each takes in the other's folders (and merges its own on the next write).
  await a.sync()
  await b.sync()
  await a.pollRemote()
  await b.pollRemote()
  return { a, b }
}

test('crossed moves on two computers: check finds the cycle cut off from the root, --repair puts it back', async (t) => {
  const { a, b } = await crossedMoves(t, 0)
  await eventually('the merge cut both folders off the root', async () => {
    await a.pollRemote()
    return (await a.readdir('/')).length === 0
  })
  const found = await a.checkAll(false)
  t.ok(found.problems.length >= 2, `problems found: ${found.problems.join('; ')}`)
  t.ok(
    found.problems.some((p) => p.startsWith('orphan dir')),
    'the folders are orphans'
  )
  const fixed = await a.checkAll(true)
  t.alike(fixed.remaining, [], `nothing left: ${fixed.repaired.join('; ')}`)
  const want = (await tree(a)).join()
  t.ok(want.includes('=in p') && want.includes('=in q'), `both files kept: ${want}`)
  t.is((await a.checkAll(false)).problems.length, 0, 'a second check finds nothing')
  await eventually('b shows the repaired tree', async () => {
    await b.pollRemote()
    return (await tree(b)).join() === want
  })
  // Closed here, before the teardown removes the homes (teardowns run in the order they were added).
  await Promise.all([a.close(), b.close()])
})

test('crossed moves on two computers: the check after merges settles it on its own, the same on both', async (t) => {
  const { a, b } = await crossedMoves(t, 200)
  let last = ''
  await eventually('both show one sound tree with both files', async () => {
    await a.pollRemote()
    await b.pollRemote()
    const ta = (await tree(a)).join()
    const tb = (await tree(b)).join()
    last = `a: ${ta}\nb: ${tb}`
    return ta === tb && ta.includes('=in p') && ta.includes('=in q')
  }).catch((err: Error) => {
    throw new Error(`${err.message}\n${last}`)
  })
  t.pass(last)
  t.is((await a.checkAll(false)).problems.length, 0, 'a finds nothing wrong')
  t.is((await b.checkAll(false)).problems.length, 0, 'b finds nothing wrong')
  await Promise.all([a.close(), b.close()])
})
