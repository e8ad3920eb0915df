import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { runPeerstore } from '../helpers/cli'
import { decodeInvite } from '../../lib/node/invite-token'
import { tempDir } from '../helpers/temp-dir'

test('init creates identity and config with owner-only permissions', async (t) => {
  const home = tempDir(t, 'home')
  const res = await runPeerstore(['init', '--home', home, '--json'])
  t.is(res.code, 0, res.stderr)
  const out = JSON.parse(res.stdout)
  t.ok(/^[0-9a-f]{64}$/.test(out.nodeKey))
  t.is(fs.statSync(path.join(home, 'node.seed')).mode & 0o777, 0o600)
  t.is(fs.statSync(path.join(home, 'config.json')).mode & 0o777, 0o600)
  const again = await runPeerstore(['init', '--home', home])
  t.is(again.code, 1, 'a second init refuses to overwrite')
  t.ok(again.stderr.includes('already initialized'))
})

test('invite on one home, join on another: same network key and bootstrap', async (t) => {
  const a = tempDir(t, 'home')
  const b = tempDir(t, 'home')
  t.is((await runPeerstore(['init', '--home', a])).code, 0)
  const invite = await runPeerstore(['invite', '--home', a, '--bootstrap', '127.0.0.1:49737,127.0.0.1:49738'])
  t.is(invite.code, 0, invite.stderr)
  const token = invite.stdout.trim()
  t.ok(token.startsWith('peerstore-invite2'))
  const join = await runPeerstore(['join', token], { env: { PEERSTORE_HOME: b } })
  t.is(join.code, 0, join.stderr)
  const ca = JSON.parse(fs.readFileSync(path.join(a, 'config.json'), 'utf8'))
  const cb = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8'))
  t.is(cb.networkKey, ca.networkKey)
  t.alike(cb.bootstrap, ['127.0.0.1:49737', '127.0.0.1:49738'])

  const c = tempDir(t, 'home')
  t.is((await runPeerstore(['init', '--home', c])).code, 0)
  const refused = await runPeerstore(['join', '--home', c, token])
  t.is(refused.code, 1, 'joining another network needs --force')
  t.is((await runPeerstore(['join', '--home', c, '--force', token])).code, 0)
})

test('bad input: damaged token, bad network key, bad bootstrap address', async (t) => {
  const home = tempDir(t, 'home')
  const bad = await runPeerstore(['join', '--home', home, 'peerstore-invite2!!!'])
  t.is(bad.code, 1)
  t.ok(bad.stderr.includes('damaged'))
  const notToken = await runPeerstore(['join', '--home', home, 'hello'])
  t.is(notToken.code, 1)
  t.ok(notToken.stderr.includes('not a PeerStore invite token'))
  const key = await runPeerstore(['init', '--home', home, '--network', 'abc'])
  t.is(key.code, 1)
  t.ok(key.stderr.includes('64 hex'))
  const addr = await runPeerstore(['init', '--home', home, '--bootstrap', 'nohost'])
  t.is(addr.code, 1)
  t.ok(addr.stderr.includes('HOST:PORT'))
  const missing = await runPeerstore(['join', '--home', home])
  t.is(missing.code, 2, 'missing TOKEN is a usage error')
})

const readJson = (home: string) => JSON.parse(fs.readFileSync(path.join(home, 'config.json'), 'utf8'))

