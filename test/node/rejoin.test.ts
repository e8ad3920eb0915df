// Issue 15: joining is never silently split. Real `peerstore bootstrap` and
// `serve` processes on 127.0.0.1: a node returning after the bootstrap
// restarted (which then holds no announcement) merges at once through the
// peers its home remembers; so does one restarted with no bootstrap running
// at all; a node left alone says so in its log and status (never "online"
// with 0 peers) and merges when its peers come back.

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { runPeerstore } from '../helpers/cli'
import { waitForOneRing, waitForPeers } from '../helpers/peers'
import { type Daemon, startDaemon } from '../helpers/processes'
import { startBootstrap } from '../helpers/ring-mounts'
import { tempDir } from '../helpers/temp-dir'
import { startMount } from '../helpers/mount'
import { waitFor } from '../helpers/wait'

const PORT = 46_000 + Math.floor(Math.random() * 1000)
/** The bound the brief sets on a returning node's merge (measured figures are printed as comments). */
const MERGE_BOUND_MS = 30_000

async function statusOf(
  home: string
): Promise<{ peers: number; online: boolean; aloneSince?: number | null; ringMachines: number }> {
  return JSON.parse((await runPeerstore(['status', '--home', home, '--json'])).stdout)
}

test('a returning serve node merges after the bootstrap restarted, and with no bootstrap at all; alone, it says so', async (t) => {
  t.timeout(300_000)
  let boot = await startBootstrap(t, PORT)
  const homes = [tempDir(t, 'serve'), tempDir(t, 'serve'), tempDir(t, 'serve')]
  t.is((await runPeerstore(['init', '--home', homes[0], '--bootstrap', `127.0.0.1:${PORT}`])).code, 0)
  const token = (await runPeerstore(['invite', '--home', homes[0]])).stdout.trim()
  for (const home of homes.slice(1)) t.is((await runPeerstore(['join', '--home', home, token])).code, 0)
  const serve = (home: string): Daemon => startDaemon(t, ['serve', '--home', home, '--host', '127.0.0.1'])
  const servers = homes.map(serve)
  await Promise.all(servers.map((s) => s.waitFor('serving node')))
  await waitForPeers(homes, 2)
  await waitForOneRing(homes)
  // Each home remembers the others' DHT sockets (written a moment after they connect).
  await waitFor('known peers written', () =>
    homes.every((h) => {
      const file = path.join(h, 'known-peers.json')
      return fs.existsSync(file) && JSON.parse(fs.readFileSync(file, 'utf8')).peers.length === 2
    })
  )
  const known = JSON.parse(fs.readFileSync(path.join(homes[2], 'known-peers.json'), 'utf8'))
  t.ok(
    known.peers.every(
      (p: { key: string; host: string; port: number }) =>
        /^[0-9a-f]{64}$/.test(p.key) && p.host === '127.0.0.1' && p.port > 0
    ),
    'known-peers.json holds public keys and DHT addresses'
  )
  t.absent(fs.readFileSync(path.join(homes[2], 'known-peers.json'), 'utf8').includes('secret'), 'and nothing secret')

  // (1) One node is killed, the bootstrap restarts (it forgets every announcement), the node returns.
  await servers[2].stop('SIGKILL')
  await boot.stop('SIGKILL')
  boot = await startBootstrap(t, PORT)
  let started = Date.now()
  servers[2] = serve(homes[2])
  await servers[2].waitFor('serving node')
  await waitFor('the returning node sees both peers', async () => (await statusOf(homes[2])).peers >= 2, MERGE_BOUND_MS)
  await waitForOneRing(homes, 3, MERGE_BOUND_MS)
  t.comment(
    `merged ${Date.now() - started} ms after a restart behind a restarted bootstrap (bound ${MERGE_BOUND_MS} ms)`
  )
  t.ok((await statusOf(homes[2])).online, 'and is online')

  // (2) No bootstrap at all: a node restarted with its home dials the peers it remembers.
  await boot.stop('SIGKILL')
  await servers[1].stop('SIGKILL')
  started = Date.now()
  servers[1] = serve(homes[1])
  await servers[1].waitFor('serving node')
  await waitFor(
    'the node sees both peers with no bootstrap',
    async () => (await statusOf(homes[1])).peers >= 2,
    MERGE_BOUND_MS
  )
  await waitForOneRing(homes, 3, MERGE_BOUND_MS)
  t.comment(`merged ${Date.now() - started} ms after a restart with no bootstrap running`)

  // (3) Alone: the other two are killed. Status never says online with 0 peers; the log says why.
  await servers[1].stop('SIGKILL')
  await servers[2].stop('SIGKILL')
  await waitFor('the last node sees nobody', async () => (await statusOf(homes[0])).peers === 0, 60_000)
  const alone = await statusOf(homes[0])
  t.is(alone.online, false, 'status is not online with 0 peers')
  t.ok(typeof alone.aloneSince === 'number', 'status says since when no peer is reachable')
  const text = await runPeerstore(['status', '--home', homes[0]])
  t.ok(/offline: no peer reachable since .*retrying/.test(text.stdout), text.stdout)
  await servers[0].waitFor(/no peer reachable since .*retrying/, 30_000)
  t.pass('the log says no peer is reachable, retrying')

  // They come back (still no bootstrap): one ring again, and the alone node says it is reachable again.
  started = Date.now()
  servers[1] = serve(homes[1])
  servers[2] = serve(homes[2])
  // With no bootstrap, the two returning nodes are found only by dialing remembered addresses, and the node
  // that stayed alone dials on its backoff (up to 15 s apart): 15-24 s measured on a loaded 2-core box.
  await waitFor(
    'all three see each other',
    async () => (await Promise.all(homes.map(statusOf))).every((s) => s.peers >= 2),
    2 * MERGE_BOUND_MS
  )
  await waitForOneRing(homes, 3, MERGE_BOUND_MS)
  t.comment(`one ring again ${Date.now() - started} ms after the peers came back`)
  await servers[0].waitFor('peer reachable again', 10_000)
  t.ok((await statusOf(homes[0])).online, 'online again')
  for (const s of servers) await s.stop('SIGTERM')
})

