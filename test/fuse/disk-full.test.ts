// A full disk under real processes (a small tmpfs home, unmounted in
// teardown): a ring-of-one mount, and a serve node that receives a client's
// writes. Writers get ENOSPC; the mount and the node stay up (before: LMDB's
// "Commit failed" ended the process and writers saw ENOTCONN); every file
// confirmed before still reads back; the node keeps serving reads.

import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { runPeerstore } from '../helpers/cli'
import { isMounted, startMount } from '../helpers/mount'
import { startDaemon } from '../helpers/processes'
import { startBootstrap } from '../helpers/ring-mounts'
import { startServeAndClientMount } from '../helpers/serve-ring'
import { freeBytes, smallDisk } from '../helpers/tmpfs'
import { tempDir } from '../helpers/temp-dir'
import { waitFor } from '../helpers/wait'

const MiB = 1024 * 1024
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** Writes `total` bytes to `file` in 1 MiB writes, then closes it; resolves with the first error code (null if none). */
function fillFile(file: string, total: number): { code: string | null; written: number } {
  let fd: number
  try {
    fd = fs.openSync(file, 'w')
  } catch (err) {
    return { code: (err as NodeJS.ErrnoException).code ?? 'unknown', written: 0 }
  }
  let written = 0
  let code: string | null = null
  const chunk = randomBytes(MiB)
  try {
    while (written < total) written += fs.writeSync(fd, chunk)
  } catch (err) {
    code = (err as NodeJS.ErrnoException).code ?? 'unknown'
  }
  try {
    fs.closeSync(fd)
  } catch (err) {
    code ??= (err as NodeJS.ErrnoException).code ?? 'unknown'
  }
  return { code, written }
}

