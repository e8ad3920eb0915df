// The recovery phrase (docs/devices.md): `init` prints it once, `recovery`
// prints it again behind a flag, and `init --recover` on a new home restores
// the same user (same `whoami`), whose mount on the ring reads what the
// original computer wrote. A damaged phrase is refused and writes nothing.

import fs from 'node:fs'
import path from 'node:path'
import test, { type Test } from 'brittle'
import { runPeerstore } from '../helpers/cli'
import { sh, startMount } from '../helpers/mount'
import { waitForPeers } from '../helpers/peers'
import { startBootstrap } from '../helpers/ring-mounts'
import { tempDir } from '../helpers/temp-dir'
import { waitFor } from '../helpers/wait'

const PORT = 47_000 + Math.floor(Math.random() * 1000)

async function whoami(t: Test, home: string): Promise<string> {
  const res = await runPeerstore(['whoami', '--home', home])
  t.is(res.code, 0, res.stderr)
  return res.stdout.trim()
}

/** The 26 words of the numbered block `init` prints on stderr. */
function wordsOfBlock(stderr: string): string[] {
  return [...stderr.matchAll(/^\s*\d+\. (.*)$/gm)].flatMap((m) => m[1].trim().split(/\s+\d+\.\s+|\s+/))
}

test('init prints the phrase once; recovery shows it behind a flag; init --recover restores the same user', async (t) => {
  const a = tempDir(t, 'home')
  const init = await runPeerstore(['init', '--home', a])
  t.is(init.code, 0, init.stderr)
  t.ok(init.stderr.includes('write these 26 words down'), 'a block that says what to do with it')
  const printed = wordsOfBlock(init.stderr)
  t.is(printed.length, 26, printed.join(' '))
  const userA = await whoami(t, a)
  t.ok(init.stdout.includes(userA), 'init names the user it made')

  const refused = await runPeerstore(['recovery', '--home', a])
  t.is(refused.code, 1)
  t.ok(refused.stderr.includes('--yes-show-secret'), refused.stderr)
  t.absent(refused.stdout, 'nothing printed without the flag')
  const shown = await runPeerstore(['recovery', '--home', a, '--yes-show-secret', '--json'])
  t.is(shown.code, 0, shown.stderr)
  const phrase = JSON.parse(shown.stdout).recoveryPhrase as string
  t.is(phrase, printed.join(' '), 'recovery shows the phrase init printed')

  // From stdin, the way a person pastes it: other case, extra whitespace, a line break.
  const b = tempDir(t, 'home')
  const words = phrase.split(' ')
  const typed = `  ${words.slice(0, 13).join('  ').toUpperCase()}\n${words.slice(13).join(' ')}\n`
  const recover = await runPeerstore(['init', '--recover', '--home', b], { input: typed })
  t.is(recover.code, 0, recover.stderr)
  t.is(await whoami(t, b), userA, 'the same user id on the new home')
  t.alike(fs.readFileSync(path.join(b, 'user.seed')), fs.readFileSync(path.join(a, 'user.seed')))
  t.is(fs.statSync(path.join(b, 'user.seed')).mode & 0o777, 0o600)
  t.ok(fs.existsSync(path.join(b, 'user.adopted')), 'its first mount waits for the existing tree')
  t.absent(recover.stderr.includes('write these'), 'a restored identity does not print the phrase again')

  // --phrase works too, and restoring the same identity again is fine; another one is refused.
  const again = await runPeerstore(['init', '--recover', '--home', b, '--phrase', phrase])
  t.is(again.code, 0, again.stderr)
  const other = tempDir(t, 'home')
  t.is((await runPeerstore(['init', '--home', other])).code, 0)
  const otherPhrase = JSON.parse(
    (await runPeerstore(['recovery', '--home', other, '--yes-show-secret', '--json'])).stdout
  ).recoveryPhrase as string
  const clash = await runPeerstore(['init', '--recover', '--home', b, '--phrase', otherPhrase])
  t.is(clash.code, 1)
  t.ok(clash.stderr.includes('another user identity'), clash.stderr)
  t.is(await whoami(t, b), userA, 'left as it was')
})

