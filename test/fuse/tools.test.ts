// Everyday tools that peer filesystems often break: `rsync -a` (modes and
// mtimes, then a second run that finds nothing to do), `tar x` of a real
// source tarball compared with `diff -r`, and `ls -l` of a 10,000-entry
// directory, each read back again after a remount. Times set alone
// (`touch -m`, `touch -a`, and `tar x`, which leaves the atime out) reach the
// Volume through scripts/patch-fuse-native.js.

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { sh, startMount } from '../helpers/mount'
import { tempDir } from '../helpers/temp-dir'

const hasRsync = (() => {
  try {
    sh('rsync --version')
    return true
  } catch {
    return false
  }
})()

/** One line per entry: relative path, type, permission bits, size (files), and the mtime in whole seconds if asked. */
function listing(root: string, withMtime = false): string {
  const format = withMtime ? '%P %y %m %s %Ts\\n' : '%P %y %m %s\\n'
  // A directory's size is the filesystem's own business.
  return sh(`cd ${root} && find . -mindepth 1 -printf '${format}' | sort`).replace(/^(\S+ d \d+) \d+/gm, '$1 -')
}

/** A tree with varied modes and old mtimes (whole seconds), a symlink and an empty file. */
function makeTree(src: string): void {
  fs.mkdirSync(path.join(src, 'private'), { mode: 0o700 })
  fs.mkdirSync(path.join(src, 'pub', 'deep'), { recursive: true })
  const files: [string, number, number][] = [
    ['script.sh', 0o755, 10],
    ['secret', 0o600, 3000],
    ['readonly.txt', 0o444, 1],
    ['private/key', 0o400, 64 * 1024 + 3],
    ['pub/deep/data.bin', 0o644, 2 * 1024 * 1024 + 5],
    ['pub/empty', 0o640, 0]
  ]
  let when = 1_600_000_000
  for (const [name, mode, size] of files) {
    const file = path.join(src, name)
    fs.writeFileSync(file, Buffer.alloc(size, name))
    fs.chmodSync(file, mode)
    fs.utimesSync(file, when, when)
    when += 86_400 + 17
  }
  fs.symlinkSync('deep/data.bin', path.join(src, 'pub', 'link'))
  for (const dir of ['pub/deep', 'pub', 'private']) fs.utimesSync(path.join(src, dir), when, when)
}

test('rsync -a copies types, modes, sizes, contents and symlinks; they survive a remount', {
  skip: !hasRsync,
  timeout: 120_000
}, async (t) => {
  const src = tempDir(t, 'rsync-src')
  makeTree(src)
  const m = await startMount(t)
  const dst = path.join(m.dir, 'copy')
  sh(`rsync -a ${src}/ ${dst}/`)
  t.is(listing(dst), listing(src), 'types, modes and sizes as in the source')
  t.is(sh(`diff -r ${src} ${dst} && echo same`).trim(), 'same', 'contents identical')
  t.is(sh(`readlink ${dst}/pub/link`).trim(), 'deep/data.bin')

  t.is(await m.stop(), 0)
  const m2 = await startMount(t, { home: m.home, dir: m.dir })
  t.is(listing(dst), listing(src), 'the same after a remount')
  t.is(sh(`diff -r ${src} ${dst} && echo same`).trim(), 'same', 'contents identical after a remount')
  await m2.stop()
})

test('rsync -a preserves mtimes; a second run has nothing to copy', async (t) => {
  const src = tempDir(t, 'rsync-mtime')
  makeTree(src)
  const m = await startMount(t)
  const dst = path.join(m.dir, 'copy')
  sh(`rsync -a ${src}/ ${dst}/`)
  t.is(listing(dst, true), listing(src, true), 'mtimes as in the source')
  t.is(sh(`rsync -ai ${src}/ ${dst}/`), '', 'a second rsync -a finds every file up to date')
  await m.stop()
})

