// `peerstore devices revoke NAME` (docs/devices.md): on a real ring, one
// user's two computers; A revokes B. Storage nodes then refuse what B signs:
// B's new changes never reach the ring, and B's mount says why. A's writes
// still land (a third computer of the user, restored from the phrase, lists
// them from the ring), and what B wrote before the revocation still reads.

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { runPeerstore } from '../helpers/cli'
import { sh } from '../helpers/mount'
import { startTwoDevices } from '../helpers/ring-mounts'
import { tempDir } from '../helpers/temp-dir'
import { sleep, waitFor } from '../helpers/wait'

const PORT = 45_000 + Math.floor(Math.random() * 1000)

test('devices revoke: the revoked computer can no longer write; the other still can', {
  timeout: 300_000
}, async (t) => {
  const { a, b, homeA } = await startTwoDevices(t, {
    port: PORT,
    prefix: 'revoke',
    argsA: ['--device-name', 'laptop'],
    argsB: ['--device-name', 'stolen']
  })
  const wait = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) =>
    waitFor(what, check, { timeoutMs, intervalMs: 100, retryErrors: true }).catch((err: Error) =>
      t.fail(`${err.message}\n--- A:\n${a.output()}\n--- B:\n${b.output()}`)
    )
  const read = (file: string) => fs.readFileSync(file, 'utf8')

  // Before: B writes, A reads it.
  fs.writeFileSync(path.join(b.dir, 'before.txt'), 'from B before\n')
  sh(`sync ${path.join(b.dir, 'before.txt')} ${b.dir}`)
  await wait("B's file on A", () => read(path.join(a.dir, 'before.txt')) === 'from B before\n')
  await wait('both computers listed', async () => {
    const res = await runPeerstore(['devices', '--json', '--home', homeA])
    return res.code === 0 && JSON.parse(res.stdout).length === 2
  })

  const self = await runPeerstore(['devices', 'revoke', 'laptop', '--home', homeA])
  t.is(self.code, 1, 'a computer does not revoke itself')
  t.ok(self.stderr.includes('this computer'), self.stderr)
  const unknown = await runPeerstore(['devices', 'revoke', 'nosuch', '--home', homeA])
  t.is(unknown.code, 1)
  t.ok(unknown.stderr.includes("no computer named 'nosuch'"), unknown.stderr)

  const revoke = await runPeerstore(['devices', 'revoke', 'stolen', '--home', homeA])
  t.is(revoke.code, 0, revoke.stderr)
  t.ok(revoke.stdout.includes("revoked 'stolen'"), revoke.stdout)
  // B wrote before.txt and the folder listing it last: both are signed again, by A.
  const resigned = Number(/(\d+) files and folders it wrote last \(and \d+ other records\)/.exec(revoke.stdout)?.[1])
  t.is(resigned, 2, 'the records B wrote last are re-signed by A')
  const listed = JSON.parse((await runPeerstore(['devices', '--json', '--home', homeA])).stdout) as { name: string }[]
  t.alike(
    listed.map((d) => d.name),
    ['laptop'],
    'the revoked computer left the list'
  )

  // After: B's change is refused by the storage nodes, and its mount says so.
  fs.writeFileSync(path.join(b.dir, 'after.txt'), 'from B after\n')
  try {
    sh(`sync ${path.join(b.dir, 'after.txt')} ${b.dir}`)
  } catch {
    // fsync fails: the change could not be stored.
  }
  await wait('B told that it was revoked', () => /revoked by its user/.test(b.output()), 40_000)
  t.pass(
    b
      .output()
      .split('\n')
      .find((l) => l.includes('revoked by its user')) ?? ''
  )

  // A still writes: a new computer of the same user (restored from the phrase) finds A's change in the ring.
  fs.writeFileSync(path.join(a.dir, 'from-a.txt'), 'A after the revocation\n')
  sh(`sync ${path.join(a.dir, 'from-a.txt')} ${a.dir}`)
  const homeC = tempDir(t, 'revoke-c')
  const phrase = JSON.parse((await runPeerstore(['recovery', '--yes-show-secret', '--json', '--home', homeA])).stdout)
    .recoveryPhrase as string
  t.is((await runPeerstore(['init', '--recover', '--home', homeC], { input: `${phrase}\n` })).code, 0)
  const invite = (await runPeerstore(['invite', '--home', homeA])).stdout.trim()
  t.is((await runPeerstore(['join', '--home', homeC, invite])).code, 0)
  const ls = await runPeerstore(['ls', '--json', '/', '--home', homeC], { timeoutMs: 180_000 })
  t.is(ls.code, 0, ls.stderr)
  const names = ls.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => (JSON.parse(l) as { name: string }).name)
    .sort()
  t.alike(names, ['before.txt', 'from-a.txt'], "the ring has A's new file and B's earlier one, not B's refused one")
  t.is(read(path.join(a.dir, 'before.txt')), 'from B before\n', 'what B wrote before still reads on A')
  // Given the time A's change took, B's would have arrived by now if it had been stored.
  await sleep(3000)
  t.absent(fs.existsSync(path.join(a.dir, 'after.txt')), "B's change after the revocation never reached A")
})
