// What the tests of mounts on one 127.0.0.1 ring share: how many peers a
// home's node sees, waiting for them, a bootstrap node, a user's second
// device, and polling a mount until a change from elsewhere shows.

import type { Test } from 'brittle'
import { runPeerstore } from './cli'
import { type Mount, startMount, tmpDir } from './mount'
import { type Daemon, startDaemon } from './processes'

/** The peers a running node of `home` is connected to (0 when its status cannot be read). */
export async function peersOf(home: string): Promise<number> {
  const res = await runPeerstore(['status', '--home', home, '--json'])
  return res.code === 0 ? (JSON.parse(res.stdout).peers as number) : 0
}

/** Waits until every home's node sees at least `n` peers. */
export async function waitForPeers(homes: string[], n: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const seen = await Promise.all(homes.map(peersOf))
    if (seen.every((p) => p >= n)) return
    if (Date.now() > deadline) throw new Error(`nodes never saw ${n} peers each (saw ${seen.join(', ')})`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

/**
 * Polls `check` until it is true and returns how long that took; an error it
 * throws (ENOENT while a change travels) counts as false.
 */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  opts: { deadlineMs: number; intervalMs?: number }
): Promise<number> {
  const started = Date.now()
  let last = ''
  for (;;) {
    try {
      if (await check()) return Date.now() - started
    } catch (err) {
      last = (err as Error).message
    }
    if (Date.now() - started > opts.deadlineMs)
      throw new Error(`not seen within ${opts.deadlineMs} ms: ${what} ${last}`)
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50))
  }
}

/** A `peerstore bootstrap` on 127.0.0.1:port, killed with this process whatever happens. */
export async function startBootstrap(t: Test, port: number): Promise<Daemon> {
  const boot = startDaemon(t, ['bootstrap', '--port', String(port), '--host', '127.0.0.1'])
  process.once('exit', () => boot.child.kill('SIGKILL'))
  await boot.waitFor('listening on 127.0.0.1')
  return boot
}

export interface TwoDevices {
  a: Mount
  b: Mount
  homeA: string
  homeB: string
}

/**
 * One user on two computers: a bootstrap node, home A initialised on it,
 * home B joined with A's device token, both mounted and connected.
 */
export async function startTwoDevices(
  t: Test,
  opts: { port: number; prefix: string; args?: string[]; envB?: NodeJS.ProcessEnv }
): Promise<TwoDevices> {
  await startBootstrap(t, opts.port)
  const homeA = tmpDir(`${opts.prefix}-a`)
  const homeB = tmpDir(`${opts.prefix}-b`)
  t.is((await runPeerstore(['init', '--home', homeA, '--bootstrap', `127.0.0.1:${opts.port}`])).code, 0)
  const invite = await runPeerstore(['invite', '--device', '--home', homeA])
  t.is(invite.code, 0, invite.stderr)
  const join = await runPeerstore(['join', '--home', homeB, invite.stdout.trim()])
  t.is(join.code, 0, join.stderr)
  const args = ['--host', '127.0.0.1', ...(opts.args ?? [])]
  // A is the first member: it waits for the ring (15 s) and then goes on alone.
  const a = await startMount(t, { home: homeA, args, readyTimeoutMs: 60_000 })
  // B's identity came from A: its first mount waits (up to 120 s) to find A's tree in the ring.
  const b = await startMount(t, { home: homeB, args, readyTimeoutMs: 150_000, env: opts.envB })
  await waitForPeers([homeA, homeB], 1)
  return { a, b, homeA, homeB }
}
