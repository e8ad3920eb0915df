// Nanosecond timestamps through a real mount (issue 14): times set with nine
// fractional digits read back with all nine on a file, a directory and a
// symlink; `cp -a` and `rsync -a` out of the mount keep them; so do a
// remount and a second computer of the same user. A write stamps mtime with
// digits below the millisecond.

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { sh, startMount } from '../helpers/mount'
import { startTwoDevices } from '../helpers/ring-mounts'
import { tempDir } from '../helpers/temp-dir'
import { waitFor } from '../helpers/wait'

/** `stat -c %x|%y` (atime|mtime) in UTC; `-L` off, so a symlink's own times. */
const times = (p: string) => sh(`TZ=UTC stat -c '%x|%y' '${p}'`).trim()
const mtime = (p: string) => sh(`TZ=UTC stat -c %y '${p}'`).trim()

// Distinct times, none ending in a zero digit, so no precision can hide.
const FILE_TIME = '2020-01-02 03:04:05.123456789'
const DIR_TIME = '2019-05-06 07:08:09.987654321'
const LINK_TIME = '2018-09-10 11:12:13.000000007'
const FILE_MTIME = '2021-11-12 13:14:15.555666777'

const both = (t: string) => `${t} +0000|${t} +0000`
/** Builds f, d and l (a symlink) under `root` with the times above; f's mtime then differs from its atime. */
function makeTimedTree(root: string): void {
  fs.writeFileSync(path.join(root, 'f'), 'content\n')
  fs.mkdirSync(path.join(root, 'd'))
  fs.writeFileSync(path.join(root, 'd', 'inner'), 'x')
  fs.symlinkSync('f', path.join(root, 'l'))
  sh(`cd '${root}' && TZ=UTC touch -d '${FILE_TIME}' f && TZ=UTC touch -d '${DIR_TIME}' d`)
  sh(`cd '${root}' && TZ=UTC touch -h -d '${LINK_TIME}' l`)
  // mtime only (atime UTIME_OMIT): the atime must stay.
  sh(`cd '${root}' && TZ=UTC touch -m -d '${FILE_MTIME}' f`)
}

/** `atimes: false` checks mtimes only (rsync -a keeps no atimes). */
function expectTimedTree(
  t: { is: (a: unknown, b: unknown, msg?: string) => void },
  root: string,
  where: string,
  opts = { atimes: true }
): void {
  const of = (p: string) => (opts.atimes ? times(p) : mtime(p))
  const expect = (atime: string, mtime: string) => (opts.atimes ? `${atime} +0000|${mtime} +0000` : `${mtime} +0000`)
  t.is(of(path.join(root, 'f')), expect(FILE_TIME, FILE_MTIME), `file: all nine digits (${where})`)
  t.is(of(path.join(root, 'd')), expect(DIR_TIME, DIR_TIME), `directory: all nine digits (${where})`)
  t.is(of(path.join(root, 'l')), expect(LINK_TIME, LINK_TIME), `symlink: all nine digits (${where})`)
}

test('nanosecond times: set, read, copied out, kept over a remount; writes stamp below the ms', {
  timeout: 180_000
}, async (t) => {
  const m = await startMount(t)
  makeTimedTree(m.dir)
  expectTimedTree(t, m.dir, 'in the mount')

  const cpOut = path.join(tempDir(t, 'times-cp'), 'copy')
  sh(`cp -a '${m.dir}' '${cpOut}'`)
  expectTimedTree(t, cpOut, 'cp -a out of the mount')

  const rsyncOut = path.join(tempDir(t, 'times-rsync'), 'copy')
  sh(`rsync -a '${m.dir}/' '${rsyncOut}/'`)
  expectTimedTree(t, rsyncOut, 'rsync -a out of the mount', { atimes: false })

  // Writes stamp the time with sub-millisecond digits. One write may land
  // exactly on a millisecond by chance; three in a row never do.
  const subMs: string[] = []
  for (const name of ['w1', 'w2', 'w3']) {
    fs.writeFileSync(path.join(m.dir, name), `data of ${name}\n`)
    subMs.push(mtime(path.join(m.dir, name)).slice(23, 29))
  }
  t.ok(
    subMs.some((digits) => /^\d{6}$/.test(digits) && digits !== '000000'),
    `written files' mtimes have digits below the ms (${subMs.join(', ')})`
  )
  const written = mtime(path.join(m.dir, 'w1'))

  t.is(await m.stop(), 0, 'unmounted cleanly')
  const again = await startMount(t, { home: m.home, dir: m.dir })
  expectTimedTree(t, again.dir, 'after a remount')
  t.is(mtime(path.join(again.dir, 'w1')), written, "a written file's mtime survives a remount")
})

test('nanosecond times follow to a second computer of the same user', { timeout: 300_000 }, async (t) => {
  const port = 49_000 + Math.floor(Math.random() * 1000)
  const { a, b } = await startTwoDevices(t, { port, prefix: 'times' })
  try {
    makeTimedTree(a.dir)
    await waitFor(
      'the times on B',
      () =>
        times(path.join(b.dir, 'f')) === `${FILE_TIME} +0000|${FILE_MTIME} +0000` &&
        times(path.join(b.dir, 'd')) === both(DIR_TIME) &&
        times(path.join(b.dir, 'l')) === both(LINK_TIME),
      { timeoutMs: 30_000, intervalMs: 100, retryErrors: true }
    )
    expectTimedTree(t, b.dir, 'on the second computer')
  } catch (err) {
    t.fail(`${(err as Error).message}\n--- mount A:\n${a.output()}\n--- mount B:\n${b.output()}`)
  }
})
