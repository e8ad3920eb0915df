// Issue 15: a mistyped invite, device or share token is refused as damaged,
// through the real CLI, and nothing is joined or accepted; the untouched
// token still works. Every damaged copy: one character replaced by another
// base64url character at 40 positions spread over the token, the token cut
// short, and one character dropped. No sockets: the homes name a bootstrap
// address but `invite`, `join`, `share` and `accept` open none.
// (Each single change at every position, in the helper: test/crypto/checked-token.test.ts;
// a joined home in a running ring: test/node/serve-cli.test.ts, test/fuse/sync.test.ts.)

import fs from 'node:fs'
import path from 'node:path'
import test, { type Test } from 'brittle'
import { type CliResult, initHome, runPeerstore } from '../helpers/cli'
import { tempDir } from '../helpers/temp-dir'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const BOOT = '127.0.0.1:49737'
const POSITIONS = 40

/** Damaged copies of `token`: 40 single-character changes spread over its base64url part, a cut and a drop. */
function damagedCopies(token: string, prefix: string): { text: string; what: string }[] {
  const body = token.slice(prefix.length)
  const copies: { text: string; what: string }[] = []
  for (let n = 0; n < POSITIONS; n++) {
    const i = Math.round((n * (body.length - 1)) / (POSITIONS - 1))
    // A different replacement for each position, never the character already there.
    let ch = ALPHABET[(ALPHABET.indexOf(body[i]) + 1 + ((n * 7) % 63)) % 64]
    if (ch === body[i]) ch = ALPHABET[(ALPHABET.indexOf(ch) + 1) % 64]
    copies.push({ text: prefix + body.slice(0, i) + ch + body.slice(i + 1), what: `'${ch}' at ${i}` })
  }
  copies.push({ text: token.slice(0, -10), what: 'cut short by 10' })
  copies.push({ text: token.slice(0, Math.floor(token.length / 2)), what: 'cut in half' })
  const mid = prefix.length + Math.floor(body.length / 2)
  copies.push({ text: token.slice(0, mid) + token.slice(mid + 1), what: `character ${mid} dropped` })
  copies.push({ text: token.slice(0, -1), what: 'last character dropped' })
  return copies
}

/** Every file under `dir` with its bytes, to show that a refused command changed nothing. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>()
  if (!fs.existsSync(dir)) return files
  for (const name of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const file = path.join(dir, name)
    files.set(name, fs.statSync(file).isFile() ? fs.readFileSync(file).toString('hex') : 'dir')
  }
  return files
}

/** Runs every damaged copy; each must exit 1 with one line saying the token is damaged. Returns how many did. */
async function refuseAll(
  t: Test,
  copies: { text: string; what: string }[],
  run: (text: string) => Promise<CliResult>,
  what: string
): Promise<void> {
  let refused = 0
  for (const copy of copies) {
    const res = await run(copy.text)
    const ok = res.code === 1 && res.stderr.includes(`${what} is damaged (mistyped or cut short)`) && res.stdout === ''
    if (ok) refused++
    else t.fail(`${copy.what}: exit ${res.code}, ${res.stderr.trim() || res.stdout.trim()}`)
  }
  t.is(refused, copies.length, `all ${copies.length} damaged ${what}s refused as damaged, exit 1`)
}

