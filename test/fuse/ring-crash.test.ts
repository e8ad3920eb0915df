// SIGKILL of a member mount on a ring larger than k (issue 12, item 9: a
// member mount on a 4-machine ring, SIGKILLed right after a large `cp`, came
// back with a new, empty root). Four `peerstore serve` processes (k = 3) and
// a member mount: SIGKILLed right after close() of a large file returned,
// and right after fsync() returned; each remount must show the same tree (a
// marker written first) and every confirmed byte (sha256). Then a journal
// of unflushed changes, a crash, and a SIGKILL of the next mount while it
// replays them: the mount after that still has every one.
// The client-only mount's half is ring-crash-client.test.ts.

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { crashAndCheck } from '../helpers/crash-check'
import { startMount } from '../helpers/mount'
import { startDaemon } from '../helpers/processes'
import { startServeRing } from '../helpers/serve-ring'
import { waitForPeers } from '../helpers/peers'

const PORT = 49_000 + Math.floor(Math.random() * 1000)

test('member mount, SIGKILL after close, after fsync and during replay: same tree, every confirmed byte', {
  timeout: 300_000
}, async (t) => {
  const ring = await startServeRing(t, { port: PORT, nodes: 4 })
  const args = ['--host', '127.0.0.1']
  let m = await startMount(t, { home: ring.member, args, readyTimeoutMs: 90_000 })
  await waitForPeers([ring.member, ...ring.serveHomes], 4, 120_000)
  m = await crashAndCheck(t, m, { label: 'member', args, ringMachines: 5 })

  // SIGKILL during replay: a journal full of changes the flusher held back (each close() committed
  // them to the journal), a crash, then the next mount is killed as soon as it says it replays them.
  await m.stop()
  const slow = { PEERSTORE_FLUSH_INTERVAL_MS: '600000' }
  m = await startMount(t, { home: ring.member, dir: m.dir, args, readyTimeoutMs: 180_000, env: slow })
  fs.mkdirSync(path.join(m.dir, 'replayed'))
  for (let i = 0; i < 150; i++) fs.writeFileSync(path.join(m.dir, 'replayed', `f-${i}.txt`), `file ${i}\n`)
  fs.renameSync(path.join(m.dir, 'replayed', 'f-0.txt'), path.join(m.dir, 'replayed', 'renamed.txt'))
  // A rename is confirmed by the next close() (or fsync), as every metadata change.
  fs.writeFileSync(path.join(m.dir, 'replayed', 'last.txt'), 'closed after the rename\n')
  await m.kill()
  const journal = path.join(ring.member, 'cache', 'journal')
  t.ok(fs.readdirSync(journal).length > 0, 'the crash left a journal')
  // A raw `peerstore mount` (startMount waits for "mounted", which comes after the replay).
  const replaying = startDaemon(t, ['mount', m.dir, '--home', ring.member, ...args])
  await replaying.waitFor('replaying', 120_000)
  await replaying.stop('SIGKILL')
  spawnSync('fusermount', ['-uz', m.dir])
  t.ok(fs.readdirSync(journal).length > 0, 'the journal is still there after the kill during replay')

  const last = await startMount(t, { home: ring.member, dir: m.dir, args, readyTimeoutMs: 180_000 })
  const names = fs.readdirSync(path.join(last.dir, 'replayed'))
  t.is(names.length, 151, 'every name is there')
  t.ok(names.includes('renamed.txt') && !names.includes('f-0.txt'), 'the rename too')
  t.is(fs.readFileSync(path.join(last.dir, 'replayed', 'f-149.txt'), 'utf8'), 'file 149\n')
  t.is(fs.readFileSync(path.join(last.dir, 'marker.txt'), 'utf8'), 'the one tree\n', 'still the same tree')
  t.is(await last.stop(), 0)
})
