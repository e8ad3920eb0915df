// A home must exist to be used (issue 16): a mistyped --home is refused by
// every verb but init, join and mount, and makes nothing there; the command
// that creates the user's identity says so and where its secret is.

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { runPeerstore } from '../helpers/cli'
import { tempDir } from '../helpers/temp-dir'

test('a directory that is not a home is refused, and nothing is made in it', async (t) => {
  const empty = tempDir(t, 'not-a-home')
  const missing = path.join(empty, 'typo')
  for (const home of [empty, missing]) {
    for (const args of [['whoami'], ['ls', '/'], ['status'], ['backup', empty], ['get', '/x', empty], ['shares']]) {
      const res = await runPeerstore([...args, '--home', home], { timeoutMs: 30_000 })
      t.is(res.code, 1, `${args[0]} exits 1`)
      t.ok(
        res.stderr.includes(`no PeerStore home at ${home}`) && res.stderr.includes("run 'peerstore init'"),
        res.stderr.trim()
      )
      t.is(res.stdout, '', `${args[0]} prints nothing on stdout`)
    }
  }
  t.alike(fs.readdirSync(empty), [], 'nothing written (no identity, no config)')
})

test('the first command to create the identity says so and where the secret is; later ones do not', async (t) => {
  const home = tempDir(t, 'home')
  t.is((await runPeerstore(['init', '--home', home])).code, 0)
  const first = await runPeerstore(['whoami', '--home', home])
  t.is(first.code, 0, first.stderr)
  t.ok(first.stderr.includes('created your user identity'), first.stderr)
  t.ok(first.stderr.includes(path.join(home, 'user.seed')), 'names the secret file')
  const again = await runPeerstore(['whoami', '--home', home])
  t.is(again.stdout, first.stdout, 'the same id')
  t.is(again.stderr, '', 'said only once')
})