test('a damaged phrase is refused clearly and writes nothing', async (t) => {
  const a = tempDir(t, 'home')
  t.is((await runPeerstore(['init', '--home', a])).code, 0)
  const phrase = JSON.parse((await runPeerstore(['recovery', '--home', a, '--yes-show-secret', '--json'])).stdout)
    .recoveryPhrase as string
  const words = phrase.split(' ')
  const with_ = (i: number, w: string) => words.map((x, j) => (j === i ? w : x)).join(' ')
  const swapped = (i: number, j: number) => words.map((x, k) => (k === i ? words[j] : k === j ? words[i] : x)).join(' ')
  // Two positions holding different words, so the swap really changes the phrase.
  const j = words.findIndex((w, k) => k > 3 && w !== words[3])
  const cases: [string, string, string][] = [
    ['a word changed', with_(5, words[5] === 'abandon' ? 'ability' : 'abandon'), 'damaged'],
    ['the last seed word changed', with_(23, words[23] === 'zoo' ? 'zone' : 'zoo'), 'damaged'],
    ['a check word changed', with_(25, words[25] === 'zoo' ? 'zone' : 'zoo'), 'damaged'],
    ['two words swapped', swapped(3, j), 'damaged'],
    ['two check words swapped', swapped(24, 25), words[24] === words[25] ? '' : 'damaged'],
    ['a word missing', words.slice(1).join(' '), '25 words, not 26'],
    ['a word misspelt', with_(7, `${words[7]}x`), "word 8 ('"],
    ['empty', '', '0 words']
  ]
  for (const [what, text, expect] of cases) {
    if (!expect) continue // the two check words are the same word: swapping them changes nothing
    const home = tempDir(t, 'home')
    const res = await runPeerstore(['init', '--recover', '--home', home], { input: `${text}\n` })
    t.is(res.code, 1, `${what}: refused`)
    t.ok(res.stderr.includes('recovery phrase') && res.stderr.includes(expect), `${what}: ${res.stderr.trim()}`)
    t.absent(fs.existsSync(path.join(home, 'user.seed')), `${what}: no identity written`)
    t.absent(fs.existsSync(path.join(home, 'config.json')), `${what}: no config written`)
  }
})

test('a home restored from the phrase mounts on the ring and reads what the original wrote', {
  timeout: 300_000
}, async (t) => {
  await startBootstrap(t, PORT)
  const homeA = tempDir(t, 'recover-a')
  const homeB = tempDir(t, 'recover-b')
  t.is((await runPeerstore(['init', '--home', homeA, '--bootstrap', `127.0.0.1:${PORT}`])).code, 0)
  const args = ['--host', '127.0.0.1']
  const a = await startMount(t, { home: homeA, args, readyTimeoutMs: 60_000 })
  fs.mkdirSync(path.join(a.dir, 'docs'))
  fs.writeFileSync(path.join(a.dir, 'docs', 'note.txt'), 'written on the lost computer\n')
  fs.writeFileSync(path.join(a.dir, 'top.bin'), Buffer.alloc(300_000, 7))
  // In the ring now, not only in A's journal: the original computer may be gone any moment.
  sh(`sync ${path.join(a.dir, 'docs', 'note.txt')} ${path.join(a.dir, 'top.bin')} ${path.join(a.dir, 'docs')} ${a.dir}`)

  const phrase = JSON.parse((await runPeerstore(['recovery', '--home', homeA, '--yes-show-secret', '--json'])).stdout)
    .recoveryPhrase as string
  const recover = await runPeerstore(['init', '--recover', '--home', homeB], { input: `${phrase}\n` })
  t.is(recover.code, 0, recover.stderr)
  t.ok(recover.stdout.includes('peerstore join'), 'says what comes next')
  // A plain invite: the network only, no identity in it.
  const invite = await runPeerstore(['invite', '--home', homeA])
  t.is(invite.code, 0, invite.stderr)
  const join = await runPeerstore(['join', '--home', homeB, invite.stdout.trim()])
  t.is(join.code, 0, join.stderr)
  t.is(await whoami(t, homeB), await whoami(t, homeA))

  const b = await startMount(t, { home: homeB, args, readyTimeoutMs: 150_000 })
  await waitForPeers([homeA, homeB], 1)
  await waitFor(
    'the original files on the restored home',
    () =>
      fs.readFileSync(path.join(b.dir, 'docs', 'note.txt'), 'utf8') === 'written on the lost computer\n' &&
      fs.readFileSync(path.join(b.dir, 'top.bin')).equals(Buffer.alloc(300_000, 7)),
    { timeoutMs: 30_000, intervalMs: 100, retryErrors: true }
  ).catch((err: Error) => {
    t.fail(`${err.message}\n--- A:\n${a.output()}\n--- B:\n${b.output()}`)
  })
  t.absent(fs.existsSync(path.join(homeB, 'user.adopted')), 'B found the tree: the marker is gone')
  t.is(fs.readdirSync(b.dir).sort().join(','), 'docs,top.bin', 'one tree, not a new empty one')
})
