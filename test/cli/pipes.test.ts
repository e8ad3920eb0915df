// Output to a reader that goes away (issue 16): `ls | head -1` exits quietly,
// and Ctrl-C on `serve | tee` or `mount | cat` (SIGINT to the whole process
// group, as a terminal sends it, so tee and cat die first) still takes the
// graceful path: the node leaves the ring, the mount flushes and unmounts.

import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { keyPairFromSeed } from '../../lib/crypto'
import { PEERSTORE_BIN, runPeerstore } from '../helpers/cli'
import { isMounted } from '../helpers/mount'
import { startDaemon } from '../helpers/processes'
import { tempDir } from '../helpers/temp-dir'
import { waitFor } from '../helpers/wait'

const PORT = 49_000 + Math.floor(Math.random() * 1000)
const PEERSTORE = `${process.execPath} ${PEERSTORE_BIN}`

/** A shell pipeline in a process group of its own (like a terminal's job); killed in teardown. */
function startPipeline(t: { teardown(fn: () => unknown): void }, cmd: string): ChildProcess {
  const sh = spawn('sh', ['-c', cmd], { detached: true, stdio: 'ignore' })
  const kill = () => {
    try {
      process.kill(-sh.pid!, 'SIGKILL')
    } catch {}
  }
  t.teardown(kill)
  process.once('exit', kill)
  return sh
}

/** The pid of the peerstore process in a pipeline started by startPipeline. */
function peerstorePid(sh: ChildProcess): number | undefined {
  const children = fs.readFileSync(`/proc/${sh.pid}/task/${sh.pid}/children`, 'utf8').trim().split(/\s+/)
  return children.map(Number).find((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(PEERSTORE_BIN)
    } catch {
      return false
    }
  })
}

const alive = (pid: number) => fs.existsSync(`/proc/${pid}`)

test('ls | head -1 exits quietly', { timeout: 120_000 }, async (t) => {
  const root = tempDir(t, 'pipes')
  const home = path.join(root, 'home')
  const src = path.join(root, 'src')
  fs.mkdirSync(src)
  // More than a pipe holds (64 KiB of listing), so ls is still writing when head is gone.
  for (let i = 0; i < 1500; i++) fs.writeFileSync(path.join(src, `file-with-a-longish-name-${i}`), '')
  t.is((await runPeerstore(['init', '--home', home])).code, 0)
  t.is((await runPeerstore(['backup', src, '--to', '/many', '--home', home])).code, 0)
  const err = path.join(root, 'ls.err')
  const rc = path.join(root, 'ls.rc')
  // The exit code of the left side of a pipe, as bash's PIPESTATUS gives it.
  const bash = spawn(
    'bash',
    ['-c', `${PEERSTORE} ls /many --home ${home} 2>${err} | head -1 >/dev/null; echo \${PIPESTATUS[0]} > ${rc}`],
    { stdio: 'ignore' }
  )
  await new Promise((resolve) => bash.once('exit', resolve))
  t.is(fs.readFileSync(err, 'utf8'), '', 'nothing on stderr')
  t.is(fs.readFileSync(rc, 'utf8').trim(), '0', 'exit code 0')
})

test('Ctrl-C on serve | tee: the node still leaves the ring', { timeout: 180_000 }, async (t) => {
  const boot = startDaemon(t, ['bootstrap', '--port', String(PORT), '--host', '127.0.0.1'])
  await boot.waitFor('listening on 127.0.0.1')
  const first = tempDir(t, 'home')
  t.is((await runPeerstore(['init', '--home', first, '--bootstrap', `127.0.0.1:${PORT}`])).code, 0)
  const token = (await runPeerstore(['invite', '--home', first])).stdout.trim()
  const second = tempDir(t, 'home')
  t.is((await runPeerstore(['join', '--home', second, token])).code, 0)
  const secondKey = keyPairFromSeed(fs.readFileSync(path.join(second, 'node.seed'))).publicKey.toString('hex')

  const watcher = startDaemon(t, ['serve', '--home', first])
  await watcher.waitFor('serving node')
  const logDir = tempDir(t, 'log')
  const err = path.join(logDir, 'serve.err')
  const sh = startPipeline(t, `${PEERSTORE} serve --home ${second} 2>${err} | tee ${path.join(logDir, 'serve.log')}`)
  await watcher.waitFor(`peer connected ${secondKey.slice(0, 16)}`, 60_000)
  const pid = peerstorePid(sh)
  t.ok(pid, 'found the serve process')

  process.kill(-sh.pid!, 'SIGINT')
  const started = Date.now()
  // A node that leaves closes its connections at once; one that crashed is seen gone only by a timeout (10 s or more).
  await watcher.waitFor(`peer gone ${secondKey.slice(0, 16)}`, 30_000)
  const seenGoneMs = Date.now() - started
  t.ok(seenGoneMs < 5000, `the other node saw it leave in ${seenGoneMs} ms`)
  await waitFor('serve to exit', () => !alive(pid!), { timeoutMs: 30_000, intervalMs: 50 })
  t.absent(/EPIPE|Error:/.test(fs.readFileSync(err, 'utf8')), `no error on stderr: ${fs.readFileSync(err, 'utf8')}`)
})

test('Ctrl-C on mount | cat: the mount flushes and unmounts', { timeout: 120_000 }, async (t) => {
  const home = tempDir(t, 'home')
  const dir = path.join(tempDir(t, 'mnt'), 'mnt')
  fs.mkdirSync(dir)
  const logDir = tempDir(t, 'log')
  const err = path.join(logDir, 'mount.err')
  const out = path.join(logDir, 'mount.out')
  const sh = startPipeline(t, `${PEERSTORE} mount ${dir} --home ${home} 2>${err} | cat > ${out}`)
  t.teardown(() => {
    if (isMounted(dir)) spawn('fusermount', ['-uz', dir])
  })
  await waitFor('mount', () => isMounted(dir), { timeoutMs: 30_000, intervalMs: 50 })
  const pid = peerstorePid(sh)
  t.ok(pid, 'found the mount process')
  fs.writeFileSync(path.join(dir, 'kept.txt'), 'flushed on Ctrl-C')

  process.kill(-sh.pid!, 'SIGINT')
  await waitFor('mount to exit', () => !alive(pid!), { timeoutMs: 60_000, intervalMs: 50 })
  t.absent(isMounted(dir), 'unmounted')
  t.absent(/EPIPE|Error:/.test(fs.readFileSync(err, 'utf8')), `no error on stderr: ${fs.readFileSync(err, 'utf8')}`)
  // Flushed: the next run of the home has the file, and never had to replay a crash.
  const ls = await runPeerstore(['ls', '/', '--home', home])
  t.is(ls.code, 0, ls.stderr)
  t.ok(ls.stdout.includes('kept.txt'), ls.stdout)
  t.absent(ls.stderr.includes('crash'), ls.stderr)
})
