// SIGKILL of a mount on a ring larger than k (issue 12, item 9: a member
// mount on a 4-machine ring, SIGKILLed right after a large `cp`, came back
// with a new, empty root). Four `peerstore serve` processes (k = 3), a member
// mount and a client-only mount of the same user: each is SIGKILLed right
// after close() of a large file returned, and right after fsync() returned;
// each remount must show the same tree (a marker written first) and every
// confirmed byte (sha256). Then a mount with a journal full of unflushed
// changes is SIGKILLed while the next mount is replaying them, and the mount
// after that still has all of them.

import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { runPeerstore } from '../helpers/cli'
import { type Mount, sh, startMount, tmpDir } from '../helpers/mount'
import { startDaemon } from '../helpers/processes'
import { startBootstrap, waitForPeers } from '../helpers/ring-mounts'

const PORT = 49_000 + Math.floor(Math.random() * 1000)
const SERVE_NODES = 4
const MiB = 1024 * 1024

process.setMaxListeners(50)

function sha(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

test('SIGKILL right after close and after fsync, member and client-only: same tree, every confirmed byte', {
  timeout: 600_000
}, async (t) => {
  await startBootstrap(t, PORT)
  const serveHomes = Array.from({ length: SERVE_NODES }, () => tmpDir('serve'))
  const homeM = tmpDir('member')
  const homeC = tmpDir('client')
  t.is((await runPeerstore(['init', '--home', serveHomes[0], '--bootstrap', `127.0.0.1:${PORT}`])).code, 0)
  const token = (await runPeerstore(['invite', '--home', serveHomes[0]])).stdout.trim()
  for (const home of [...serveHomes.slice(1), homeM]) {
    const join = await runPeerstore(['join', '--home', home, token])
    t.is(join.code, 0, join.stderr)
  }
  const device = await runPeerstore(['invite', '--device', '--home', homeM])
  t.is((await runPeerstore(['join', '--home', homeC, device.stdout.trim()])).code, 0)
  const servers = serveHomes.map((home) => {
    const d = startDaemon(t, ['serve', '--home', home, '--host', '127.0.0.1', '--repair-interval', '2000'])
    process.once('exit', () => d.child.kill('SIGKILL'))
    return d
  })
  await Promise.all(servers.map((s) => s.waitFor('serving node', 60_000)))

  const args = ['--host', '127.0.0.1']
  let m = await startMount(t, { home: homeM, args, readyTimeoutMs: 90_000 })
  await waitForPeers([homeM, ...serveHomes], SERVE_NODES - 1, 120_000)
  await new Promise((r) => setTimeout(r, 3000))
  fs.writeFileSync(path.join(m.dir, 'marker.txt'), 'the one tree\n')
  sh(`sync ${m.dir}/marker.txt ${m.dir}`)
  let c = await startMount(t, { home: homeC, args: [...args, '--client-only'], readyTimeoutMs: 180_000 })

  const src = tmpDir('crash-src')
  const expected = new Map<string, string>()
  const remount = async (which: 'member' | 'client', old: Mount): Promise<Mount> => {
    const started = Date.now()
    const extra = which === 'client' ? ['--client-only'] : []
    const next = await startMount(t, {
      home: old.home,
      dir: old.dir,
      args: [...args, ...extra],
      readyTimeoutMs: 180_000
    })
    t.comment(`${which} remounted in ${Date.now() - started} ms`)
    t.is(fs.readFileSync(path.join(next.dir, 'marker.txt'), 'utf8'), 'the one tree\n', `${which}: the same tree`)
    return next
  }
  const check = (mount: Mount, label: string) => {
    for (const [name, sum] of expected) {
      // Another computer's newest writes may still be travelling; each file confirmed here must read whole.
      if (!name.startsWith(label)) continue
      t.is(sha(path.join(mount.dir, name)), sum, `${name}: every confirmed byte`)
    }
  }

  for (const which of ['member', 'client'] as const) {
    for (const how of ['close', 'fsync'] as const) {
      const name = `${which}-${how}.bin`
      fs.writeFileSync(path.join(src, name), randomBytes(24 * MiB + 11))
      expected.set(name, sha(path.join(src, name)))
      const mount = which === 'member' ? m : c
      // cp returns after close(); dd conv=fsync after fsync(). The kill follows at once.
      if (how === 'close') sh(`cp ${src}/${name} ${mount.dir}/${name}`)
      else sh(`dd if=${src}/${name} of=${mount.dir}/${name} bs=1M conv=fsync status=none`)
      await mount.kill()
      const next = await remount(which, mount)
      if (which === 'member') m = next
      else c = next
      check(next, which)
    }
  }

  // SIGKILL during replay: a journal full of unflushed changes (the flusher held off), a crash,
  // then the next mount is killed as soon as it says it replays them.
  await m.stop()
  const slow = { PEERSTORE_FLUSH_INTERVAL_MS: '600000' }
  m = await startMount(t, { home: homeM, dir: m.dir, args, readyTimeoutMs: 180_000, env: slow })
  fs.mkdirSync(path.join(m.dir, 'replayed'))
  for (let i = 0; i < 150; i++) fs.writeFileSync(path.join(m.dir, 'replayed', `f-${i}.txt`), `file ${i}\n`)
  fs.renameSync(path.join(m.dir, 'replayed', 'f-0.txt'), path.join(m.dir, 'replayed', 'renamed.txt'))
  await m.kill()
  const journal = path.join(homeM, 'cache', 'journal')
  t.ok(fs.readdirSync(journal).length > 0, 'the crash left a journal')
  // A raw `peerstore mount` (startMount waits for "mounted", which comes after the replay).
  const replaying = startDaemon(t, ['mount', m.dir, '--home', homeM, ...args])
  await replaying.waitFor('replaying', 120_000)
  await replaying.stop('SIGKILL')
  spawnSync('fusermount', ['-uz', m.dir])
  t.ok(fs.readdirSync(journal).length > 0, 'the journal is still there after the kill during replay')
  const finalMount = await startMount(t, { home: homeM, dir: m.dir, args, readyTimeoutMs: 180_000 })
  const names = fs.readdirSync(path.join(finalMount.dir, 'replayed'))
  t.is(names.length, 150, 'every name is there')
  t.ok(names.includes('renamed.txt') && !names.includes('f-0.txt'), 'the rename too')
  t.is(fs.readFileSync(path.join(finalMount.dir, 'replayed', 'f-149.txt'), 'utf8'), 'file 149\n')
  t.is(fs.readFileSync(path.join(finalMount.dir, 'marker.txt'), 'utf8'), 'the one tree\n', 'still the same tree')
  check(finalMount, 'member')
  t.is(await c.stop(), 0)
  t.is(await finalMount.stop(), 0)
})
