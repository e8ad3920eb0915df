// Hard links through a real mount (docs/hard-links.md): `ln` gives a file a
// second name with st_nlink right on every name and one inode number, an edit
// through one name shows through the others, unlinking or renaming over one
// name keeps the rest, a directory cannot be linked, and all of it survives a
// remount and shows on a second computer of the same user.
//
// On one mount every name shows a change made through another at once: the
// kernel keeps no attributes (attr_timeout=0, lib/fuse/tuned-fuse.ts), though
// it sees each name as its own inode. Another computer's view is polled until
// its sync brings the change, never slept for.

import fs from 'node:fs'
import path from 'node:path'
import test, { type Test } from 'brittle'
import { runPeerstore } from '../helpers/cli'
import { startMount } from '../helpers/mount'
import { startTwoDevices } from '../helpers/ring-mounts'
import { tempDir } from '../helpers/temp-dir'
import { sleep, waitFor } from '../helpers/wait'

const DEADLINE_MS = 20_000
const PORT = 49_000 + Math.floor(Math.random() * 1000)

const cat = (file: string) => fs.readFileSync(file, 'utf8')
const nlinks = (files: string[]) => files.map((f) => fs.statSync(f).nlink).join(',')

/** Every one of `files` shows `n` links: at once, or on another mount within `deadlineMs` (its sync). */
async function expectLinks(t: Test, files: string[], n: number, deadlineMs = 0): Promise<void> {
  const want = files.map(() => n).join(',')
  if (deadlineMs > 0) {
    await waitFor(`nlink ${n}`, () => nlinks(files) === want, {
      timeoutMs: deadlineMs,
      intervalMs: 100,
      retryErrors: true,
      failOnTimeout: false
    })
  }
  t.is(nlinks(files), want, `nlink ${n} on ${files.map((f) => path.basename(f)).join(', ')}`)
}

/** `file` reads `want` at once, also through a name looked up before the change was made through another. */
function expectContent(t: Test, file: string, want: string, message: string): void {
  t.is(cat(file), want, message)
}

function errnoOf(fn: () => void): string {
  try {
    fn()
    return 'no error'
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err)
  }
}

test('hard links on one mount, and after a remount', { timeout: 180_000 }, async (t) => {
  const home = tempDir(t, 'links-home')
  const m = await startMount(t, { home })
  const p = (...names: string[]) => path.join(m.dir, ...names)

  fs.writeFileSync(p('a'), 'one\n')
  fs.linkSync(p('a'), p('b'))
  await expectLinks(t, [p('a'), p('b')], 2)
  t.is(fs.statSync(p('a')).ino, fs.statSync(p('b')).ino, 'both names have one inode number')

  fs.writeFileSync(p('a'), 'two, written through a\n')
  expectContent(t, p('b'), 'two, written through a\n', 'an edit through a reads through b')
  fs.appendFileSync(p('b'), 'three, through b\n')
  expectContent(t, p('a'), 'two, written through a\nthree, through b\n', 'an append through b reads through a')

  fs.mkdirSync(p('d'))
  fs.linkSync(p('a'), p('d', 'c'))
  await expectLinks(t, [p('a'), p('b'), p('d', 'c')], 3)
  t.is(fs.statSync(p('d', 'c')).ino, fs.statSync(p('a')).ino, 'a link in another directory: the same inode')

  t.is(
    errnoOf(() => fs.linkSync(p('a'), p('b'))),
    'EEXIST',
    'linking onto an existing name: EEXIST'
  )
  t.is(
    errnoOf(() => fs.linkSync(p('d'), p('d2'))),
    'EPERM',
    'linking a directory: EPERM'
  )
  t.absent(fs.existsSync(p('d2')))

  fs.unlinkSync(p('a'))
  t.absent(fs.existsSync(p('a')))
  await expectLinks(t, [p('b'), p('d', 'c')], 2)
  t.is(cat(p('d', 'c')), 'two, written through a\nthree, through b\n', 'rm of one name keeps the data')

  // A rename over one name of a linked file: that name now is the other file; the rest keep the old one.
  fs.writeFileSync(p('x'), 'x\n')
  fs.renameSync(p('x'), p('b'))
  t.is(cat(p('b')), 'x\n')
  t.is(cat(p('d', 'c')), 'two, written through a\nthree, through b\n', 'the other name keeps the file')
  await expectLinks(t, [p('b'), p('d', 'c')], 1)

  // A rename of one name of a linked file keeps both names on the one inode.
  fs.linkSync(p('d', 'c'), p('e'))
  fs.renameSync(p('e'), p('d', 'moved'))
  await expectLinks(t, [p('d', 'c'), p('d', 'moved')], 2)
  t.is(fs.statSync(p('d', 'moved')).ino, fs.statSync(p('d', 'c')).ino)

  // A rename from one name of a file onto another name of it: nothing changes (POSIX).
  fs.renameSync(p('d', 'moved'), p('d', 'c'))
  t.ok(fs.existsSync(p('d', 'moved')) && fs.existsSync(p('d', 'c')), 'rename between two names of one file: both stay')

  // A symlink can have two names too (link(2) does not follow it).
  fs.symlinkSync('d/c', p('sym'))
  fs.linkSync(p('sym'), p('sym2'))
  t.is(fs.readlinkSync(p('sym2')), 'd/c')
  await expectLinks(t, [p('sym'), p('sym2')], 2)

  // An open name unlinked: the kernel keeps it under a hidden name until closed; the count comes down then.
  fs.linkSync(p('d', 'c'), p('open'))
  const fd = fs.openSync(p('open'), 'r')
  fs.unlinkSync(p('open'))
  const buf = Buffer.alloc(64)
  const n = fs.readSync(fd, buf, 0, 64, 0)
  t.is(buf.subarray(0, n).toString(), 'two, written through a\nthree, through b\n', 'the unlinked open name reads')
  fs.closeSync(fd)
  // The kernel sends the release, after which libfuse unlinks the hidden name, once close(2) has returned.
  await expectLinks(t, [p('d', 'c'), p('d', 'moved')], 2, 5000)

  // The whole-tree check takes names up to a file's link count as sound, not as double listings.
  const check = await runPeerstore(['check', '--home', home])
  t.is(check.code, 0, `peerstore check: exit 0\n${check.stdout}${check.stderr}`)
  t.ok(check.stdout.includes('the tree is sound'), check.stdout.trim())

  const ino = fs.statSync(p('d', 'c')).ino
  const symIno = fs.lstatSync(p('sym')).ino
  t.is(await m.stop(), 0, 'the first mount flushes and unmounts')

  const again = await startMount(t, { home })
  const q = (...names: string[]) => path.join(again.dir, ...names)
  t.is(fs.readdirSync(q()).sort().join(','), 'b,d,sym,sym2', 'the names after a remount')
  t.is(fs.readdirSync(q('d')).sort().join(','), 'c,moved')
  await expectLinks(t, [q('d', 'c'), q('d', 'moved')], 2)
  t.is(fs.statSync(q('d', 'moved')).ino, ino, 'the same inode number after a remount')
  t.is(fs.statSync(q('d', 'c')).ino, ino)
  await expectLinks(t, [q('b')], 1)
  t.is(cat(q('d', 'moved')), 'two, written through a\nthree, through b\n')
  t.is(fs.lstatSync(q('sym2')).ino, symIno)
  await expectLinks(t, [q('sym'), q('sym2')], 2)

  fs.appendFileSync(q('d', 'c'), 'four, after the remount\n')
  expectContent(
    t,
    q('d', 'moved'),
    'two, written through a\nthree, through b\nfour, after the remount\n',
    'an append after the remount reads through the other name'
  )
  fs.unlinkSync(q('d', 'moved'))
  await expectLinks(t, [q('d', 'c')], 1)
  fs.unlinkSync(q('d', 'c'))
  t.is(fs.readdirSync(q('d')).join(','), '', 'the last name gone: the folder is empty')
  t.is(await again.stop(), 0)
})

