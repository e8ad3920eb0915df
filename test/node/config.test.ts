import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { runPeerstore } from '../helpers/cli'
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
  t.is((await runPeerstore(['init', '--home', home])).code, 0)
  const lone = await runPeerstore(['invite', '--home', home])
  t.is(lone.code, 1, 'no token for a network nobody can find')
  t.ok(lone.stderr.includes('no bootstrap address'), lone.stderr)
  const missing = await runPeerstore(['join', '--home', home])
  t.is(missing.code, 2, 'missing TOKEN is a usage error')
})
