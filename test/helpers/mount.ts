// A real `peerstore mount` child process on a fresh mountpoint under /tmp,
// driven from the test process (never from inside the mount process, which
// must not fork: children would inherit /dev/fuse). Teardown always leaves
// nothing mounted: SIGTERM (flush + unmount), then SIGKILL and `fusermount -uz`.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import type { Test } from 'brittle'
import { childEnv, nodeCommand } from './cli'
import { isMounted, tempDir } from './temp-dir'
import { waitFor } from './wait'

export { isMounted }

export interface Mount {
  dir: string
  home: string
  child: ChildProcess
  output: () => string
  /** Flush and unmount the way Ctrl-C does; resolves with the exit code. */
  stop(): Promise<number | null>
  /** SIGKILL, as a crash; the dead mount it leaves is then cleared by fusermount. */
  kill(): Promise<void>
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

function forceUnmount(dir: string): void {
  if (isMounted(dir)) spawnSync('fusermount', ['-uz', dir])
}

/**
 * Starts `peerstore mount` on `dir` (a fresh one by default) with `home`,
 * registering teardown on `t`; in the network namespace `netns` when given
 * (its FUSE mount stays visible here: cli.ts, nodeCommand).
 */
export async function startMount(
  t: Test,
  opts: {
    home?: string
    dir?: string
    args?: string[]
    readyTimeoutMs?: number
    env?: NodeJS.ProcessEnv
    netns?: string
  } = {}
): Promise<Mount> {
  const home = opts.home ?? tempDir(t, 'home')
  const dir = opts.dir ?? path.join(tempDir(t, 'mnt'), 'mnt')
  try {
    fs.mkdirSync(dir, { recursive: true })
  } catch (err) {
    // A dead mount left by a crash: the mount clears it itself.
    if ((err as NodeJS.ErrnoException).code !== 'ENOTCONN') throw err
  }
  const cmd = nodeCommand(['mount', dir, '--home', home, ...(opts.args ?? [])], { netns: opts.netns })
  const child = spawn(cmd.file, cmd.argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv(opts.env)
  })
  let out = ''
  child.stdout!.on('data', (d) => {
    out += d
  })
  child.stderr!.on('data', (d) => {
    out += d
  })
  // If the test process dies without its teardown, take the mount with it.
  const onExit = () => {
    child.kill('SIGKILL')
    spawnSync('fusermount', ['-uz', dir])
  }
  process.once('exit', onExit)
  child.once('exit', () => process.removeListener('exit', onExit))
  const mount: Mount = {
    dir,
    home,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) {
        forceUnmount(dir)
        return child.exitCode
      }
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
      const code = await exited(child)
      clearTimeout(timer)
      forceUnmount(dir)
      return code
    },
    async kill() {
      child.kill('SIGKILL')
      await exited(child)
      // The mount runs without auto_unmount (docs/fuse.md): the dead mount stays until cleared.
      forceUnmount(dir)
    }
  }
  t.teardown(async () => {
    await mount.stop()
  })
  try {
    await waitFor(`mount of ${dir}`, () => isMounted(dir) && out.includes('peerstore: mounted'), {
      timeoutMs: opts.readyTimeoutMs ?? 20_000,
      intervalMs: 25
    })
  } catch (err) {
    child.kill('SIGKILL')
    forceUnmount(dir)
    throw new Error(`${(err as Error).message}; output:\n${out}`)
  }
  return mount
}

/** Runs a shell command from the test process (outside the mount process). */
export function sh(cmd: string, opts: { cwd?: string; input?: string } = {}): string {
  const res = spawnSync('bash', ['-c', cmd], {
    cwd: opts.cwd,
    input: opts.input,
    encoding: 'utf8',
    maxBuffer: 64 << 20
  })
  if (res.status !== 0) throw new Error(`'${cmd}' exited ${res.status}: ${res.stderr}`)
  return res.stdout
}
