// Every verb beside a running mount or `serve` of the same home (issue 16):
// `ls`, `get` and `backup` go through the running mount, a second mount
// says where the home is mounted, and beside a `serve` they refuse at once.
// None of them hangs. An unreachable ring is a clear failure in bounded time.

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { runPeerstore } from '../helpers/cli'
import { startMount } from '../helpers/mount'
import { startDaemon } from '../helpers/processes'
import { tempDir } from '../helpers/temp-dir'

const QUICK_MS = 10_000

async function timed(args: string[], timeoutMs = QUICK_MS * 3) {
  const started = Date.now()
  const res = await runPeerstore(args, { timeoutMs })
  return { ...res, ms: Date.now() - started }
}

test('ls, get, backup and a second mount beside a running mount of the same home', { timeout: 120_000 }, async (t) => {
  const m = await startMount(t)
  fs.mkdirSync(path.join(m.dir, 'docs'))
  fs.writeFileSync(path.join(m.dir, 'docs', 'note.txt'), 'written through the mount')

  const ls = await timed(['ls', '/docs', '--home', m.home])
  t.is(ls.code, 0, ls.stderr)
  t.ok(ls.ms < QUICK_MS, `ls returned in ${ls.ms} ms`)
  t.ok(ls.stdout.includes('note.txt'), ls.stdout)

  const out = tempDir(t, 'out')
  const get = await timed(['get', '/docs/note.txt', path.join(out, 'note.txt'), '--home', m.home])
  t.is(get.code, 0, get.stderr)
  t.ok(get.ms < QUICK_MS, `get returned in ${get.ms} ms`)
  t.is(fs.readFileSync(path.join(out, 'note.txt'), 'utf8'), 'written through the mount')

  const src = tempDir(t, 'src')
  fs.writeFileSync(path.join(src, 'photo.bin'), Buffer.alloc(3 * 1024 * 1024 + 7, 7))
  const backup = await timed(['backup', src, '--to', '/backup', '--home', m.home])
  t.is(backup.code, 0, backup.stderr)
  t.ok(backup.ms < QUICK_MS * 3, `backup returned in ${backup.ms} ms`)
  // Through the mount's own Volume: the running mount shows it at once.
  t.alike(fs.readFileSync(path.join(m.dir, 'backup', 'photo.bin')), fs.readFileSync(path.join(src, 'photo.bin')))

  const second = path.join(tempDir(t, 'mnt2'), 'mnt')
  fs.mkdirSync(second)
  const again = await timed(['mount', second, '--home', m.home])
  t.is(again.code, 1, again.stderr)
  t.ok(again.ms < QUICK_MS, `second mount returned in ${again.ms} ms`)
  t.ok(again.stderr.includes(`already mounted at ${m.dir}`), again.stderr)

  t.is(await m.stop(), 0)
})

test('backup beside a running mount is incremental, and --delete goes through the mount', {
  timeout: 120_000
}, async (t) => {
  const m = await startMount(t)
  const src = tempDir(t, 'src')
  fs.mkdirSync(path.join(src, 'sub'))
  fs.writeFileSync(path.join(src, 'a.bin'), Buffer.alloc(2 * 1024 * 1024, 1))
  fs.writeFileSync(path.join(src, 'sub', 'b.txt'), 'b')
  fs.writeFileSync(path.join(src, 'sub', 'c.txt'), 'c')
  const args = ['backup', src, '--to', '/bk', '--home', m.home]

  const first = await timed(args)
  t.is(first.code, 0, first.stderr)
  t.ok(first.stdout.includes('3 uploaded, 0 skipped, 0 deleted'), first.stdout.trim())
  const second = await timed(args)
  t.is(second.code, 0, second.stderr)
  t.ok(second.stdout.includes('0 uploaded, 3 skipped, 0 deleted'), second.stdout.trim())
  t.comment(`through the mount: first ${first.ms} ms, second ${second.ms} ms`)

  const later = new Date(Date.now() + 5_000)
  fs.utimesSync(path.join(src, 'sub', 'b.txt'), later, later)
  fs.rmSync(path.join(src, 'sub', 'c.txt'))
  const dry = await timed([...args, '--delete', '--dry-run'])
  t.ok(dry.stdout.includes('would delete /bk/sub/c.txt'), dry.stdout.trim())
  t.ok(fs.existsSync(path.join(m.dir, 'bk', 'sub', 'c.txt')), 'the dry run removed nothing')
  const third = await timed([...args, '--delete'])
  t.is(third.code, 0, third.stderr)
  t.ok(third.stdout.includes('1 uploaded, 1 skipped, 1 deleted'), third.stdout.trim())
  // The running mount shows the result at once: its own Volume did the work.
  t.alike(fs.readdirSync(path.join(m.dir, 'bk', 'sub')), ['b.txt'])
  t.alike(fs.readFileSync(path.join(m.dir, 'bk', 'a.bin')), fs.readFileSync(path.join(src, 'a.bin')))

  t.is(await m.stop(), 0)
})