test('a mount whose home has been in the ring finds it again with the bootstrap down, and reads what it wrote', async (t) => {
  t.timeout(240_000)
  const boot = await startBootstrap(t, PORT + 1)
  const homes = [tempDir(t, 'serve'), tempDir(t, 'serve')]
  const member = tempDir(t, 'member')
  t.is((await runPeerstore(['init', '--home', homes[0], '--bootstrap', `127.0.0.1:${PORT + 1}`])).code, 0)
  const token = (await runPeerstore(['invite', '--home', homes[0]])).stdout.trim()
  for (const home of [homes[1], member]) t.is((await runPeerstore(['join', '--home', home, token])).code, 0)
  const servers = homes.map((home) => startDaemon(t, ['serve', '--home', home, '--host', '127.0.0.1']))
  await Promise.all(servers.map((s) => s.waitFor('serving node')))
  await waitForPeers(homes, 1)

  const first = await startMount(t, { home: member, args: ['--host', '127.0.0.1'], readyTimeoutMs: 60_000 })
  fs.writeFileSync(path.join(first.dir, 'note.txt'), 'written before the bootstrap went down\n')
  await waitFor('the mount knows both serve nodes', () => {
    const file = path.join(member, 'known-peers.json')
    return fs.existsSync(file) && JSON.parse(fs.readFileSync(file, 'utf8')).peers.length === 2
  })
  t.is(await first.stop(), 0, 'unmounted cleanly')

  await boot.stop('SIGKILL')
  const started = Date.now()
  const again = await startMount(t, { home: member, args: ['--host', '127.0.0.1'], readyTimeoutMs: 60_000 })
  t.comment(`mounted again with no bootstrap in ${Date.now() - started} ms`)
  t.absent(again.output().includes('no other node of this network answered'), again.output())
  t.is(fs.readFileSync(path.join(again.dir, 'note.txt'), 'utf8'), 'written before the bootstrap went down\n')
  const status = await statusOf(member)
  t.ok(status.peers >= 2 && status.online, `the mount's node is online with its peers (${status.peers})`)
  t.is(await again.stop(), 0)
  for (const s of servers) await s.stop('SIGTERM')
})
