// The mount as one member of a real 3-node ring on 127.0.0.1: a `peerstore
// bootstrap` process, two `peerstore serve` processes and the mount, joined
// with init --bootstrap / invite / join the way a user does. One serve node
// is SIGKILLed; after a remount (nothing left in the mount's memory), every
// file still reads back, byte for byte, through the mount. Replicas 3 (the
// default), so each acknowledged write is on all three machines.

import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { runPeerstore } from '../helpers/cli'
import { sh, startMount } from '../helpers/mount'
import { type Daemon, startDaemon } from '../helpers/processes'
import { waitForOneRing, waitForPeers } from '../helpers/peers'
import { tempDir } from '../helpers/temp-dir'

const PORT = 47_000 + Math.floor(Math.random() * 1000)
const MiB = 1024 * 1024

/** startDaemon's teardown does not run if the test process dies on an uncaught error: take its children along. */
function killOnExit(d: Daemon): Daemon {
  process.once('exit', () => d.child.kill('SIGKILL'))
  return d
}

test('3-node ring mount: files copied in still read after a serve node is SIGKILLed', {
  timeout: 240_000
}, async (t) => {
  const boot = killOnExit(startDaemon(t, ['bootstrap', '--port', String(PORT), '--host', '127.0.0.1']))
  await boot.waitFor('listening on 127.0.0.1')

  const serveHomes = [tempDir(t, 'serve'), tempDir(t, 'serve')]
  const mountHome = tempDir(t, 'mount-home')
  const init = await runPeerstore(['init', '--home', serveHomes[0], '--bootstrap', `127.0.0.1:${PORT}`])
  t.is(init.code, 0, init.stderr)
  const token = (await runPeerstore(['invite', '--home', serveHomes[0]])).stdout.trim()
  for (const home of [serveHomes[1], mountHome]) {
    const join = await runPeerstore(['join', '--home', home, token])
    t.is(join.code, 0, join.stderr)
  }
  const fast = ['--repair-interval', '1000']
  const servers = serveHomes.map((home) => killOnExit(startDaemon(t, ['serve', '--home', home, ...fast])))
  await Promise.all(servers.map((s) => s.waitFor('serving node')))

  const m1 = await startMount(t, { home: mountHome })
  // A converged ring first: every machine sees the two others, and stabilize and
  // repair have run, so each owner replicates to all three (as serve-cli.test does).
  await waitForPeers([mountHome, ...serveHomes], 2)
  await waitForOneRing([mountHome, ...serveHomes])

  const src = tempDir(t, 'ring-src')
  const sizes = [0, 1, 5000, MiB - 1, MiB + 1, 3 * MiB + 17, 9 * MiB]
  for (const [i, size] of sizes.entries()) fs.writeFileSync(path.join(src, `file-${i}`), randomBytes(size))
  fs.mkdirSync(path.join(src, 'dir'))
  for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(src, 'dir', `small-${i}`), randomBytes(100 + i * 301))
  const expected = sh(`cd ${src} && find . -type f -print0 | sort -z | xargs -0 sha256sum`)

  sh(`cp -r ${src}/. ${m1.dir}/`)
  // fsync of every file and directory: acknowledged only once the ring holds k copies.
  sh(`cd ${m1.dir} && find . -print0 | xargs -0 sync`)
  t.is(sh(`cd ${m1.dir} && find . -type f -print0 | sort -z | xargs -0 sha256sum`), expected, 'read back while all run')

  const killed = await servers[1].stop('SIGKILL')
  t.is(killed, null, 'serve node SIGKILLed')
  t.is(await m1.stop(), 0, 'the mount flushes and unmounts with one node gone')
  fs.rmSync(path.join(mountHome, 'cache', 'chunks'), { recursive: true, force: true })

  // The ring still routes to the dead node until it times out (about 10 s): the remount may wait for it.
  const started = Date.now()
  const m2 = await startMount(t, { home: mountHome, dir: m1.dir, readyTimeoutMs: 120_000 })
  t.comment(`remounted in ${Date.now() - started} ms with one node dead`)
  const got = sh(`cd ${m2.dir} && find . -type f -print0 | sort -z | xargs -0 sha256sum`)
  t.is(got, expected, 'every file reads back after the remount, one serve node dead')
  t.is(await m2.stop(), 0)
})
