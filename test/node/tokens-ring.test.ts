// Issue 15, end to end on a real ring on 127.0.0.1: an invite or device token
// with one character changed inside its network key used to join a network of
// one, where the node sat alone; now `join` refuses it and leaves the home
// empty, and the untouched token's node finds the inviter's ring.
// (Every kind of damage, without a ring: test/cli/tokens.test.ts.)

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { runPeerstore } from '../helpers/cli'
import { waitForPeers } from '../helpers/peers'
import { startDaemon } from '../helpers/processes'
import { startBootstrap } from '../helpers/ring-mounts'
import { tempDir } from '../helpers/temp-dir'

const PORT = 49_000 + Math.floor(Math.random() * 1000)

/** `token` with one character of its network key (the first bytes after the prefix) replaced. */
function mistyped(token: string, prefix: string): string {
  const i = prefix.length + 10
  return token.slice(0, i) + (token[i] === 'x' ? 'y' : 'x') + token.slice(i + 1)
}

test('a mistyped invite or device token joins nothing; the untouched ones join the ring', async (t) => {
  t.timeout(240_000)
  process.setMaxListeners(50)
  await startBootstrap(t, PORT)
  const a = tempDir(t, 'tokens-ring-a')
  t.is((await runPeerstore(['init', '--home', a, '--bootstrap', `127.0.0.1:${PORT}`])).code, 0)
  const invite = (await runPeerstore(['invite', '--home', a])).stdout.trim()
  const device = (await runPeerstore(['invite', '--device', '--home', a])).stdout.trim()

  const homes = [a]
  for (const [token, prefix] of [
    [invite, 'peerstore-invite2'],
    [device, 'peerstore-device2']
  ]) {
    const home = path.join(tempDir(t, 'tokens-ring'), 'home')
    const bad = await runPeerstore(['join', '--home', home, mistyped(token, prefix)])
    t.is(bad.code, 1, `${prefix}: a mistyped token is refused`)
    t.ok(bad.stderr.includes('damaged'), bad.stderr.trim())
    t.absent(fs.existsSync(home), `${prefix}: and nothing is joined`)
    const join = await runPeerstore(['join', '--home', home, token])
    t.is(join.code, 0, join.stderr)
    homes.push(home)
  }

  const servers = homes.map((home) => {
    const d = startDaemon(t, ['serve', '--home', home, '--host', '127.0.0.1'])
    process.once('exit', () => d.child.kill('SIGKILL'))
    return d
  })
  await Promise.all(servers.map((s) => s.waitFor('serving node', 60_000)))
  await waitForPeers(homes, 2, 90_000)
  const status = JSON.parse((await runPeerstore(['status', '--home', homes[2], '--json'])).stdout)
  t.is(status.peers, 2, "the device token's node sees the inviter and the invited node")
  t.ok(status.member, 'a ring member')
})