test('invite and device tokens: every damaged copy is refused and joins nothing; the token joins', async (t) => {
  t.timeout(180_000)
  const a = tempDir(t, 'tokens-a')
  t.is((await runPeerstore(['init', '--home', a, '--bootstrap', BOOT])).code, 0)
  const networkKey = JSON.parse(fs.readFileSync(path.join(a, 'config.json'), 'utf8')).networkKey as string

  const invite = (await runPeerstore(['invite', '--home', a])).stdout.trim()
  t.ok(invite.startsWith('peerstore-invite2'), invite)
  const device = (await runPeerstore(['invite', '--device', '--home', a])).stdout.trim()
  t.ok(device.startsWith('peerstore-device2'), device)

  for (const [token, prefix, what] of [
    [invite, 'peerstore-invite2', 'invite token'],
    [device, 'peerstore-device2', 'device token']
  ]) {
    // A new machine: a refused join must leave its home as it was (nothing at all).
    const fresh = path.join(tempDir(t, 'tokens-new'), 'home')
    await refuseAll(t, damagedCopies(token, prefix), (text) => runPeerstore(['join', '--home', fresh, text]), what)
    t.absent(fs.existsSync(fresh), `${what}: no home made by a refused join`)

    // A machine of another network, with --force: its config and identity stay as they were.
    const other = tempDir(t, 'tokens-other')
    t.is((await runPeerstore(['init', '--home', other])).code, 0)
    t.is((await runPeerstore(['whoami', '--home', other])).code, 0, 'it has a user identity too')
    const before = snapshot(other)
    await refuseAll(
      t,
      damagedCopies(token, prefix).slice(0, 8),
      (text) => runPeerstore(['join', '--force', '--home', other, text]),
      what
    )
    t.alike(snapshot(other), before, `${what}: --force with a damaged token changes nothing`)

    // The untouched token joins A's network.
    const join = await runPeerstore(['join', '--home', fresh, token])
    t.is(join.code, 0, join.stderr)
    t.ok(join.stdout.includes(`joined network ${networkKey.slice(0, 8)}…`), join.stdout.split('\n')[0])
    const config = JSON.parse(fs.readFileSync(path.join(fresh, 'config.json'), 'utf8'))
    t.is(config.networkKey, networkKey, `${what}: the network of the token`)
    t.alike(config.bootstrap, [BOOT])
  }

  // The device token made the new home the same user as A.
  const whoA = (await runPeerstore(['whoami', '--home', a])).stdout.trim()
  const joined = path.join(tempDir(t, 'tokens-device'), 'home')
  t.is((await runPeerstore(['join', '--home', joined, device])).code, 0)
  t.is((await runPeerstore(['whoami', '--home', joined])).stdout.trim(), whoA, 'the device token carries the user')
})

test('invite and device tokens of the first, unchecked formats are refused: ask for a new one', async (t) => {
  const home = path.join(tempDir(t, 'tokens-old'), 'home')
  // 'peerstore1' + a valid first-format body (network key, no bootstrap) as older builds printed it.
  const oldInvite = `peerstore1${Buffer.concat([Buffer.alloc(32, 7), Buffer.from([0])]).toString('base64url')}`
  for (const [old, hint] of [
    [oldInvite, "'peerstore invite'"],
    [oldInvite.replace('peerstore1', 'peerstore2'), "'peerstore invite --device'"]
  ]) {
    const res = await runPeerstore(['join', '--home', home, old])
    t.is(res.code, 1)
    t.ok(res.stderr.includes('older format with no checksum') && res.stderr.includes(hint), res.stderr.trim())
    t.is(res.stderr.trim().split('\n').length, 1, 'one line')
  }
  t.absent(fs.existsSync(home), 'nothing joined')
})

test('share tokens: every damaged copy is refused and accepts nothing; the token is accepted', async (t) => {
  t.timeout(180_000)
  const homeA = await initHome(tempDir(t, 'tokens-share-a'))
  const homeB = await initHome(tempDir(t, 'tokens-share-b'))
  const src = tempDir(t, 'tokens-share-src')
  fs.writeFileSync(path.join(src, 'a.txt'), 'hello\n')
  t.is((await runPeerstore(['backup', src, '--to', '/docs', '--home', homeA])).code, 0)
  const idB = (await runPeerstore(['whoami', '--home', homeB])).stdout.trim()
  const shared = await runPeerstore(['share', '/docs', idB, '--home', homeA])
  t.is(shared.code, 0, shared.stderr)
  const token = shared.stdout.trim()
  t.ok(token.startsWith('peerstore-share2'), token)

  const before = snapshot(homeB)
  await refuseAll(
    t,
    damagedCopies(token, 'peerstore-share2'),
    (text) => runPeerstore(['accept', text, '--home', homeB]),
    'share token'
  )
  t.absent(fs.existsSync(path.join(homeB, 'shares.json')), 'nothing accepted')
  t.alike(snapshot(homeB), before, "B's home unchanged")

  const old = await runPeerstore([
    'accept',
    `peerstore-share1${token.slice('peerstore-share2'.length)}`,
    '--home',
    homeB
  ])
  t.is(old.code, 1)
  t.ok(old.stderr.includes('older format') && old.stderr.includes("'peerstore share' again"), old.stderr.trim())

  // Wrapped over lines, as a mail client may send it, it is still whole.
  const wrapped = `${token.slice(0, 30)}\n${token.slice(30, 70)}\n${token.slice(70)}`
  const accepted = await runPeerstore(['accept', wrapped, '--home', homeB, '--json'])
  t.is(accepted.code, 0, accepted.stderr)
  t.is(JSON.parse(accepted.stdout).name, 'docs')
  const list = JSON.parse((await runPeerstore(['shares', '--json', '--home', homeB])).stdout)
  t.is(list.accepted.length, 1, 'B lists the share it accepted')
  t.is(list.accepted[0].from, (await runPeerstore(['whoami', '--home', homeA])).stdout.trim())
})
