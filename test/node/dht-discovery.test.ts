// Issue 15: discovery through the DHT by default. A testnet DHT in this
// process (127.0.0.1) stands in for hyperswarm's public one through
// PEERSTORE_DHT_BOOTSTRAP, as it would for a private deployment. Real
// `peerstore` processes: homes joined with an invite token and nothing else
// (no bootstrap of their own) find each other, store and read files through
// a mount; --dht-bootstrap wins over the environment; the alone default binds
// no socket; a DHT node that reaches no bootstrap says so in status.

import fs from 'node:fs'
import path from 'node:path'
import createTestnet from '@hyperswarm/testnet'
import test from 'brittle'
import { decodeInvite } from '../../lib/node/invite-token'
import { NO_DHT, runPeerstore } from '../helpers/cli'
import { startMount } from '../helpers/mount'
import { waitForOneRing, waitForPeers } from '../helpers/peers'
import { startDaemon } from '../helpers/processes'
import { tempDir } from '../helpers/temp-dir'
import { waitFor } from '../helpers/wait'

interface Status {
  peers: number
  online: boolean
  aloneSince?: number | null
  discovery?: { mode: string; bootstrap: string[] }
  dhtAnswers?: boolean | null
  running: boolean
}

async function statusOf(home: string): Promise<Status> {
  const res = await runPeerstore(['status', '--home', home, '--json'])
  if (res.code !== 0) throw new Error(`status failed: ${res.stderr}`)
  return JSON.parse(res.stdout)
}

/** UDP sockets a process holds: its socket fds matched against the kernel's UDP tables (by inode). */
function udpSocketsOf(pid: number): number {
  const held = new Set<string>()
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))
      if (m) held.add(m[1])
    } catch {
      // An fd closed while listed.
    }
  }
  let count = 0
  for (const table of ['udp', 'udp6']) {
    const lines = fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1)
    for (const line of lines) if (held.has(line.trim().split(/\s+/)[9])) count++
  }
  return count
}

test('two homes joined with an invite token alone find each other on the DHT; a mount stores and reads through them', async (t) => {
  t.timeout(420_000)
  process.setMaxListeners(50)
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  t.teardown(() => testnet.destroy(), { order: Number.MAX_SAFE_INTEGER })
  const dht = testnet.bootstrap.map((b) => `${b.host}:${b.port}`)
  const env = { PEERSTORE_DHT_BOOTSTRAP: dht.join(',') }

  const [a, b] = [tempDir(t, 'dht-a'), tempDir(t, 'dht-b')]
  t.is((await runPeerstore(['init', '--home', a])).code, 0)
  const invite = await runPeerstore(['invite', '--home', a])
  t.is(invite.code, 0, invite.stderr)
  t.ok(invite.stderr.includes('now finds its network on the DHT'), 'invite says the home switched to the DHT')
  const token = invite.stdout.trim()
  t.alike(decodeInvite(token).bootstrap, [], 'the token carries no bootstrap address')
  t.is((await runPeerstore(['join', '--home', b, token])).code, 0)

  const started = Date.now()
  const servers = [a, b].map((home) => startDaemon(t, ['serve', '--home', home, '--repair-interval', '1000'], env))
  await Promise.all(servers.map((s) => s.waitFor('serving node')))
  await waitForPeers([a, b], 1, 60_000)
  await waitForOneRing([a, b], 2, 60_000)
  t.comment(`two serve processes found each other on the DHT and merged in ${Date.now() - started} ms`)
  const status = await statusOf(a)
  t.alike(status.discovery, { mode: 'dht', bootstrap: dht }, 'status: DHT discovery, with the bootstrap list in use')
  t.is(status.dhtAnswers, true, 'and the DHT answers')
  const text = (await runPeerstore(['status', '--home', a])).stdout
  t.ok(text.includes(`discovery    DHT, bootstrap ${dht.join(', ')}`), text)
  t.ok(udpSocketsOf(servers[0].child.pid!) > 0, 'a node in DHT mode binds its UDP sockets')

  // A new user on a third computer: a client-only mount stores everything on the two serve nodes.
  const user = tempDir(t, 'dht-user')
  t.is((await runPeerstore(['join', '--home', user, token])).code, 0)
  const mountArgs = ['--client-only']
  const first = await startMount(t, { home: user, args: mountArgs, env, readyTimeoutMs: 90_000 })
  t.absent(first.output().includes('no node of this network answered'), first.output())
  fs.mkdirSync(path.join(first.dir, 'docs'))
  fs.writeFileSync(path.join(first.dir, 'docs', 'found.txt'), 'found through the DHT\n')
  t.is(await first.stop(), 0, 'unmounted cleanly (everything stored)')

  // The same user's second computer reads it, joined with a device token. Its environment names no
  // DHT that answers: only --dht-bootstrap leads to the network (the flag wins over the environment).
  const device = await runPeerstore(['invite', '--device', '--home', user])
  t.is(device.code, 0, device.stderr)
  t.alike(decodeInvite(device.stdout.trim()).bootstrap, [], 'a device token of a DHT network has none either')
  const second = tempDir(t, 'dht-second')
  t.is((await runPeerstore(['join', '--home', second, device.stdout.trim()])).code, 0)
  const mountedAt = Date.now()
  const other = await startMount(t, {
    home: second,
    args: [...mountArgs, '--dht-bootstrap', dht.join(',')],
    env: { PEERSTORE_DHT_BOOTSTRAP: NO_DHT },
    readyTimeoutMs: 150_000
  })
  t.comment(`the second computer mounted in ${Date.now() - mountedAt} ms`)
  t.is(fs.readFileSync(path.join(other.dir, 'docs', 'found.txt'), 'utf8'), 'found through the DHT\n')
  t.alike((await statusOf(second)).discovery?.bootstrap, dht, '--dht-bootstrap is the list in use')
  t.is(await other.stop(), 0)
  for (const s of servers) await s.stop('SIGTERM')
})