test('ring-of-one mount on a full disk: writers get ENOSPC, the mount stays up, earlier files intact', {
  timeout: 240_000
}, async (t) => {
  const home = smallDisk(t, 64, 'full-home')
  const m = await startMount(t, { home })
  const before: Record<string, string> = {}
  for (let i = 0; i < 4; i++) {
    const bytes = randomBytes(i === 0 ? 3000 : 2 * MiB + i)
    fs.writeFileSync(path.join(m.dir, `kept-${i}`), bytes)
    before[`kept-${i}`] = sha(bytes)
  }
  // Confirmed: fsync'd into the store.
  for (const name of Object.keys(before)) {
    const fd = fs.openSync(path.join(m.dir, name), 'r')
    fs.fsyncSync(fd)
    fs.closeSync(fd)
  }
  t.comment(`${(freeBytes(home) / MiB).toFixed(1)} MiB free before filling`)

  const started = Date.now()
  const res = fillFile(path.join(m.dir, 'filler'), 200 * MiB)
  t.comment(`filler: ${res.written / MiB} MiB accepted, then ${res.code} after ${Date.now() - started} ms`)
  t.is(res.code, 'ENOSPC', 'the writer gets ENOSPC')
  t.is(m.child.exitCode, null, 'the mount process is still running')
  t.ok(isMounted(m.dir), 'and still mounted')
  t.absent(/ENOTCONN|Commit failed \(see/.test(m.output()) && m.child.exitCode !== null, 'no crash')

  for (const [name, digest] of Object.entries(before)) {
    t.is(sha(fs.readFileSync(path.join(m.dir, name))), digest, `${name} reads back intact`)
  }
  t.ok(fs.readdirSync(m.dir).includes('kept-0'), 'the directory still lists')
  // The child's stderr reaches us a moment later.
  await waitFor('the mount says the disk is full', () => /ENOSPC.*full/.test(m.output()), {
    timeoutMs: 30_000,
    intervalMs: 50,
    retryErrors: true
  })
  t.pass('the mount says the disk is full')
  fs.rmSync(path.join(m.dir, 'filler'), { force: true })

  const stopStarted = Date.now()
  const code = await m.stop()
  t.comment(`unmount on a full disk took ${Date.now() - stopStarted} ms`)
  t.is(code, 0, 'unmounts cleanly')

  // Remount: everything confirmed is still there.
  const again = await startMount(t, { home, dir: m.dir })
  for (const [name, digest] of Object.entries(before)) {
    t.is(sha(fs.readFileSync(path.join(again.dir, name))), digest, `${name} intact after a remount`)
  }
  t.is(await again.stop(), 0)
})

const PORT = 48_000 + Math.floor(Math.random() * 1000)

test('a serve node whose disk fills refuses new values with ENOSPC, stays up and serves reads', {
  timeout: 300_000
}, async (t) => {
  const serveHome = smallDisk(t, 32, 'full-serve')
  const clientHome = tempDir(t, 'full-client')
  // A client-only mount: every chunk and record goes to the serve node, the only member.
  const { serve, mount: m } = await startServeAndClientMount(t, {
    port: PORT,
    serveHome,
    clientHome,
    initArgs: ['--replicas', '1']
  })
  const before: Record<string, string> = {}
  for (let i = 0; i < 3; i++) {
    const bytes = randomBytes(2 * MiB + i)
    const file = path.join(m.dir, `kept-${i}`)
    fs.writeFileSync(file, bytes)
    const fd = fs.openSync(file, 'r')
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    before[`kept-${i}`] = sha(bytes)
  }

  const res = fillFile(path.join(m.dir, 'filler'), 100 * MiB)
  let code = res.code
  if (code === null) {
    // Accepted into the client's spool: the node's refusal shows at fsync.
    const fd = fs.openSync(path.join(m.dir, 'filler'), 'r')
    try {
      fs.fsyncSync(fd)
    } catch (err) {
      code = (err as NodeJS.ErrnoException).code ?? 'unknown'
    }
    fs.closeSync(fd)
  }
  t.comment(`filler: ${res.written / MiB} MiB accepted, then ${code}`)
  t.is(code, 'ENOSPC', 'the writer gets ENOSPC from the full node')
  t.is(serve.child.exitCode, null, 'the serve node is still running')
  t.is(m.child.exitCode, null, 'the mount is still running')
  await waitFor('the mount logs the cause', () => /ENOSPC/.test(m.output()), {
    timeoutMs: 30_000,
    intervalMs: 50,
    retryErrors: true
  })
  t.pass('the mount logged the cause')

  // Reads come from the node: a remount with an empty read cache fetches every chunk from it.
  fs.rmSync(path.join(m.dir, 'filler'), { force: true })
  t.is(await m.stop(), 0, 'the mount unmounts')
  fs.rmSync(path.join(clientHome, 'cache', 'chunks'), { recursive: true, force: true })
  const again = await startMount(t, {
    home: clientHome,
    dir: m.dir,
    args: ['--client-only', '--host', '127.0.0.1'],
    readyTimeoutMs: 90_000
  })
  for (const [name, digest] of Object.entries(before)) {
    t.is(sha(fs.readFileSync(path.join(again.dir, name))), digest, `${name} is served by the full node`)
  }
  t.is(serve.child.exitCode, null, 'the serve node never died')
  t.is(await again.stop(), 0)
})

const PORT2 = PORT + 1000

test("a client-only mount's read cache leaves room on a small disk: reading more than fits, then writing, works", {
  timeout: 300_000
}, async (t) => {
  await startBootstrap(t, PORT2)
  const serveHome = tempDir(t, 'cache-serve')
  const init = await runPeerstore(['init', '--home', serveHome, '--bootstrap', `127.0.0.1:${PORT2}`, '--replicas', '1'])
  t.is(init.code, 0, init.stderr)
  const token = (await runPeerstore(['invite', '--home', serveHome])).stdout.trim()
  const clientHome = smallDisk(t, 64, 'cache-client')
  t.is((await runPeerstore(['join', '--home', clientHome, token])).code, 0)
  const serve = startDaemon(t, ['serve', '--home', serveHome, '--host', '127.0.0.1', '--repair-interval', '1000'])
  process.once('exit', () => serve.child.kill('SIGKILL'))
  await serve.waitFor('serving node')
  const args = ['--client-only', '--host', '127.0.0.1']

  // 96 MiB stored on the serve node, 8 MiB at a time (fsync: uploaded, so the spool stays small).
  const m = await startMount(t, { home: clientHome, args, readyTimeoutMs: 90_000 })
  const digests: Record<string, string> = {}
  for (let i = 0; i < 12; i++) {
    const bytes = randomBytes(8 * MiB)
    const file = path.join(m.dir, `f-${i}`)
    fs.writeFileSync(file, bytes)
    const fd = fs.openSync(file, 'r')
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    digests[`f-${i}`] = sha(bytes)
  }
  t.is(await m.stop(), 0)

  // A fresh mount reads all of it from the node: more than the disk holds, so the cache must give way.
  const again = await startMount(t, { home: clientHome, dir: m.dir, args, readyTimeoutMs: 90_000 })
  let lowest = Number.POSITIVE_INFINITY
  for (const [name, digest] of Object.entries(digests)) {
    t.is(sha(fs.readFileSync(path.join(again.dir, name))), digest, `${name} reads back`)
    lowest = Math.min(lowest, freeBytes(clientHome))
  }
  const cached = fs.readdirSync(path.join(clientHome, 'cache', 'chunks')).length
  t.comment(`read cache holds ${cached} chunks; lowest free space while reading: ${(lowest / MiB).toFixed(1)} MiB`)
  t.ok(cached > 0, 'the read cache is in use')
  t.ok(freeBytes(clientHome) >= 8 * MiB, 'it leaves room on the disk')

  // The next write fits (it failed when the cache had filled the disk to 0 bytes).
  const bytes = randomBytes(6 * MiB)
  fs.writeFileSync(path.join(again.dir, 'after-reading'), bytes)
  const fd = fs.openSync(path.join(again.dir, 'after-reading'), 'r')
  fs.fsyncSync(fd)
  fs.closeSync(fd)
  t.is(sha(fs.readFileSync(path.join(again.dir, 'after-reading'))), sha(bytes), 'a write after reading works')
  t.is(await again.stop(), 0)
})