test('tar x of a real source tarball; diff -r against the source', { timeout: 120_000 }, async (t) => {
  const source = path.join(__dirname, '..', '..', '..', 'node_modules', 'hyperdht')
  const work = tempDir(t, 'tarball')
  const tarball = path.join(work, 'hyperdht.tgz')
  sh(`tar czf ${tarball} -C ${path.dirname(source)} hyperdht`)
  const m = await startMount(t)
  sh(`tar xzf ${tarball} -C ${m.dir}`)
  t.is(sh(`diff -r ${source} ${m.dir}/hyperdht && echo same`).trim(), 'same', 'extracted tree equals the source')
  // tar sets each mtime with the atime left out (UTIME_OMIT).
  const recorded = listing(source, true)
  t.is(listing(`${m.dir}/hyperdht`, true), recorded, 'types, modes, sizes and mtimes as tar recorded them')

  t.is(await m.stop(), 0)
  const m2 = await startMount(t, { home: m.home, dir: m.dir })
  t.is(sh(`diff -r ${source} ${m2.dir}/hyperdht && echo same`).trim(), 'same', 'identical after a remount')
  t.is(listing(`${m2.dir}/hyperdht`, true), recorded, 'mtimes too')
  await m2.stop()
})

test('touch -m and touch -a set one time and keep the other', { timeout: 60_000 }, async (t) => {
  const m = await startMount(t)
  const file = path.join(m.dir, 'stamp')
  fs.writeFileSync(file, 'x')
  const times = () => sh(`stat -c '%X %Y' ${file}`).trim()
  sh(`touch -a -d @1500000000 ${file}`)
  sh(`touch -m -d @1600000000 ${file}`)
  t.is(times(), '1500000000 1600000000', 'atime from touch -a, mtime from touch -m')
  sh(`touch -m -d @1700000000 ${file}`)
  t.is(times(), '1500000000 1700000000', 'a second touch -m leaves the atime alone')
  const before = Date.now() / 1000
  sh(`touch -m ${file}`)
  const [atime, mtime] = times().split(' ').map(Number)
  t.is(atime, 1500000000, 'touch -m (now) leaves the atime alone')
  t.ok(
    mtime >= Math.floor(before) - 1 && mtime <= Date.now() / 1000 + 1,
    'touch -m without a date sets the mtime to now'
  )

  t.is(await m.stop(), 0)
  const m2 = await startMount(t, { home: m.home, dir: m.dir })
  t.is(sh(`stat -c '%X' ${file}`).trim(), '1500000000', 'times survive a remount')
  await m2.stop()
})

test('ls -l of a 10,000-entry directory: every entry, every size', { timeout: 180_000 }, async (t) => {
  const N = 10_000
  const m = await startMount(t)
  const dir = path.join(m.dir, 'many')
  fs.mkdirSync(dir)
  const sizeOf = (i: number) => (i * 7919) % 20_000
  for (let i = 0; i < N; i++) fs.writeFileSync(path.join(dir, `entry-${i}`), Buffer.alloc(sizeOf(i), 0x61 + (i % 26)))

  const check = (label: string) => {
    const lines = sh(`ls -l ${dir}`).trim().split('\n')
    t.ok(lines[0].startsWith('total '), `${label}: ls -l prints a total`)
    const sizes = new Map<string, number>()
    for (const line of lines.slice(1)) {
      const f = line.trim().split(/\s+/)
      sizes.set(f[8], Number(f[4]))
    }
    t.is(sizes.size, N, `${label}: ${N} entries`)
    let wrong = 0
    for (let i = 0; i < N; i++) if (sizes.get(`entry-${i}`) !== sizeOf(i)) wrong++
    t.is(wrong, 0, `${label}: every size right`)
  }
  check('right after the writes')
  t.is(await m.stop(), 0)
  const m2 = await startMount(t, { home: m.home, dir: m.dir })
  check('after a remount')
  const last = N - 1
  const fill = String.fromCharCode(0x61 + (last % 26)).repeat(sizeOf(last))
  t.is(fs.readFileSync(path.join(dir, `entry-${last}`)).toString('latin1'), fill, 'contents read back')
  await m2.stop()
})
