// Issue 15, "tested across NATs on this machine": a ring formed from an invite
// token by a public server and two homes, each behind its own NAT router
// (network namespaces, test/helpers/netns.ts). Public: a small DHT and one
// `peerstore serve`. Each home: one `peerstore serve` and one real FUSE
// `peerstore mount`, the two mounts being one user's two computers. A file
// written in home 1 reads byte-exact in home 2; home 1's NAT then maps it
// anew (new public address, every mapping forgotten) and files still cross
// both ways. Join times are printed as comments, and the routers' conntrack
// tables say which flows crossed the NATs: a flow between the two routers'
// public addresses is a holepunched home-to-home connection.

import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { runPeerstore } from '../helpers/cli'
import { startMount } from '../helpers/mount'
import { type Home, natTopology, PUBLIC_ADDR } from '../helpers/netns'
import { peersOf } from '../helpers/peers'
import { startDaemon } from '../helpers/processes'
import { tempDir } from '../helpers/temp-dir'
import { waitFor } from '../helpers/wait'

const DHT_PORT = 49_737
const DHT_BOOTSTRAP = `${PUBLIC_ADDR}:${DHT_PORT}`

/**
 * How the machines find each other. 'dht' (the default since DHT discovery,
 * docs/architecture.md "Discovery"): the token names no bootstrap and every
 * process is pointed at the namespace DHT instead of hyperswarm's public one
 * (PEERSTORE_DHT_BOOTSTRAP). 'bootstrap': a private network whose invite
 * token names the public namespace's DHT node. Switching is this line.
 */
const DISCOVERY = 'dht' as 'bootstrap' | 'dht'
const INIT_ARGS = DISCOVERY === 'bootstrap' ? ['--bootstrap', DHT_BOOTSTRAP] : []
const ENV: NodeJS.ProcessEnv = DISCOVERY === 'dht' ? { PEERSTORE_DHT_BOOTSTRAP: DHT_BOOTSTRAP } : {}

const sha256 = (data: Buffer) => crypto.createHash('sha256').update(data).digest('hex')

/** Waits until `file` reads in full with `digest`; resolves with the ms it took. */
function untilReadable(file: string, digest: string, timeoutMs: number): Promise<number> {
  return waitFor(`${file} to read byte-exact`, () => sha256(fs.readFileSync(file)) === digest, {
    timeoutMs,
    intervalMs: 200,
    retryErrors: true
  })
}

/** Flows in a router's conntrack table between its home and the other home's public address. */
function homeToHomeFlows(flows: string, otherWan: string): string[] {
  return flows.split('\n').filter((l) => l.includes('udp') && l.includes(`dst=${otherWan} `))
}

