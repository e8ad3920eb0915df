// Other local users and crashes, through the real CLI (issue 12, item 14):
// another user prepares the runtime directory where root's mount registry
// lives (a symlink, a directory of their own, an entry naming a root
// process); `peerstore mount` and `unmount` must refuse and touch nothing.
// A SIGKILLed mount must not let a program's next write land on the local
// disk unnoticed, and must not block the next mount.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import test, { type Test } from 'brittle'
import { runPeerstore } from '../helpers/cli'
import { isMounted, sh, startMount } from '../helpers/mount'
import { startDaemon } from '../helpers/processes'
import { tempDir } from '../helpers/temp-dir'
import { sleep, waitFor } from '../helpers/wait'

const isRoot = process.getuid?.() === 0
const AS_NOBODY = [
  ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'],
  ['runuser', '-u', 'nobody', '--']
].find((prefix) => spawnSync(prefix[0], [...prefix.slice(1), 'true']).status === 0)
const SKIP = !isRoot || !AS_NOBODY
if (SKIP) {
  console.log(
    `# local-users: skipped: needs root and a way to run as the user nobody (setpriv or runuser); root: ${isRoot}, nobody: ${AS_NOBODY !== undefined}`
  )
}

/** Runs a shell command as the user nobody (the other local user). */
function asNobody(cmd: string): void {
  const [bin, ...args] = AS_NOBODY ?? ['false']
  const res = spawnSync(bin, [...args, 'sh', '-c', cmd], { encoding: 'utf8' })
  if (res.status !== 0) throw new Error(`as nobody: '${cmd}' exited ${res.status}: ${res.stderr}`)
}

/** A TMPDIR shaped like /tmp (sticky, world-writable), so that nobody can prepare things in it. */
function sharedTmp(t: Test): string {
  const dir = tempDir(t, 'tmp')
  fs.chmodSync(dir, 0o1777)
  return dir
}

/** The environment that points the CLI at `tmp` for its runtime files. */
function envFor(tmp: string): NodeJS.ProcessEnv {
  return { TMPDIR: tmp, XDG_RUNTIME_DIR: '' }
}

/** The registry file name of a mountpoint: predictable, which is what the attacker relies on. */
function entryName(mountpoint: string): string {
  return `${createHash('sha256').update(path.resolve(mountpoint)).digest('hex').slice(0, 32)}.json`
}

/** A root-owned file another user must not be able to make root overwrite. */
function rootFile(t: Test): { file: string; content: string } {
  const file = path.join(tempDir(t, 'victim'), 'important')
  const content = 'root-owned, must not change\n'
  fs.writeFileSync(file, content, { mode: 0o644 })
  return { file, content }
}

/** An unrelated live root process, killed at teardown. */
function unrelatedProcess(t: Test): ChildProcess {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' })
  t.teardown(() => {
    child.kill('SIGKILL')
  })
  return child
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null
}

test('a runtime directory another user made: mount refuses, root file unchanged', {
  skip: SKIP,
  timeout: 120_000
}, async (t) => {
  const tmp = sharedTmp(t)
  const victim = rootFile(t)
  const dir = path.join(tempDir(t, 'mnt'), 'mnt')
  fs.mkdirSync(dir)
  t.teardown(() => {
    if (isMounted(dir)) spawnSync('fusermount', ['-uz', dir])
  })
  // nobody makes root's registry directory and plants a symlink where root's entry for DIR goes.
  asNobody(
    `mkdir -p ${tmp}/peerstore-0/mounts && chmod 777 ${tmp}/peerstore-0 ${tmp}/peerstore-0/mounts && ` +
      `ln -s ${victim.file} ${tmp}/peerstore-0/mounts/${entryName(dir)}`
  )
  const mount = startDaemon(t, ['mount', dir, '--home', tempDir(t, 'home')], envFor(tmp))
  await mount.waitFor(/peerstore: mounted|peerstore mount: /, 60_000)
  const code = await new Promise<number | string | null>((resolve) => {
    const timer = setTimeout(() => resolve('still running'), 30_000)
    const done = (c: number | null) => {
      clearTimeout(timer)
      resolve(c)
    }
    if (mount.child.exitCode !== null) done(mount.child.exitCode)
    else mount.child.once('exit', done)
  })
  t.is(fs.readFileSync(victim.file, 'utf8'), victim.content, 'the root-owned file is unchanged')
  t.ok(mount.output().includes('peerstore mount: ') && /belongs to|owned by/.test(mount.output()), mount.output())
  t.is(code, 1, 'the mount refused to start')
})

