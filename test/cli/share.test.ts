// `whoami`, `share`, `accept` and `unshare` without a mount: the CLI opens the
// home's Volume itself (as `ls` and `get` do). Bad input is one clear line
// and a non-zero exit. (Reading a share through a mount: test/fuse/share.test.ts.)

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { initHome, runPeerstore } from '../helpers/cli'
import { tempDir } from '../helpers/temp-dir'

test('share, accept and unshare from the CLI with no mount running', { timeout: 120_000 }, async (t) => {
  const homeA = await initHome(tempDir(t, 'cli-share-a'))
  const homeB = await initHome(tempDir(t, 'cli-share-b'))
  const homeC = await initHome(tempDir(t, 'cli-share-c'))
  const src = tempDir(t, 'cli-share-src')
  fs.writeFileSync(path.join(src, 'a.txt'), 'hello\n')
  const backup = await runPeerstore(['backup', src, '--to', '/docs', '--home', homeA])
  t.is(backup.code, 0, backup.stderr)

  const who = async (home: string) => (await runPeerstore(['whoami', '--home', home])).stdout.trim()
  const idA = await who(homeA)
  const idB = await who(homeB)
  t.ok(/^peerstore-user1[A-Za-z0-9_-]{48}$/.test(idB), idB)
  t.is(await who(homeB), idB, 'the same id every time')

  const one = (res: { code: number | null; stderr: string }, code: number, text: string, what: string) => {
    t.is(res.code, code, `${what}: exit ${code}`)
    t.ok(res.stderr.includes(text), `${what}: ${res.stderr.trim()}`)
    t.is(res.stderr.trim().split('\n').length, 1, `${what}: one line`)
  }

  const shared = await runPeerstore(['share', '/docs', idB, '--json', '--home', homeA])
  t.is(shared.code, 0, shared.stderr)
  const token = JSON.parse(shared.stdout).token as string
  t.ok(token.startsWith('peerstore-share2'))

  const accepted = await runPeerstore(['accept', token, '--home', homeB])
  t.is(accepted.code, 0, accepted.stderr)
  t.ok(accepted.stdout.includes(`@shared/user-`) && accepted.stdout.includes('/docs'), accepted.stdout.trim())
  t.is(fs.statSync(path.join(homeB, 'shares.json')).mode & 0o777, 0o600, 'shares.json is private')

  one(await runPeerstore(['accept', token, '--home', homeC]), 1, 'for another user', 'a token sealed to B, in C')
  one(
    await runPeerstore(['accept', `${token.slice(0, -6)}AAAAAA`, '--home', homeB]),
    1,
    'share token',
    'a damaged token'
  )
  one(await runPeerstore(['accept', 'hello', '--home', homeB]), 1, 'not a PeerStore share token', 'not a token')
  one(await runPeerstore(['share', '/docs', `${idB.slice(0, -2)}xx`, '--home', homeA]), 1, 'damaged', 'a mistyped id')
  one(await runPeerstore(['share', '/docs', 'bob', '--home', homeA]), 1, 'not a PeerStore user id', 'not an id')
  one(await runPeerstore(['share', '/missing', idB, '--home', homeA]), 1, 'no such file or folder', 'unknown path')
  one(await runPeerstore(['share', '/', idB, '--home', homeA]), 1, 'not your whole tree', 'the root')
  one(await runPeerstore(['share', '/docs', idA, '--home', homeA]), 1, 'your own user id', 'oneself')

  const follow = await runPeerstore(['accept', idA, '--home', homeC])
  t.is(follow.code, 0, follow.stderr)
  t.ok(follow.stdout.startsWith(`following ${idA}`), follow.stdout.trim())
  one(await runPeerstore(['accept', `${idA.slice(0, -2)}xx`, '--home', homeC]), 1, 'damaged', 'a mistyped id to follow')

  const listA = JSON.parse((await runPeerstore(['shares', '--json', '--home', homeA])).stdout)
  t.alike(listA.given, [{ to: idB, name: 'docs', type: 'dir' }], 'A lists what it shares')
  const listB = JSON.parse((await runPeerstore(['shares', '--json', '--home', homeB])).stdout)
  t.is(listB.accepted.length, 1, 'B lists what it accepted')
  t.is(listB.accepted[0].from, idA)

  const unshared = await runPeerstore(['unshare', '/docs', idB, '--home', homeA])
  t.is(unshared.code, 0, unshared.stderr)
  t.ok(unshared.stdout.includes('re-keyed 2 files and folders'), unshared.stdout.trim())
  one(await runPeerstore(['unshare', '/docs', idB, '--home', homeA]), 1, 'is not shared with', 'unshare twice')

  const ls = await runPeerstore(['ls', '/docs', '--home', homeA])
  t.ok(ls.stdout.includes('a.txt'), 'the re-keyed folder still holds its file')
  const got = tempDir(t, 'cli-share-got')
  t.is((await runPeerstore(['get', '/docs/a.txt', got, '--home', homeA])).code, 0)
  t.is(fs.readFileSync(path.join(got, 'a.txt'), 'utf8'), 'hello\n', 'and its content')
})
