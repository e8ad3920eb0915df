import { spawn } from 'node:child_process'
import path from 'node:path'

export const PEERSTORE_BIN = path.join(__dirname, '..', '..', 'bin', 'peerstore.js')

/**
 * A DHT bootstrap address where nothing answers: a loopback port nobody
 * listens on (the discard port). Tests never reach the public DHT, so every
 * child they start gets PEERSTORE_DHT_BOOTSTRAP: this, unless the test names
 * its own testnet; a node in DHT mode there finds nobody and says so.
 */
export const NO_DHT = '127.0.0.1:9'

/** The environment of a `peerstore` child: the test's, PEERSTORE_DHT_BOOTSTRAP always set, then `extra`. */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, PEERSTORE_DHT_BOOTSTRAP: process.env.PEERSTORE_DHT_BOOTSTRAP ?? NO_DHT, ...extra }
}

/**
 * The command that runs `script` (the CLI by default) with `args`, inside the
 * network namespace `netns` when given (test/helpers/netns.ts). nsenter
 * changes only the network namespace and then execs node, so the child's pid
 * is node's own, and a FUSE mount it makes is visible to the test process
 * (`ip netns exec` would unshare the mount namespace too).
 */
export function nodeCommand(
  args: string[],
  opts: { netns?: string; script?: string } = {}
): { file: string; argv: string[] } {
  const argv = [opts.script ?? PEERSTORE_BIN, ...args]
  if (!opts.netns) return { file: process.execPath, argv }
  return { file: 'nsenter', argv: [`--net=/run/netns/${opts.netns}`, '--', process.execPath, ...argv] }
}

export interface CliResult {
  code: number | null
  stdout: string
  /** stdout as bytes, for binary output. */
  stdoutBytes: Buffer
  stderr: string
}

/** Runs the real `peerstore` CLI as a child process, the way a user does. */
export function runPeerstore(
  args: string[],
  opts: {
    env?: NodeJS.ProcessEnv
    timeoutMs?: number
    /** Written to its stdin, which then ends. */
    input?: string
    /** Run inside this network namespace (test/helpers/netns.ts). */
    netns?: string
  } = {}
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const cmd = nodeCommand(args, { netns: opts.netns })
    const child = spawn(cmd.file, cmd.argv, {
      env: childEnv(opts.env),
      stdio: ['pipe', 'pipe', 'pipe']
    })
    // Ended at once: with no input the command sees an empty stdin, as with 'ignore'.
    child.stdin.end(opts.input ?? '')
    const out: Buffer[] = []
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      out.push(d)
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      const stdoutBytes = Buffer.concat(out)
      resolve({ code, stdout: stdoutBytes.toString(), stdoutBytes, stderr })
    })
  })
}

/** Makes `home` a PeerStore home (`peerstore init`): verbs other than init, join and mount refuse a directory that is not one. */
export async function initHome(home: string): Promise<string> {
  const res = await runPeerstore(['init', '--home', home])
  if (res.code !== 0) throw new Error(`peerstore init --home ${home} failed: ${res.stderr}`)
  return home
}