test('invite on a home that is alone switches it to DHT discovery; the token carries no bootstrap address', async (t) => {
  const a = tempDir(t, 'home')
  t.is((await runPeerstore(['init', '--home', a])).code, 0)
  t.is(readJson(a).discovery, 'alone', 'a fresh home is alone')
  const invite = await runPeerstore(['invite', '--home', a])
  t.is(invite.code, 0, invite.stderr)
  t.ok(invite.stderr.includes('now finds its network on the DHT'), invite.stderr)
  t.is(readJson(a).discovery, 'dht', 'saved in config.json')
  t.alike(readJson(a).bootstrap, [])
  const token = invite.stdout.trim()
  t.alike(decodeInvite(token).bootstrap, [], 'no bootstrap address in the token')
  const again = await runPeerstore(['invite', '--home', a, '--json'])
  t.is(again.stderr, '', 'said once: the home is in DHT mode now')
  t.alike(JSON.parse(again.stdout), { token, device: false, discovery: 'dht', bootstrap: [] })

  const b = tempDir(t, 'home')
  const join = await runPeerstore(['join', '--home', b, token])
  t.is(join.code, 0, join.stderr)
  t.ok(join.stdout.includes('found on the DHT'), join.stdout)
  t.is(readJson(b).discovery, 'dht')
  t.is(readJson(b).networkKey, readJson(a).networkKey)

  // A device token from an alone home switches it too.
  const c = tempDir(t, 'home')
  t.is((await runPeerstore(['init', '--home', c])).code, 0)
  const device = await runPeerstore(['invite', '--device', '--home', c])
  t.is(device.code, 0, device.stderr)
  t.is(readJson(c).discovery, 'dht')
  t.alike(decodeInvite(device.stdout.trim()).bootstrap, [])
})

test('private networks as before: invite --bootstrap and join --bootstrap; configs without a discovery mode read as before', async (t) => {
  const a = tempDir(t, 'home')
  t.is((await runPeerstore(['init', '--home', a])).code, 0)
  const invite = await runPeerstore(['invite', '--home', a, '--bootstrap', '127.0.0.1:49737'])
  t.is(invite.code, 0, invite.stderr)
  t.is(readJson(a).discovery, 'alone', 'a token for a private network leaves the home as it was')
  const b = tempDir(t, 'home')
  t.is((await runPeerstore(['join', '--home', b, invite.stdout.trim()])).code, 0)
  t.is(readJson(b).discovery, 'private')
  t.alike(readJson(b).bootstrap, ['127.0.0.1:49737'])
  const private2 = await runPeerstore(['invite', '--home', b, '--json'])
  t.alike(JSON.parse(private2.stdout).bootstrap, ['127.0.0.1:49737'], 'a private home invites with its bootstrap')

  // join --bootstrap: a DHT token joined as a private network.
  const dhtToken = (await runPeerstore(['invite', '--home', a])).stdout.trim()
  const c = tempDir(t, 'home')
  const join = await runPeerstore(['join', '--home', c, '--bootstrap', '127.0.0.1:40001,127.0.0.1:40002', dhtToken])
  t.is(join.code, 0, join.stderr)
  t.is(readJson(c).discovery, 'private')
  t.alike(readJson(c).bootstrap, ['127.0.0.1:40001', '127.0.0.1:40002'])

  // Homes written before the discovery mode: bootstrap addresses are a private network, none is alone.
  const old = tempDir(t, 'home')
  t.is((await runPeerstore(['init', '--home', old])).code, 0)
  const key = readJson(old).networkKey
  fs.writeFileSync(path.join(old, 'config.json'), JSON.stringify({ networkKey: key, bootstrap: [], replicas: 3 }))
  const alone = JSON.parse((await runPeerstore(['status', '--home', old, '--json'])).stdout)
  t.alike(alone.discovery, { mode: 'alone', bootstrap: [] })
  fs.writeFileSync(
    path.join(old, 'config.json'),
    JSON.stringify({ networkKey: key, bootstrap: ['127.0.0.1:49737'], replicas: 3 })
  )
  const oldInvite = await runPeerstore(['invite', '--home', old, '--json'])
  t.alike(JSON.parse(oldInvite.stdout).bootstrap, ['127.0.0.1:49737'])
  t.is(JSON.parse(oldInvite.stdout).discovery, 'private')

  const bad = await runPeerstore(['invite', '--home', a, '--bootstrap', ','])
  t.is(bad.code, 1, 'an empty --bootstrap list is refused, not a DHT token')
  const badDht = await runPeerstore(['status', '--home', b, '--dht-bootstrap', ','])
  t.is(badDht.code, 1, 'so is an empty --dht-bootstrap')
  t.ok(badDht.stderr.includes('at least one HOST:PORT'), badDht.stderr)
})
