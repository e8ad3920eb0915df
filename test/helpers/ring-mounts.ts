// What the tests of mounts on one 127.0.0.1 ring share: a bootstrap node and
// a user's second device. (Waiting for peers: peers.ts; polling a mount until
// a change from elsewhere shows: wait.ts.)

import type { Test } from 'brittle'
import { runPeerstore } from './cli'
import { type Mount, startMount } from './mount'
import { waitForPeers } from './peers'
import { type Daemon, startDaemon } from './processes'
import { tempDir } from './temp-dir'

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
  opts: {
    port: number
    prefix: string
    args?: string[]
    /** Added to A's or B's mount only (after `args`). */
    argsA?: string[]
    argsB?: string[]
    envB?: NodeJS.ProcessEnv
  }
): Promise<TwoDevices> {
  await startBootstrap(t, opts.port)
  const homeA = tempDir(t, `${opts.prefix}-a`)
  const homeB = tempDir(t, `${opts.prefix}-b`)
  t.is((await runPeerstore(['init', '--home', homeA, '--bootstrap', `127.0.0.1:${opts.port}`])).code, 0)
  const invite = await runPeerstore(['invite', '--device', '--home', homeA])
  t.is(invite.code, 0, invite.stderr)
  const join = await runPeerstore(['join', '--home', homeB, invite.stdout.trim()])
  t.is(join.code, 0, join.stderr)
  const args = ['--host', '127.0.0.1', ...(opts.args ?? [])]
  // A is the first member: it waits for the ring (15 s) and then goes on alone.
  const a = await startMount(t, { home: homeA, args: [...args, ...(opts.argsA ?? [])], readyTimeoutMs: 60_000 })
  // B's identity came from A: its first mount waits (up to 120 s) to find A's tree in the ring.
  const b = await startMount(t, {
    home: homeB,
    args: [...args, ...(opts.argsB ?? [])],
    readyTimeoutMs: 150_000,
    env: opts.envB
  })
  await waitForPeers([homeA, homeB], 1)
  return { a, b, homeA, homeB }
}
