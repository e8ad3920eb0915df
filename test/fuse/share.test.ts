// Sharing between users through the real CLI and real mounts: three users
// (three homes, three identities) run `peerstore mount` as members of one
// ring on 127.0.0.1. A shares a folder and a file with B (`share` reaches A's
// running mount); B accepts the token and its mount shows them read-only
// under @shared/ (sha256 match); a file A adds later shows up; writes there
// fail with EROFS; C can neither use B's token nor see anything; after
// `unshare`, B loses the folder and what A writes next, while C, granted the
// folder too (and following A by user id, without a token), keeps reading. No plaintext name or content is in any home
// (the ring nodes' stores included).

import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { runPeerstore } from '../helpers/cli'
import { sh, startMount } from '../helpers/mount'
import { startBootstrap } from '../helpers/ring-mounts'
import { waitForPeers } from '../helpers/peers'
import { tempDir } from '../helpers/temp-dir'
import { waitFor } from '../helpers/wait'

const PORT = 47_000 + Math.floor(Math.random() * 1000)
const DEADLINE_MS = 20_000

/** Polls `check` until true; errors (ENOENT while a change travels) count as false. */
const until = (what: string, check: () => boolean) =>
  waitFor(what, check, { timeoutMs: DEADLINE_MS, intervalMs: 100, retryErrors: true })

const ls = (dir: string) => fs.readdirSync(dir).sort().join(',')
const sha = (file: string) => sh(`sha256sum < ${JSON.stringify(file)}`)
/** The errno code a filesystem call fails with, or 'ok'. */
const errCode = (fn: () => unknown) => {
  try {
    fn()
    return 'ok'
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err)
  }
}