test('hard links on a second computer of the same user', { timeout: 300_000 }, async (t) => {
  const { a, b } = await startTwoDevices(t, { port: PORT, prefix: 'links' })
  const A = (...names: string[]) => path.join(a.dir, ...names)
  const B = (...names: string[]) => path.join(b.dir, ...names)
  // A failed step is reported with t.fail, not thrown: brittle then runs the teardown.
  try {
    const shows = (what: string, check: () => boolean) =>
      waitFor(what, check, { timeoutMs: DEADLINE_MS, intervalMs: 100, retryErrors: true }).catch((err: Error) => {
        throw new Error(`${err.message}\n--- mount A:\n${a.output()}\n--- mount B:\n${b.output()}`)
      })

    fs.mkdirSync(A('docs'))
    fs.writeFileSync(A('report.txt'), 'from a\n')
    fs.linkSync(A('report.txt'), A('docs', 'same-report.txt'))
    await shows(
      'both names in B',
      () => cat(B('docs', 'same-report.txt')) === 'from a\n' && fs.existsSync(B('report.txt'))
    )
    await expectLinks(t, [B('report.txt'), B('docs', 'same-report.txt')], 2, DEADLINE_MS)
    t.is(fs.statSync(B('report.txt')).ino, fs.statSync(B('docs', 'same-report.txt')).ino, 'one inode in B')
    t.is(fs.statSync(B('report.txt')).ino, fs.statSync(A('report.txt')).ino, 'the same inode number on both')

    // An edit in B through one name shows in A through the other.
    fs.appendFileSync(B('docs', 'same-report.txt'), 'and from b\n')
    const fd = fs.openSync(B('docs', 'same-report.txt'), 'r')
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    await shows('B’s edit through the other name in A', () => cat(A('report.txt')) === 'from a\nand from b\n')

    // One name removed in A: B keeps the other, with its data, and the count comes down.
    fs.unlinkSync(A('report.txt'))
    await shows('the removed name gone in B', () => !fs.existsSync(B('report.txt')))
    await expectLinks(t, [B('docs', 'same-report.txt')], 1, DEADLINE_MS)
    t.is(cat(B('docs', 'same-report.txt')), 'from a\nand from b\n', 'B keeps the data through the other name')

    // The tree check on B (after a merge it looks again 4 s later) must not take the second name for an error.
    fs.linkSync(A('docs', 'same-report.txt'), A('again.txt'))
    await shows('a new link in B', () => fs.existsSync(B('again.txt')))
    await expectLinks(t, [B('again.txt'), B('docs', 'same-report.txt')], 2, DEADLINE_MS)
    // Checking that something does NOT happen: past the tree check's settle time, both names must stay.
    await sleep(6000)
    t.ok(fs.existsSync(B('again.txt')) && fs.existsSync(B('docs', 'same-report.txt')), 'both names stay in B')
    t.ok(fs.existsSync(A('again.txt')) && fs.existsSync(A('docs', 'same-report.txt')), 'both names stay in A')
    t.absent(/tree check: settled/.test(a.output() + b.output()), 'no tree repair was needed')
  } catch (err) {
    t.fail((err as Error).message)
    return
  }
  t.is(await b.stop(), 0, 'B flushes and unmounts')
  t.is(await a.stop(), 0, 'A flushes and unmounts')
})
