// Shutdown with every peer gone: a member mount of a real 3-machine ring
// (bootstrap, two `peerstore serve` processes) whose serve nodes are
// SIGKILLed. A file written then is accepted (journal and spool); unmount
// finishes in seconds (before: close() waited for every upload, forever,
// and Ctrl-C hung); the next mount, with the ring back, stores what was
// pending and the file reads back whole. Plus: a rejected promise nobody
// handles does not end the mount (a process-level handler logs it).

import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { runPeerstore } from '../helpers/cli'
import { isMounted, sh, startMount } from '../helpers/mount'
import { startDaemon } from '../helpers/processes'
import { startBootstrap } from '../helpers/ring-mounts'
import { startServeAndClientMount } from '../helpers/serve-ring'
import { waitForPeers } from '../helpers/peers'
import { tempDir } from '../helpers/temp-dir'
import { waitFor } from '../helpers/wait'

const PORT = 49_000 + Math.floor(Math.random() * 900)
const MiB = 1024 * 1024
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

interface MountState {
  unsaved: number
  pendingChunks: number
  uploadFailure: { code: string; message: string } | null
}

async function mountStatus(home: string): Promise<MountState | null> {
  const res = await runPeerstore(['status', '--home', home, '--json'])
  return res.code === 0 ? ((JSON.parse(res.stdout).mount as MountState | undefined) ?? null) : null
}

test('unmount with every peer gone finishes in seconds; the next mount uploads what was pending', {
  timeout: 400_000
}, async (t) => {
  await startBootstrap(t, PORT)
  const serveHomes = [tempDir(t, 'off-serve'), tempDir(t, 'off-serve')]
  const mountHome = tempDir(t, 'off-mount')
  t.is((await runPeerstore(['init', '--home', serveHomes[0], '--bootstrap', `127.0.0.1:${PORT}`])).code, 0)
  const token = (await runPeerstore(['invite', '--home', serveHomes[0]])).stdout.trim()
  for (const home of [serveHomes[1], mountHome]) t.is((await runPeerstore(['join', '--home', home, token])).code, 0)
  const serveArgs = (home: string) => ['serve', '--home', home, '--host', '127.0.0.1', '--repair-interval', '1000']
  let servers = serveHomes.map((home) => startDaemon(t, serveArgs(home)))
  for (const s of servers) process.once('exit', () => s.child.kill('SIGKILL'))
  await Promise.all(servers.map((s) => s.waitFor('serving node')))

  const m = await startMount(t, { home: mountHome, args: ['--host', '127.0.0.1'], readyTimeoutMs: 90_000 })
  await waitForPeers([mountHome, ...serveHomes], 2)
  const before = randomBytes(2 * MiB)
  fs.writeFileSync(path.join(m.dir, 'before.bin'), before)
  const fd = fs.openSync(path.join(m.dir, 'before.bin'), 'r')
  fs.fsyncSync(fd)
  fs.closeSync(fd)

  // Every peer gone at once.
  for (const s of servers) t.is(await s.stop('SIGKILL'), null, 'serve node SIGKILLed')
  const during = randomBytes(6 * MiB + 333)
  const wrote = Date.now()
  fs.writeFileSync(path.join(m.dir, 'during.bin'), during)
  t.comment(`a 6 MiB file written and closed with the ring down in ${Date.now() - wrote} ms`)

  const stopping = Date.now()
  const code = await m.stop()
  const stopMs = Date.now() - stopping
  t.comment(`unmount with every peer gone took ${stopMs} ms`)
  for (const line of m.output().split('\n')) if (/unmounted|not stored|kept|leaving/.test(line)) t.comment(line)
  t.is(code, 0, 'the mount exits cleanly')
  t.ok(stopMs < 45_000, 'unmount finishes in seconds, not never')
  t.absent(isMounted(m.dir), 'nothing is left mounted')

  // The ring is back; the next mount stores what was left.
  servers = serveHomes.map((home) => startDaemon(t, serveArgs(home)))
  for (const s of servers) process.once('exit', () => s.child.kill('SIGKILL'))
  await Promise.all(servers.map((s) => s.waitFor('serving node')))
  const again = await startMount(t, {
    home: mountHome,
    dir: m.dir,
    args: ['--host', '127.0.0.1'],
    readyTimeoutMs: 120_000
  })
  await waitForPeers([mountHome, ...serveHomes], 2)
  const started = Date.now()
  let state = null as MountState | null
  await waitFor(
    'everything stored',
    async () => {
      const now = await mountStatus(mountHome)
      state = now
      return now !== null && now.pendingChunks === 0 && now.unsaved === 0
    },
    { timeoutMs: 120_000, intervalMs: 1000, failOnTimeout: false }
  )
  t.comment(`stored ${Date.now() - started} ms after the remount: ${JSON.stringify(state)}`)
  t.is(state?.pendingChunks, 0, 'no chunk waits any more')
  t.is(state?.unsaved, 0, 'no record waits any more')
  t.is(sha(fs.readFileSync(path.join(again.dir, 'during.bin'))), sha(during), 'the file written offline reads back')
  t.is(sha(fs.readFileSync(path.join(again.dir, 'before.bin'))), sha(before), 'and the one before it')
  t.is(fs.readdirSync(path.join(mountHome, 'cache', 'spool')).length, 0, 'the spool is empty')
  t.is(await again.stop(), 0)
})