test('a public server and two NATed homes form one ring from an invite token, and survive a NAT mapping change', async (t) => {
  t.timeout(180_000)
  process.setMaxListeners(50)
  const net = natTopology(t, { homes: 2 })
  const [home1, home2] = net.homes

  const dht = startDaemon(
    t,
    ['--host', PUBLIC_ADDR, '--port', String(DHT_PORT), '--nodes', '5'],
    {},
    {
      netns: net.pub.ns,
      script: path.join(__dirname, '..', 'helpers', 'testnet-process.js')
    }
  )
  await dht.waitFor('testnet listening', 30_000)

  // The network, from one invite token; home 2's mount is the same user as home 1's (a device token).
  const serveHome = tempDir(t, 'nat-public')
  const serveHomes = [tempDir(t, 'nat-serve1'), tempDir(t, 'nat-serve2')]
  const mountHomes = [tempDir(t, 'nat-mount1'), tempDir(t, 'nat-mount2')]
  const init = await runPeerstore(['init', '--home', serveHome, ...INIT_ARGS])
  t.is(init.code, 0, init.stderr)
  const invite = await runPeerstore(['invite', '--home', serveHome])
  t.is(invite.code, 0, invite.stderr)
  for (const home of [...serveHomes, mountHomes[0]]) {
    const join = await runPeerstore(['join', '--home', home, invite.stdout.trim()])
    t.is(join.code, 0, join.stderr)
  }
  const device = await runPeerstore(['invite', '--device', '--home', mountHomes[0]])
  const joinDevice = await runPeerstore(['join', '--home', mountHomes[1], device.stdout.trim()])
  t.is(joinDevice.code, 0, joinDevice.stderr)

  const serve = (home: string, at: { ns: string; addr: string }) =>
    startDaemon(t, ['serve', '--home', home, '--host', at.addr, '--repair-interval', '2000'], ENV, { netns: at.ns })
  const servers = [serve(serveHome, net.pub), serve(serveHomes[0], home1), serve(serveHomes[1], home2)]
  await Promise.all(servers.map((s) => s.waitFor('serving node', 60_000)))
  const serveJoin = await waitFor('the three serve nodes to see each other', async () => {
    const peers = await Promise.all([serveHome, ...serveHomes].map(peersOf))
    return peers.every((p) => p >= 2)
  })
  t.comment(`serve nodes (public, home 1, home 2) connected ${serveJoin} ms after all were serving`)

  const mount = async (i: number, home: Home) => {
    const started = Date.now()
    const m = await startMount(t, {
      home: mountHomes[i],
      args: ['--host', home.addr],
      env: ENV,
      netns: home.ns,
      readyTimeoutMs: 60_000
    })
    const mounted = Date.now() - started
    await waitFor(`mount ${i + 1} to see the 3 serve nodes`, async () => (await peersOf(mountHomes[i])) >= 3)
    t.comment(`home ${i + 1} mount: mounted in ${mounted} ms, connected to 3 serve nodes in ${Date.now() - started} ms`)
    return { m, started }
  }
  const first = await mount(0, home1)
  const payload1 = crypto.randomBytes(1 << 20)
  fs.writeFileSync(path.join(first.m.dir, 'from-home1.bin'), payload1)
  const second = await mount(1, home2)
  await untilReadable(path.join(second.m.dir, 'from-home1.bin'), sha256(payload1), 60_000)
  t.pass(`home 1's file reads byte-exact (sha256) in home 2's mount`)
  t.comment(`home 2 mount: home 1's file readable ${Date.now() - second.started} ms after the mount started`)

  // Which connections exist: each node's peers, and flows between the two routers' public addresses.
  const allHomes = [serveHome, ...serveHomes, ...mountHomes]
  await waitFor(
    'every node to see the four others',
    async () => (await Promise.all(allHomes.map(peersOf))).every((p) => p >= 4),
    {
      timeoutMs: 30_000,
      failOnTimeout: false
    }
  )
  const peers = await Promise.all(allHomes.map(peersOf))
  t.comment(`peers seen (public serve, home 1 serve, home 2 serve, home 1 mount, home 2 mount): ${peers.join(', ')}`)
  const punched = homeToHomeFlows(net.flows(home1), home2.router.wanAddr)
  t.comment(`home 1's router: ${punched.length} UDP flow(s) to home 2's public address`)
  t.ok(
    punched.some((l) => l.includes('ASSURED')),
    'a holepunched flow runs directly between the two homes'
  )

  // Home 1's NAT maps it anew; every flow through it dies.
  const changedAt = Date.now()
  const wan = net.changeMapping(home1)
  t.comment(`home 1's router now maps to ${wan}`)
  const payload2 = crypto.randomBytes(1 << 20)
  const payload3 = crypto.randomBytes(256 << 10)
  fs.writeFileSync(path.join(first.m.dir, 'after-change-1.bin'), payload2)
  fs.writeFileSync(path.join(second.m.dir, 'after-change-2.bin'), payload3)
  const to2 = await untilReadable(path.join(second.m.dir, 'after-change-1.bin'), sha256(payload2), 90_000)
  const to1 = await untilReadable(path.join(first.m.dir, 'after-change-2.bin'), sha256(payload3), 90_000)
  t.pass('after the mapping change, new files cross both ways byte-exact')
  t.comment(
    `after the mapping change: home 1 → home 2 in ${to2} ms, home 2 → home 1 ${Date.now() - changedAt} ms after the change (${to1} ms more)`
  )
  // The router forgot every flow: one to home 2 now is a new punch from the new address.
  const repunched = await waitFor(
    'a new direct flow between the homes',
    () => homeToHomeFlows(net.flows(home1), home2.router.wanAddr).some((l) => l.includes('ASSURED')),
    { timeoutMs: 30_000, intervalMs: 250, failOnTimeout: false }
  )
  t.ok(repunched >= 0, 'home 1 holepunches home 2 again from its new public address')
  const again = await Promise.all(allHomes.map(peersOf))
  t.comment(`peers seen after the change: ${again.join(', ')}`)
  t.is(
    sha256(fs.readFileSync(path.join(second.m.dir, 'from-home1.bin'))),
    sha256(payload1),
    'the first file still reads'
  )

  t.is(await first.m.stop(), 0, 'home 1 unmounts cleanly')
  t.is(await second.m.stop(), 0, 'home 2 unmounts cleanly')
})
