// A ring of `peerstore serve` processes on 127.0.0.1 larger than k, joined the
// way a user does (init --bootstrap, invite, join), plus homes joined to it
// for mounts: a member home, and optionally a client home that is the same
// user's second computer (invite --device). Used by the tests of mounts on
// rings larger than k (issue 12: ring-offline, ring-crash, ring-unsure).

import type { Test } from 'brittle'
import { runPeerstore } from './cli'
import { type Mount, startMount } from './mount'
import { waitForPeers } from './peers'
import { type Daemon, startDaemon } from './processes'
import { startBootstrap } from './ring-mounts'
import { tempDir } from './temp-dir'

export interface ServeRing {
  serveHomes: string[]
  servers: Daemon[]
  /** Every serve node's key (hex), in the order of serveHomes. */
  nodeKeys: string[]
  /** Homes joined to the network: `member` (a new user), `client` (member's second computer) when asked. */
  member: string
  client: string | null
  /** Starts the serve processes again on the same homes (after they were killed). */
  restart(): Promise<Daemon[]>
}

export async function startServeRing(
  t: Test,
  opts: { port: number; nodes: number; client?: boolean; extraHomes?: number }
): Promise<ServeRing> {
  // One exit listener per child process (processes.ts, mount.ts).
  process.setMaxListeners(50)
  await startBootstrap(t, opts.port)
  const serveHomes = Array.from({ length: opts.nodes }, () => tempDir(t, 'serve'))
  const member = tempDir(t, 'member')
  const init = await runPeerstore(['init', '--home', serveHomes[0], '--bootstrap', `127.0.0.1:${opts.port}`])
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`)
  const token = (await runPeerstore(['invite', '--home', serveHomes[0]])).stdout.trim()
  for (const home of [...serveHomes.slice(1), member]) {
    const join = await runPeerstore(['join', '--home', home, token])
    if (join.code !== 0) throw new Error(`join failed: ${join.stderr}`)
  }
  let client: string | null = null
  if (opts.client) {
    client = tempDir(t, 'client')
    const device = await runPeerstore(['invite', '--device', '--home', member])
    const join = await runPeerstore(['join', '--home', client, device.stdout.trim()])
    if (join.code !== 0) throw new Error(`device join failed: ${join.stderr}`)
  }
  const start = async (): Promise<Daemon[]> => {
    const servers = serveHomes.map((home) => {
      const d = startDaemon(t, ['serve', '--home', home, '--host', '127.0.0.1', '--repair-interval', '2000'])
      process.once('exit', () => d.child.kill('SIGKILL'))
      return d
    })
    await Promise.all(servers.map((s) => s.waitFor('serving node', 60_000)))
    return servers
  }
  const ring: ServeRing = {
    serveHomes,
    servers: await start(),
    nodeKeys: [],
    member,
    client,
    async restart() {
      ring.servers = await start()
      return ring.servers
    }
  }
  await waitForPeers(serveHomes, opts.nodes - 1, 120_000)
  ring.nodeKeys = await Promise.all(
    serveHomes.map(
      async (home) => JSON.parse((await runPeerstore(['status', '--home', home, '--json'])).stdout).nodeKey
    )
  )
  return ring
}

/**
 * The smallest network with a storage node apart from the mount: a bootstrap,
 * one `peerstore serve` on `serveHome` (the ring's only member), and a
 * client-only mount of `clientHome`, joined to it, whose every chunk and
 * record goes to that serve node.
 */
export async function startServeAndClientMount(
  t: Test,
  opts: { port: number; serveHome: string; clientHome: string; initArgs?: string[] }
): Promise<{ serve: Daemon; mount: Mount }> {
  await startBootstrap(t, opts.port)
  const { serveHome, clientHome } = opts
  const init = await runPeerstore([
    'init',
    '--home',
    serveHome,
    '--bootstrap',
    `127.0.0.1:${opts.port}`,
    ...(opts.initArgs ?? [])
  ])
  t.is(init.code, 0, init.stderr)
  const token = (await runPeerstore(['invite', '--home', serveHome])).stdout.trim()
  t.is((await runPeerstore(['join', '--home', clientHome, token])).code, 0)
  const serve = startDaemon(t, ['serve', '--home', serveHome, '--host', '127.0.0.1', '--repair-interval', '1000'])
  process.once('exit', () => serve.child.kill('SIGKILL'))
  await serve.waitFor('serving node')
  const mount = await startMount(t, {
    home: clientHome,
    args: ['--client-only', '--host', '127.0.0.1'],
    readyTimeoutMs: 90_000
  })
  return { serve, mount }
}