test('a symlink at the runtime directory: mount refuses, nothing written through it', {
  skip: SKIP,
  timeout: 120_000
}, async (t) => {
  const tmp = sharedTmp(t)
  const target = tempDir(t, 'target')
  fs.chmodSync(target, 0o777)
  const dir = path.join(tempDir(t, 'mnt'), 'mnt')
  fs.mkdirSync(dir)
  t.teardown(() => {
    if (isMounted(dir)) spawnSync('fusermount', ['-uz', dir])
  })
  asNobody(`ln -s ${target} ${tmp}/peerstore-0`)
  const res = await runPeerstore(['mount', dir, '--home', tempDir(t, 'home')], { env: envFor(tmp), timeoutMs: 20_000 })
  t.is(res.code, 1, `refused: ${res.stderr.trim()}`)
  t.ok(/symbolic link/.test(res.stderr), res.stderr.trim())
  t.alike(fs.readdirSync(target), [], 'nothing was created through the symlink')
  t.absent(isMounted(dir))
})

test('unmount signals nobody through an entry another user planted', {
  skip: SKIP,
  timeout: 60_000
}, async (t) => {
  const tmp = sharedTmp(t)
  const dir = path.join(tempDir(t, 'mnt'), 'mnt')
  fs.mkdirSync(dir)
  const sleeper = unrelatedProcess(t)
  asNobody(
    `mkdir -p ${tmp}/peerstore-0/mounts && ` +
      `echo '${JSON.stringify({ pid: sleeper.pid, mountpoint: dir, home: '/x' })}' > ${tmp}/peerstore-0/mounts/${entryName(dir)}`
  )
  const res = await runPeerstore(['unmount', dir], { env: envFor(tmp) })
  // On purpose: time for a wrongly sent signal to land, which must not.
  await sleep(500)
  t.ok(alive(sleeper), 'the unrelated root process is alive')
  t.is(res.code, 1, res.stderr.trim())
  t.ok(res.stderr.includes('not mounted') || /belongs to|owned by/.test(res.stderr), res.stderr.trim())
})

test('unmount: a stale entry (reused pid) signals nobody and is removed', {
  skip: SKIP,
  timeout: 120_000
}, async (t) => {
  const tmp = sharedTmp(t)
  const sleeper = unrelatedProcess(t)
  // A real mount registers itself; then its entry is made to name the unrelated process,
  // as after a crash and pid reuse.
  const m = await startMount(t, { env: envFor(tmp) })
  const entry = path.join(tmp, 'peerstore-0', 'mounts', entryName(m.dir))
  t.ok(fs.existsSync(entry), 'the mount registered itself')
  const registered = JSON.parse(fs.readFileSync(entry, 'utf8'))
  t.is(registered.pid, m.child.pid)
  const forged = { ...registered, pid: sleeper.pid }
  fs.writeFileSync(entry, JSON.stringify(forged))

  // Mounted, but the entry names a process that is not its mount: the real one is found, the sleeper spared.
  fs.writeFileSync(path.join(m.dir, 'kept'), 'data')
  const exited = new Promise<number | null>((resolve) => m.child.once('exit', resolve))
  const res = await runPeerstore(['unmount', m.dir], { env: envFor(tmp) })
  t.ok(alive(sleeper), 'the unrelated root process is alive')
  t.is(res.code, 0, `${res.stdout}${res.stderr}`)
  t.is(await exited, 0, 'the real mount process flushed and exited')
  t.absent(isMounted(m.dir))

  // Not mounted at all, entry naming the sleeper again: refused, entry removed, nobody signalled.
  fs.mkdirSync(path.dirname(entry), { recursive: true })
  fs.writeFileSync(entry, JSON.stringify(forged))
  const res2 = await runPeerstore(['unmount', m.dir], { env: envFor(tmp) })
  // On purpose: time for a wrongly sent signal to land, which must not.
  await sleep(500)
  t.ok(alive(sleeper), 'the unrelated root process is still alive')
  t.is(res2.code, 1)
  t.ok(res2.stderr.includes('not mounted'), res2.stderr.trim())
  t.absent(fs.existsSync(entry), 'the stale entry is removed')
})

