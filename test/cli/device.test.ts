// A second computer of the same user: `peerstore invite --device` prints a
// token that also carries the user identity, `peerstore join TOKEN` stores it
// as user.seed (0600), refusing to replace another identity without --force.
// Damaged tokens fail clearly (every kind of damage: test/cli/tokens.test.ts).

import fs from 'node:fs'
import path from 'node:path'
import test, { type Test } from 'brittle'
import { randomBytes } from '../../lib/crypto'
import { encodeInvite } from '../../lib/node/invite-token'
import { initHome, runPeerstore } from '../helpers/cli'
import { tempDir } from '../helpers/temp-dir'

const BOOT = '127.0.0.1:49737'

async function deviceToken(t: Test, home: string): Promise<string> {
  const res = await runPeerstore(['invite', '--device', '--home', home, '--bootstrap', BOOT])
  t.is(res.code, 0, res.stderr)
  t.ok(res.stderr.includes('full access') || res.stderr.includes('all your files'), 'warns that it is a secret')
  const token = res.stdout.trim()
  t.ok(token.startsWith('peerstore-device2'), 'a device token')
  return token
}

test('invite --device / join: the second home gets the same user.seed, mode 0600', async (t) => {
  const a = await initHome(tempDir(t, 'home'))
  const b = tempDir(t, 'home')
  const token = await deviceToken(t, a)
  const seedA = fs.readFileSync(path.join(a, 'user.seed'))
  t.is(seedA.byteLength, 32, 'invite --device created the identity of a fresh home')

  const join = await runPeerstore(['join', '--home', b, token])
  t.is(join.code, 0, join.stderr)
  const seedFile = path.join(b, 'user.seed')
  t.alike(fs.readFileSync(seedFile), seedA, 'same identity')
  t.is(fs.statSync(seedFile).mode & 0o777, 0o600)
  t.ok(fs.existsSync(path.join(b, 'user.adopted')), 'marked: its first mount must find the existing tree')
  const ca = JSON.parse(fs.readFileSync(path.join(a, 'config.json'), 'utf8'))
  const cb = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8'))
  t.is(cb.networkKey, ca.networkKey, 'same network')
  t.ok(fs.existsSync(path.join(b, 'node.seed')), 'its own node identity')

  const again = await runPeerstore(['join', '--home', b, token])
  t.is(again.code, 0, 'joining again with the same identity is fine')

  const json = await runPeerstore(['invite', '--device', '--json', '--home', a, '--bootstrap', BOOT])
  t.is(JSON.parse(json.stdout).device, true)
})

test('join refuses to replace another user identity unless --force', async (t) => {
  const a = await initHome(tempDir(t, 'home'))
  const c = tempDir(t, 'home')
  const token = await deviceToken(t, a)
  // c is already in the same network, with its own user.
  const plain = await runPeerstore(['invite', '--home', a, '--bootstrap', BOOT])
  t.ok(plain.stdout.trim().startsWith('peerstore-invite2'), 'a plain invite')
  t.absent(plain.stderr.includes('full access'), 'and no warning')
  t.is((await runPeerstore(['join', '--home', c, plain.stdout.trim()])).code, 0)
  t.absent(fs.existsSync(path.join(c, 'user.seed')), 'a plain invite carries no identity')
  const other = randomBytes(32)
  fs.writeFileSync(path.join(c, 'user.seed'), other, { mode: 0o600 })

  const refused = await runPeerstore(['join', '--home', c, token])
  t.is(refused.code, 1)
  t.ok(refused.stderr.includes('another user identity') && refused.stderr.includes('--force'), refused.stderr)
  t.alike(fs.readFileSync(path.join(c, 'user.seed')), other, 'left as it was')

  // Unflushed changes of the old identity (its journal) block even --force.
  const journal = path.join(c, 'cache', 'journal')
  fs.mkdirSync(journal, { recursive: true })
  fs.writeFileSync(path.join(journal, '1.log'), 'x')
  const pending = await runPeerstore(['join', '--home', c, '--force', token])
  t.is(pending.code, 1)
  t.ok(pending.stderr.includes('not yet in the ring'), pending.stderr)
  fs.rmSync(path.join(journal, '1.log'))

  const forced = await runPeerstore(['join', '--home', c, '--force', token])
  t.is(forced.code, 0, forced.stderr)
  t.alike(fs.readFileSync(path.join(c, 'user.seed')), fs.readFileSync(path.join(a, 'user.seed')))
  t.is(fs.statSync(path.join(c, 'user.seed')).mode & 0o777, 0o600)
})

test('invite tokens made in code join; bad tokens fail with a clear error', async (t) => {
  const home = tempDir(t, 'home')
  const networkKey = randomBytes(32)
  const invite = encodeInvite({ networkKey, bootstrap: [{ host: '127.0.0.1', port: 49737 }] })
  t.ok(invite.startsWith('peerstore-invite2'))
  const ok = await runPeerstore(['join', '--home', home, invite])
  t.is(ok.code, 0, ok.stderr)
  t.is(JSON.parse(fs.readFileSync(path.join(home, 'config.json'), 'utf8')).networkKey, networkKey.toString('hex'))

  const device = encodeInvite({ networkKey, bootstrap: [], userSeed: randomBytes(32) })
  for (const bad of [
    'peerstore-device2',
    `${device.slice(0, -6)}`,
    `${device}AAAA`,
    `${device.slice(0, 20)}!${device.slice(21)}`,
    invite.replace('peerstore-invite2', 'peerstore-device2')
  ]) {
    const res = await runPeerstore(['join', '--home', home, bad])
    t.is(res.code, 1, `refused: ${bad.slice(0, 20)}…`)
    t.ok(res.stderr.includes('damaged'), res.stderr)
  }
  const wrong = await runPeerstore(['join', '--home', home, 'hello'])
  t.is(wrong.code, 1)
  t.ok(wrong.stderr.includes('not a PeerStore invite token'))
  t.absent(fs.existsSync(path.join(home, 'user.seed')), 'no identity written by a refused token')
})
