// Listing a folder through the mount: a readdir loads the listed folder's
// entries ahead, together, so the lookups of `ls -l` that follow find them in
// memory (counted in `peerstore status --json`: mount.prefetched and
// mount.inodeLoads); `ls -l` is not asked for SELinux labels and ACLs per
// entry; and an entry loaded ahead still shows a change another computer of
// the user makes, within the sync delay. The speed itself is a benchmark
// figure (scripts/bench-listing.ts), never asserted.

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { runPeerstore } from '../helpers/cli'
import { sh, startMount } from '../helpers/mount'
import { startTwoDevices } from '../helpers/ring-mounts'
import { waitFor } from '../helpers/wait'

interface Counters {
  inodes: number
  inodeLoads: number
  prefetched: number
}

async function mountCounters(home: string): Promise<Counters> {
  const res = await runPeerstore(['status', '--home', home, '--json'])
  if (res.code !== 0) throw new Error(`peerstore status: ${res.stderr}`)
  const mount = (JSON.parse(res.stdout) as { mount?: Partial<Counters> }).mount
  return { inodes: mount?.inodes ?? -1, inodeLoads: mount?.inodeLoads ?? -1, prefetched: mount?.prefetched ?? -1 }
}

test('a listing loads its entries ahead: ls -l after it reads no record one by one', {
  timeout: 120_000
}, async (t) => {
  const N = 300
  const m = await startMount(t)
  const dir = path.join(m.dir, 'many')
  fs.mkdirSync(dir)
  for (let i = 0; i < N; i++) fs.writeFileSync(path.join(dir, `f-${i}`), `${i}`)
  t.is(await m.stop(), 0)

  const m2 = await startMount(t, { home: m.home, dir: m.dir })
  const before = await mountCounters(m.home)
  t.ok(before.inodes < N, `after a remount the entries are not in memory (${before.inodes} inodes)`)
  // Names only: no lookup of any entry follows, so only the readdir can have loaded them.
  t.is(sh(`ls ${dir} | wc -l`).trim(), String(N))
  await waitFor(`the ${N} entries loaded ahead`, async () => (await mountCounters(m.home)).prefetched >= N, {
    timeoutMs: 30_000,
    intervalMs: 200,
    failOnTimeout: false
  })
  const ahead = await mountCounters(m.home)
  t.ok(ahead.prefetched >= N, `the readdir loaded the ${N} entries ahead (${ahead.prefetched})`)
  const lines = sh(`ls -l ${dir}`).trim().split('\n')
  t.is(lines.length, N + 1, 'ls -l lists every entry')
  t.ok(
    lines.slice(1).every((l) => /^-rw/.test(l)),
    'each with its type and mode'
  )
  const after = await mountCounters(m.home)
  t.is(after.inodeLoads, ahead.inodeLoads, 'ls -l loaded no inode of its own: the listing had loaded them all')
  t.is(sh(`cat ${dir}/f-${N - 1}`), `${N - 1}`, 'contents read back')
  await m2.stop()
})

test('attributes outside user.* are not supported: ls -l does not ask each entry for them', async (t) => {
  const m = await startMount(t)
  const file = path.join(m.dir, 'f')
  fs.writeFileSync(file, 'x')
  const errnoOf = (name: string) =>
    sh(`python3 -c "
import os, errno
try:
    os.getxattr('${file}', '${name}', follow_symlinks=False)
    print('found')
except OSError as e:
    print('EOPNOTSUPP' if e.errno == errno.EOPNOTSUPP else errno.errorcode[e.errno])
"`).trim()
  // EOPNOTSUPP (not ENODATA): coreutils then remembers, per filesystem, that there is nothing to ask.
  t.is(errnoOf('security.selinux'), 'EOPNOTSUPP', 'security.selinux (ls -l asks it of every entry)')
  t.is(errnoOf('system.posix_acl_access'), 'EOPNOTSUPP', 'system.posix_acl_access (ls -l asks it too)')
  t.is(errnoOf('user.absent'), 'ENODATA', 'an absent user.* attribute is still ENODATA')
  sh(`python3 -c "import os; os.setxattr('${file}', 'user.color', b'blue')"`)
  t.is(errnoOf('user.color'), 'found', 'user.* attributes still read back')
  await m.stop()
})

test('an entry loaded ahead by a listing still shows another computer’s change within the sync delay', {
  timeout: 240_000
}, async (t) => {
  const { a, b } = await startTwoDevices(t, { port: 49_000 + Math.floor(Math.random() * 1000), prefix: 'listing' })
  const dirA = path.join(a.dir, 'shared')
  fs.mkdirSync(dirA)
  for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(dirA, `f-${i}`), 'a')
  sh(`sync ${dirA}`)
  const dirB = path.join(b.dir, 'shared')
  const sizeInB = (name: string) => {
    const line = sh(`ls -l ${dirB}`)
      .split('\n')
      .find((l) => l.endsWith(` ${name}`))
    return line ? Number(line.trim().split(/\s+/)[4]) : -1
  }
  await waitFor('B lists the 50 files', () => sh(`ls ${dirB}`).trim().split('\n').length === 50, {
    timeoutMs: 30_000,
    intervalMs: 100,
    retryErrors: true
  })
  // Names only in B: every entry is loaded ahead and none looked up yet.
  sh(`ls ${dirB}`)
  await waitFor('B loaded the entries ahead', async () => (await mountCounters(b.home)).prefetched >= 50, {
    timeoutMs: 30_000,
    intervalMs: 200,
    failOnTimeout: false
  })
  fs.writeFileSync(path.join(dirA, 'f-7'), 'changed on A')
  sh(`sync ${path.join(dirA, 'f-7')}`)
  // Within a few sync periods (1 s each), with room for a loaded machine; under the 10 s at which
  // the poller backs push up, which is when an entry loaded ahead showed it before lookups caught up.
  const ms = await waitFor('B lists f-7 with its new size', () => sizeInB('f-7') === 'changed on A'.length, {
    timeoutMs: 8_000,
    intervalMs: 100,
    retryErrors: true,
    failOnTimeout: false
  })
  t.ok(ms >= 0, `B lists the change made on A (${ms} ms)`)
  t.is(fs.readFileSync(path.join(dirB, 'f-7'), 'utf8'), 'changed on A', 'and reads the new contents')
})