test('beside a running serve of the same home, the tree verbs refuse at once', { timeout: 60_000 }, async (t) => {
  const home = tempDir(t, 'home')
  t.is((await runPeerstore(['init', '--home', home])).code, 0)
  const serve = startDaemon(t, ['serve', '--home', home])
  await serve.waitFor('serving node')
  for (const args of [
    ['ls', '/'],
    ['get', '/x', tempDir(t, 'out')],
    ['backup', tempDir(t, 'src')]
  ]) {
    const res = await timed([...args, '--home', home])
    t.is(res.code, 1, `${args[0]} exits 1`)
    t.ok(res.ms < QUICK_MS, `${args[0]} returned in ${res.ms} ms`)
    t.ok(res.stderr.includes('node is running for'), res.stderr.trim())
  }
  const mount = path.join(tempDir(t, 'mnt'), 'mnt')
  fs.mkdirSync(mount)
  const res = await timed(['mount', mount, '--home', home])
  t.is(res.code, 1)
  t.ok(res.ms < QUICK_MS, `mount returned in ${res.ms} ms`)
  t.ok(res.stderr.includes('already running'), res.stderr.trim())
  t.is(await serve.stop('SIGINT'), 0)
})

test('an unreachable ring: status says so, non-zero, in bounded time', { timeout: 90_000 }, async (t) => {
  const home = tempDir(t, 'home')
  // Port 9 (discard): nothing answers there.
  t.is((await runPeerstore(['init', '--home', home, '--bootstrap', '127.0.0.1:9'])).code, 0)
  const res = await timed(['status', '--home', home], 60_000)
  t.is(res.code, 1, res.stderr)
  t.ok(res.ms < 45_000, `status gave up in ${res.ms} ms`)
  t.ok(res.stderr.includes('connecting to the ring…'), res.stderr)
  t.ok(res.stderr.includes('no node of this network answered'), res.stderr)
})

test('an unreachable ring: ls and backup of a home that has been in it fail clearly, in bounded time', {
  timeout: 120_000
}, async (t) => {
  const home = tempDir(t, 'home')
  t.is((await runPeerstore(['init', '--home', home, '--bootstrap', '127.0.0.1:9'])).code, 0)
  // What the node leaves once it has been in a ring with another machine (lib/node/isolation.ts).
  fs.writeFileSync(path.join(home, 'ring-joined'), '')
  for (const args of [
    ['ls', '/'],
    ['backup', tempDir(t, 'src')]
  ]) {
    const res = await timed([...args, '--home', home], 60_000)
    t.is(res.code, 1, `${args[0]}: exit 1`)
    t.ok(res.ms < 45_000, `${args[0]} gave up in ${res.ms} ms`)
    t.ok(res.stderr.includes('connecting to the ring…'), res.stderr)
    t.ok(res.stderr.includes('the ring is unreachable'), res.stderr)
  }
})