test('the alone default binds no socket; a DHT node that reaches no bootstrap says no peer is reachable', async (t) => {
  t.timeout(180_000)
  // A fresh home: alone, a ring of one. Not a single UDP socket.
  const lone = tempDir(t, 'dht-lone')
  t.is((await runPeerstore(['init', '--home', lone])).code, 0)
  const alone = startDaemon(t, ['serve', '--home', lone])
  await alone.waitFor('serving node')
  t.is(udpSocketsOf(alone.child.pid!), 0, 'no UDP socket bound')
  const loneStatus = await statusOf(lone)
  t.alike(loneStatus.discovery, { mode: 'alone', bootstrap: [] })
  t.is(loneStatus.dhtAnswers, null, 'no DHT to answer')
  t.ok(loneStatus.online, 'a ring of one is online: it looks for nobody')

  // A token of a DHT network, joined on a machine whose DHT does not answer (here: nothing listens
  // at NO_DHT, the test helpers' default, standing in for a public DHT out of reach).
  const inviter = tempDir(t, 'dht-inviter')
  t.is((await runPeerstore(['init', '--home', inviter])).code, 0)
  const token = (await runPeerstore(['invite', '--home', inviter])).stdout.trim()
  const home = tempDir(t, 'dht-unreachable')
  t.is((await runPeerstore(['join', '--home', home, token])).code, 0)
  const node = startDaemon(t, ['serve', '--home', home])
  await node.waitFor('serving node')
  t.ok(udpSocketsOf(node.child.pid!) > 0, 'a DHT node binds its sockets (the check above is not vacuous)')
  const asked = Date.now()
  const status = await statusOf(home)
  t.ok(Date.now() - asked < 10_000, `status answered in ${Date.now() - asked} ms`)
  t.is(status.online, false, 'not online')
  t.alike(status.discovery, { mode: 'dht', bootstrap: [NO_DHT] })
  await waitFor('status says since when', async () => typeof (await statusOf(home)).aloneSince === 'number', 30_000)
  await waitFor('status says the DHT does not answer', async () => (await statusOf(home)).dhtAnswers === false, 30_000)
  const text = (await runPeerstore(['status', '--home', home])).stdout
  t.ok(/offline: no peer reachable since .*; the DHT bootstrap does not answer, retrying/.test(text), text)
  await node.waitFor(/no peer reachable since .*retrying/, 60_000)
  t.pass('the log says no peer is reachable, retrying')
  await node.stop('SIGTERM')
  await alone.stop('SIGTERM')
})