test('users share a file and a folder read-only through their mounts; unshare revokes', {
  timeout: 400_000
}, async (t) => {
  await startBootstrap(t, PORT)

  const homeA = tempDir(t, 'share-a')
  const homeB = tempDir(t, 'share-b')
  const homeC = tempDir(t, 'share-c')
  t.is((await runPeerstore(['init', '--home', homeA, '--bootstrap', `127.0.0.1:${PORT}`])).code, 0)
  // A plain invite (no --device): B and C join the network as users of their own.
  const invite = await runPeerstore(['invite', '--home', homeA])
  t.is(invite.code, 0, invite.stderr)
  for (const home of [homeB, homeC]) {
    const join = await runPeerstore(['join', '--home', home, invite.stdout.trim()])
    t.is(join.code, 0, join.stderr)
  }
  const ids: Record<string, string> = {}
  for (const [who, home] of [
    ['a', homeA],
    ['b', homeB],
    ['c', homeC]
  ]) {
    const res = await runPeerstore(['whoami', '--json', '--home', home])
    t.is(res.code, 0, res.stderr)
    ids[who] = JSON.parse(res.stdout).userId
    t.ok(ids[who].startsWith('peerstore-user1'), `${who}: ${ids[who]}`)
  }
  t.is(new Set(Object.values(ids)).size, 3, 'three different users')

  const host = ['--host', '127.0.0.1']
  const a = await startMount(t, { home: homeA, args: host, readyTimeoutMs: 60_000 })
  const b = await startMount(t, { home: homeB, args: host, readyTimeoutMs: 60_000 })
  const c = await startMount(t, { home: homeC, args: host, readyTimeoutMs: 60_000 })
  await waitForPeers([homeA, homeB, homeC], 2)

  const marker = `plain${randomBytes(8).toString('hex')}`
  const secretName = `secret${randomBytes(8).toString('hex')}`
  try {
    const A = a.dir
    const B = b.dir
    const C = c.dir
    fs.mkdirSync(path.join(A, 'docs', 'sub'), { recursive: true })
    fs.writeFileSync(
      path.join(A, 'docs', `${secretName}.txt`),
      Buffer.concat([Buffer.from(marker), randomBytes(300_000)])
    )
    fs.writeFileSync(path.join(A, 'docs', 'sub', 'deep.bin'), randomBytes(2 * 1024 * 1024 + 5))
    fs.writeFileSync(path.join(A, 'top.txt'), `top ${marker}\n`)
    sh(`sync ${A}/docs/* ${A}/docs/sub/* ${A}/top.txt`)

    // Bad input: one clear line and a non-zero exit.
    const badUser = await runPeerstore(['share', '/docs', 'peerstore-user1garbage', '--home', homeA])
    t.is(badUser.code, 1, 'a malformed user id is refused')
    t.ok(badUser.stderr.includes('user id'), badUser.stderr.trim())
    const badPath = await runPeerstore(['share', '/nope', ids.b, '--home', homeA])
    t.is(badPath.code, 1, 'an unknown path is refused')
    t.ok(badPath.stderr.includes('/nope: no such file or folder'), badPath.stderr.trim())
    const badToken = await runPeerstore(['accept', 'peerstore-share2AAAA', '--home', homeB])
    t.is(badToken.code, 1, 'a malformed token is refused')
    t.is(badToken.stderr.trim().split('\n').length, 1, badToken.stderr.trim())

    // A's mount runs: `share` goes through it.
    const shareDocs = await runPeerstore(['share', '/docs', ids.b, '--home', homeA])
    t.is(shareDocs.code, 0, shareDocs.stderr)
    const tokenDocs = shareDocs.stdout.trim()
    t.ok(tokenDocs.startsWith('peerstore-share2'), 'a share token')
    const shareTop = await runPeerstore(['share', '/top.txt', ids.b, '--home', homeA])
    t.is(shareTop.code, 0, shareTop.stderr)

    // C cannot use the token sealed to B.
    const stolen = await runPeerstore(['accept', tokenDocs, '--home', homeC])
    t.is(stolen.code, 1, 'C is refused B’s token')
    t.ok(stolen.stderr.includes('for another user'), stolen.stderr.trim())
    t.is(stolen.stderr.trim().split('\n').length, 1, 'in one line')

    for (const token of [tokenDocs, shareTop.stdout.trim()]) {
      const acc = await runPeerstore(['accept', token, '--home', homeB])
      t.is(acc.code, 0, acc.stderr)
    }
    const label = `user-${JSON.parse((await runPeerstore(['whoami', '--json', '--home', homeA])).stdout).publicKey.slice(0, 12)}`
    const share = path.join(B, '@shared', label)
    await until('B lists the shares', () => ls(share) === 'docs,top.txt')
    t.is(ls(path.join(share, 'docs')), `${secretName}.txt,sub`)
    t.is(sha(path.join(share, 'docs', `${secretName}.txt`)), sha(path.join(A, 'docs', `${secretName}.txt`)))
    t.is(sha(path.join(share, 'docs', 'sub', 'deep.bin')), sha(path.join(A, 'docs', 'sub', 'deep.bin')), 'sha256 match')
    t.is(fs.readFileSync(path.join(share, 'top.txt'), 'utf8'), `top ${marker}\n`, 'the shared file')
    t.is(fs.statSync(path.join(share, 'top.txt')).size, `top ${marker}\n`.length)

    // Read-only: every kind of write is refused with EROFS (never EIO).
    const refused = (code: string) => code === 'EROFS' || code === 'EACCES'
    const writes: Record<string, () => unknown> = {
      create: () => fs.writeFileSync(path.join(share, 'docs', 'new.txt'), 'x'),
      overwrite: () => fs.writeFileSync(path.join(share, 'top.txt'), 'x'),
      append: () => fs.appendFileSync(path.join(share, 'docs', 'sub', 'deep.bin'), 'x'),
      mkdir: () => fs.mkdirSync(path.join(share, 'docs', 'newdir')),
      unlink: () => fs.unlinkSync(path.join(share, 'top.txt')),
      rmdir: () => fs.rmdirSync(path.join(share, 'docs', 'sub')),
      rename: () => fs.renameSync(path.join(share, 'top.txt'), path.join(share, 'moved.txt')),
      'rename out': () => fs.renameSync(path.join(share, 'top.txt'), path.join(B, 'stolen.txt')),
      chmod: () => fs.chmodSync(path.join(share, 'top.txt'), 0o666),
      truncate: () => fs.truncateSync(path.join(share, 'top.txt'), 0),
      'mkdir @shared': () => fs.mkdirSync(path.join(B, '@shared', 'mine'))
    }
    for (const [what, fn] of Object.entries(writes)) {
      const code = errCode(fn)
      t.ok(refused(code), `${what}: ${code}`)
    }
    t.is(fs.readFileSync(path.join(share, 'top.txt'), 'utf8'), `top ${marker}\n`, 'unchanged')

    // A adds a file to the shared folder later: B sees it.
    fs.writeFileSync(path.join(A, 'docs', 'later.txt'), 'added later\n')
    sh(`sync ${A}/docs/later.txt ${A}/docs`)
    await until('the later file in B', () => {
      return fs.readFileSync(path.join(share, 'docs', 'later.txt'), 'utf8') === 'added later\n'
    })
    t.pass('a file added after the share shows up')

    // C has no grant: no @shared at all.
    t.absent(fs.existsSync(path.join(C, '@shared')), 'C sees no shares')

    // C is granted the folder too, then B is revoked.
    const forC = await runPeerstore(['share', '/docs', ids.c, '--home', homeA])
    t.is(forC.code, 0, forC.stderr)
    t.ok(forC.stdout.startsWith('peerstore-share2'))
    // C follows A by user id, without the token: C's mount finds the share in A's inbox for C.
    t.is((await runPeerstore(['accept', ids.a, '--home', homeC])).code, 0)
    const shareC = path.join(C, '@shared', label)
    await until(
      'C reads the folder',
      () => fs.readFileSync(path.join(shareC, 'docs', 'later.txt'), 'utf8') === 'added later\n'
    )
    const unshare = await runPeerstore(['unshare', '/docs', ids.b, '--json', '--home', homeA])
    t.is(unshare.code, 0, unshare.stderr)
    t.alike(JSON.parse(unshare.stdout).kept, [ids.c], 'C keeps access')
    fs.writeFileSync(path.join(A, 'docs', 'after.txt'), `after ${marker}\n`)
    sh(`sync ${A}/docs/after.txt ${A}/docs`)

    await until('the folder gone from B', () => ls(share) === 'top.txt')
    t.is(
      errCode(() => fs.readFileSync(path.join(share, 'docs', 'after.txt'))),
      'ENOENT',
      'B cannot read new content'
    )
    t.is(fs.readFileSync(path.join(share, 'top.txt'), 'utf8'), `top ${marker}\n`, 'B keeps the file share')
    await until('C reads new content', () => {
      return fs.readFileSync(path.join(shareC, 'docs', 'after.txt'), 'utf8') === `after ${marker}\n`
    })
    t.is(
      sha(path.join(shareC, 'docs', 'sub', 'deep.bin')),
      sha(path.join(A, 'docs', 'sub', 'deep.bin')),
      'C reads re-keyed content'
    )
    const again = await runPeerstore(['unshare', '/docs', ids.b, '--home', homeA])
    t.is(again.code, 1, 'unshare of what is no longer shared')
    t.ok(again.stderr.includes('is not shared with'), again.stderr.trim())

    // Nothing readable in any home: the nodes' stores, journals, caches.
    for (const s of [marker, secretName]) {
      const hits = sh(`grep -rl -e ${s} ${homeA} ${homeB} ${homeC} 2>/dev/null || true`)
      t.is(hits.trim(), '', `no plaintext ${s === marker ? 'contents' : 'names'} in any home`)
    }
  } catch (err) {
    t.fail(`${(err as Error).message}\n--- A:\n${a.output()}\n--- B:\n${b.output()}\n--- C:\n${c.output()}`)
    return
  }
  t.is(await c.stop(), 0)
  t.is(await b.stop(), 0)
  t.is(await a.stop(), 0)
})
