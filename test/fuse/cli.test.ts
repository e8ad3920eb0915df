// The mount command's lifecycle: missing FUSE, a non-empty mountpoint,
// `peerstore unmount` from another shell, `fusermount -u` from outside.

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { runPeerstore } from '../helpers/cli'
import { isMounted, startMount } from '../helpers/mount'
import { tempDir } from '../helpers/temp-dir'

test('missing FUSE is one clear message naming the packages', async (t) => {
  const dir = tempDir(t, 'nofuse')
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const res = await runPeerstore(['mount', dir, '--home', path.join(dir, 'home')], { env: { PATH: '/nonexistent' } })
  t.is(res.code, 1)
  t.ok(res.stderr.includes('fusermount') && res.stderr.includes('fuse libfuse2'), res.stderr.trim())
  t.is(res.stderr.trim().split('\n').length, 1, 'one line')
})

test('a non-empty mountpoint is refused clearly', async (t) => {
  const dir = tempDir(t, 'full')
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.writeFileSync(path.join(dir, 'x'), 'x')
  const res = await runPeerstore(['mount', dir, '--home', tempDir(t, 'home')], { timeoutMs: 30_000 })
  t.is(res.code, 1)
  t.ok(res.stderr.includes('not empty'), res.stderr.trim())
  t.absent(isMounted(dir))
})

test('peerstore unmount from another shell flushes and stops the mount', { timeout: 60_000 }, async (t) => {
  const m = await startMount(t)
  fs.writeFileSync(path.join(m.dir, 'kept'), 'data')
  const exited = new Promise<number | null>((resolve) => m.child.once('exit', resolve))
  const res = await runPeerstore(['unmount', m.dir])
  t.is(res.code, 0, res.stderr)
  t.is(await exited, 0, 'mount process exits 0')
  t.absent(isMounted(m.dir))
  const m2 = await startMount(t, { home: m.home, dir: m.dir })
  t.is(fs.readFileSync(path.join(m2.dir, 'kept'), 'utf8'), 'data')
  await m2.stop()
})

test('fusermount -u from outside: the mount process notices, flushes and exits', { timeout: 60_000 }, async (t) => {
  const m = await startMount(t)
  fs.writeFileSync(path.join(m.dir, 'kept'), 'data')
  const exited = new Promise<number | null>((resolve) => m.child.once('exit', resolve))
  spawnSync('fusermount', ['-u', m.dir])
  t.is(await exited, 0)
  const m2 = await startMount(t, { home: m.home, dir: m.dir })
  t.is(fs.readFileSync(path.join(m2.dir, 'kept'), 'utf8'), 'data')
  await m2.stop()
})
