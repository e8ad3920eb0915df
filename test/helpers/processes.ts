import { type ChildProcess, spawn } from 'node:child_process'
import type { Test } from 'brittle'
import { childEnv, nodeCommand } from './cli'

export interface Daemon {
  child: ChildProcess
  output(): string
  /** Resolves when the output contains `text`. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/**
 * Starts a long-running `peerstore` command (serve, bootstrap, mount); killed
 * in teardown. `opts.netns` runs it in a network namespace, `opts.script`
 * runs another node script than the CLI (cli.ts, nodeCommand).
 */
export function startDaemon(
  t: Test,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  opts: { netns?: string; script?: string } = {}
): Daemon {
  const cmd = nodeCommand(args, opts)
  const child = spawn(cmd.file, cmd.argv, {
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  const listeners = new Set<() => void>()
  const onData = (d: Buffer) => {
    out += d
    for (const l of listeners) l()
  }
  child.stdout!.on('data', onData)
  child.stderr!.on('data', onData)
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const daemon: Daemon = {
    child,
    output: () => out,
    waitFor(text, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const matches = () => (typeof text === 'string' ? out.includes(text) : text.test(out))
        if (matches()) return resolve()
        const timer = setTimeout(() => {
          listeners.delete(check)
          reject(new Error(`timed out waiting for ${text} in output:\n${out}`))
        }, timeoutMs)
        const check = () => {
          if (!matches()) return
          clearTimeout(timer)
          listeners.delete(check)
          resolve()
        }
        listeners.add(check)
        exited.then(() => {
          if (!matches()) {
            clearTimeout(timer)
            listeners.delete(check)
            reject(new Error(`process exited before printing ${text}:\n${out}`))
          }
        })
      })
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
      const code = await exited
      clearTimeout(timer)
      return code
    }
  }
  t.teardown(() => daemon.stop('SIGKILL'), { order: 0 })
  // Also when the test process ends without running teardown (a crash, a timeout).
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  child.once('exit', () => process.off('exit', killOnExit))
  return daemon
}