test('a client-only mount whose serve node is gone: uploads wait with the reason in the xattr and `peerstore status`', {
  timeout: 300_000
}, async (t) => {
  const port = PORT + 50
  const serveHome = tempDir(t, 'gone-serve')
  const clientHome = tempDir(t, 'gone-client')
  const { serve, mount: m } = await startServeAndClientMount(t, { port, serveHome, clientHome })

  t.is(await serve.stop('SIGKILL'), null, 'the only serve node is SIGKILLed')
  const data = randomBytes(3 * MiB)
  const file = path.join(m.dir, 'waiting.bin')
  fs.writeFileSync(file, data)
  const xattr = () => sh(`python3 -c "import os;print(os.getxattr('${file}','user.peerstore.status').decode())"`).trim()
  let shown = ''
  await waitFor(
    'the file status shows why its upload waits',
    () => {
      shown = xattr()
      return /upload-pending=yes .*upload-error=\S+/.test(shown)
    },
    { timeoutMs: 90_000, intervalMs: 1000, retryErrors: true }
  )
  t.comment(`user.peerstore.status: ${shown}`)
  t.pass('the per-file status names the cause')
  const state = await mountStatus(clientHome)
  t.ok(state?.uploadFailure?.code, `peerstore status says uploads fail: ${JSON.stringify(state?.uploadFailure)}`)
  t.ok(state && state.pendingChunks >= 3, 'and how many chunks wait')
  const status = await runPeerstore(['status', '--home', clientHome])
  t.ok(/uploads failing for .* retried with backoff/.test(status.stdout), status.stdout.split('\n').pop() ?? '')
  t.is(sha(fs.readFileSync(file)), sha(data), 'the file still reads back on this machine')
  await waitFor('the mount logged the cause once', () => /uploads failing/.test(m.output()), {
    timeoutMs: 30_000,
    intervalMs: 50,
    retryErrors: true
  })
  // Once per cause (code and message with keys and counts folded), not once per chunk or retry.
  const logged = m
    .output()
    .split('\n')
    .filter((l) => l.includes('uploads failing ('))
  const causes = logged.map((l) => l.replace(/.*retried with backoff\): /, '').replace(/\b[0-9a-f]{6,}\b|\d+/gi, '#'))
  t.comment(logged.join('\n'))
  t.is(new Set(causes).size, causes.length, 'each cause logged once, not per chunk or retry')

  const stopping = Date.now()
  t.is(await m.stop(), 0, 'the mount exits cleanly')
  t.comment(`client-only unmount with its serve node gone took ${Date.now() - stopping} ms`)
  t.ok(Date.now() - stopping < 45_000, 'in seconds')
  t.ok(fs.readdirSync(path.join(clientHome, 'cache', 'spool')).length >= 3, 'its chunks wait in the spool')
})

test('a promise rejected with nobody to catch it does not end the mount', { timeout: 120_000 }, async (t) => {
  // Preloaded into the mount process: an unhandled rejection and an uncaught
  // exception a few seconds after start, as a missed catch in a background
  // task would produce.
  const dir = tempDir(t, 'reject')
  const inject = path.join(dir, 'inject.js')
  fs.writeFileSync(
    inject,
    `setTimeout(() => { Promise.reject(new Error('injected background failure')) }, 3000)
setTimeout(() => { throw new Error('injected uncaught exception') }, 3500)\n`
  )
  const m = await startMount(t, { env: { NODE_OPTIONS: `--require ${inject}` } })
  fs.writeFileSync(path.join(m.dir, 'a.txt'), 'before')
  await waitFor('both injected failures were logged', () => /injected uncaught exception/.test(m.output()), {
    timeoutMs: 30_000,
    intervalMs: 50,
    retryErrors: true
  })
  t.ok(/unexpected unhandled rejection.*injected background failure/s.test(m.output()), 'the rejection is logged')
  t.is(m.child.exitCode, null, 'the mount process is still running')
  t.ok(isMounted(m.dir), 'still mounted')
  fs.writeFileSync(path.join(m.dir, 'b.txt'), 'after')
  t.is(fs.readFileSync(path.join(m.dir, 'a.txt'), 'utf8'), 'before')
  t.is(fs.readFileSync(path.join(m.dir, 'b.txt'), 'utf8'), 'after', 'and it still serves reads and writes')
  t.is(await m.stop(), 0)
})