test('after SIGKILL: writes into the mountpoint fail, and files that reached the disk are moved aside', {
  skip: SKIP,
  timeout: 240_000
}, async (t) => {
  const tmp = sharedTmp(t)
  const m = await startMount(t, { env: envFor(tmp) })
  const { home, dir } = m
  sh(`echo kept > ${dir}/kept && sync ${dir}/kept`)

  // Crash 1: writes right after the crash must fail, not land on the local disk.
  m.child.kill('SIGKILL')
  await new Promise((resolve) => m.child.once('exit', resolve))
  // Give a watchdog (libfuse auto_unmount) time to act, as a program would be a moment later.
  await waitFor('mountpoint unmounted', () => !isMounted(dir), {
    timeoutMs: 3000,
    intervalMs: 50,
    retryErrors: true
  }).catch(() => {})
  let writeError = ''
  try {
    fs.writeFileSync(path.join(dir, 'lost.txt'), 'written after the crash\n')
  } catch (err) {
    writeError = (err as NodeJS.ErrnoException).code ?? String(err)
  }
  t.comment(`a write right after the crash: ${writeError || 'succeeded (landed on the local disk)'}`)
  t.ok(writeError !== '', 'a write right after the crash fails')

  // The next mount clears the stale mount by itself.
  const m2 = await startMount(t, { home, dir, env: envFor(tmp) })
  t.ok(m2.output().includes('cleared the dead mount'), 'the next mount cleared the dead mount and said so')
  t.is(fs.readFileSync(path.join(dir, 'kept'), 'utf8'), 'kept\n', 'the store is back')
  t.absent(fs.existsSync(path.join(dir, 'lost.txt')), 'the failed write left nothing')

  // Crash 2: the stale mount is cleared by `peerstore unmount`, then a program writes into the plain directory.
  m2.child.kill('SIGKILL')
  await new Promise((resolve) => m2.child.once('exit', resolve))
  await waitFor('mountpoint unmounted', () => !isMounted(dir), {
    timeoutMs: 3000,
    intervalMs: 50,
    retryErrors: true
  }).catch(() => {})
  const un = await runPeerstore(['unmount', dir], { env: envFor(tmp) })
  t.comment(`unmount after the crash: ${un.code} ${(un.stdout + un.stderr).trim()}`)
  t.absent(isMounted(dir), 'nothing mounted after unmount')
  fs.writeFileSync(path.join(dir, 'stray.txt'), 'written while not mounted\n')
  fs.mkdirSync(path.join(dir, 'sub'))
  fs.writeFileSync(path.join(dir, 'sub', 'deep.txt'), 'deep\n')

  // The next mount does not refuse the directory: it moves the files into the home and says so.
  const m3 = await startMount(t, { home, dir, env: envFor(tmp) })
  t.is(fs.readFileSync(path.join(dir, 'kept'), 'utf8'), 'kept\n')
  t.absent(fs.existsSync(path.join(dir, 'stray.txt')), 'the stray file is not in the mounted tree')
  const recoveredRoot = path.join(home, 'recovered')
  const batches = fs.existsSync(recoveredRoot) ? fs.readdirSync(recoveredRoot) : []
  t.is(batches.length, 1, 'one recovered batch in the home')
  const batch = path.join(recoveredRoot, batches[0] ?? 'none')
  t.is(fs.readFileSync(path.join(batch, 'stray.txt'), 'utf8'), 'written while not mounted\n', 'stray file kept')
  t.is(fs.readFileSync(path.join(batch, 'sub', 'deep.txt'), 'utf8'), 'deep\n', 'and the directory with it')
  t.ok(m3.output().includes(batch), `the mount said where: ${m3.output().trim()}`)
  t.is(await m3.stop(), 0)
  t.alike(fs.readdirSync(dir), [], 'the mountpoint is an empty directory after a clean unmount')
})

test('unmount leaves a mount that is not peerstore alone', { timeout: 30_000 }, async (t) => {
  const res = await runPeerstore(['unmount', '/proc'], { env: envFor(sharedTmp(t)) })
  t.is(res.code, 1)
  t.ok(res.stderr.includes('/proc is a proc mount, not peerstore; left alone'), res.stderr.trim())
  t.ok(fs.existsSync('/proc/self/mountinfo'), '/proc is still mounted')
})
