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
  // init makes the identity (with its recovery phrase): it says so, and later commands do not.
  const init = await runPeerstore(['init', '--home', home])
  t.is(init.code, 0, init.stderr)
  t.ok(init.stderr.includes('created your user identity'), init.stderr)
  t.ok(init.stderr.includes(path.join(home, 'user.seed')), 'names the secret file')
  const first = await runPeerstore(['whoami', '--home', home])
  t.is(first.code, 0, first.stderr)
  t.is(first.stderr, '', 'said only once')
  const again = await runPeerstore(['whoami', '--home', home])
  t.is(again.stdout, first.stdout, 'the same id')
})
