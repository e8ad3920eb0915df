// Mounts on a ring larger than k (issue 12, items 2 and 9): six `peerstore
// serve` processes (k = 3), a member mount and a client-only mount of the
// same user. Every serve node is SIGKILLed: both mounts keep working from
// their record copies (ls, cat of what they have seen, new writes), say so
// in `peerstore status` and the status xattr; the serve nodes come back and
// the offline writes merge, each mount seeing the other's. The member, alone,
// is isolated: it takes no record writes into its own node store (they would
// fork from what the others write meanwhile) and keeps them in its journal.

import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { sh, startMount } from '../helpers/mount'
import { startServeRing } from '../helpers/serve-ring'
import { waitForOneRing, waitForPeers } from '../helpers/peers'
import { tempDir } from '../helpers/temp-dir'
import { waitFor } from '../helpers/wait'

const PORT = 48_000 + Math.floor(Math.random() * 1000)
const SERVE_NODES = 6

function sha(file: string): string {
  return sh(`sha256sum ${file}`).split(' ')[0]
}

test('6-node ring: member and client-only mounts work offline and merge when the ring is back', {
  timeout: 420_000
}, async (t) => {
  const ring = await startServeRing(t, { port: PORT, nodes: SERVE_NODES, client: true })
  const homeM = ring.member
  const homeC = ring.client!
  const serveHomes = ring.serveHomes

  const args = ['--host', '127.0.0.1']
  const m = await startMount(t, { home: homeM, args, readyTimeoutMs: 90_000 })
  await waitForPeers([homeM, ...serveHomes], SERVE_NODES - 1, 120_000)
  // Stabilize settles first, so each write lands on its three machines.
  await waitForOneRing([homeM, ...serveHomes], SERVE_NODES + 1, 120_000)

  const src = tempDir(t, 'offline-src')
  fs.writeFileSync(path.join(src, 'big.bin'), randomBytes(3 * 1024 * 1024 + 5))
  fs.mkdirSync(path.join(m.dir, 'docs'))
  for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(m.dir, 'docs', `note-${i}.txt`), `note ${i}\n`)
  sh(`cp ${src}/big.bin ${m.dir}/docs/big.bin`)
  sh(`cd ${m.dir} && find . -print0 | xargs -0 sync`)
  const bigSum = sha(path.join(src, 'big.bin'))

  // The second computer, client-only: its first mount looks for the tree, then reads everything once (cached).
  const c = await startMount(t, { home: homeC, args: [...args, '--client-only'], readyTimeoutMs: 180_000 })
  await waitFor('the client sees the tree', () => fs.readdirSync(path.join(c.dir, 'docs')).length === 11, {
    timeoutMs: 60_000,
    intervalMs: 500,
    retryErrors: true
  })
  t.is(sha(path.join(c.dir, 'docs', 'big.bin')), bigSum, 'the client reads the big file (now in its cache)')
  const listing = sh(`cd ${c.dir} && ls -R`)

  // Every serve node dies.
  await Promise.all(ring.servers.map((s) => s.stop('SIGKILL')))
  const offlineAt = Date.now()

  // Member: the whole tree it has seen, its inline files, new writes.
  t.is(sh(`cd ${m.dir} && ls -R`), listing, 'member lists the whole tree offline')
  t.is(fs.readFileSync(path.join(m.dir, 'docs', 'note-3.txt'), 'utf8'), 'note 3\n', 'member reads a file offline')
  fs.writeFileSync(path.join(m.dir, 'docs', 'from-member-offline.txt'), 'written by the member offline\n')
  fs.mkdirSync(path.join(m.dir, 'made-offline'))
  const memberBig = randomBytes(1024 * 1024 + 3)
  fs.writeFileSync(path.join(m.dir, 'made-offline', 'blob.bin'), memberBig)

  // Client-only: the same, plus the cached big file.
  await waitFor('the client lists offline', () => sh(`cd ${c.dir} && ls -R`) === listing, {
    timeoutMs: 60_000,
    intervalMs: 500,
    retryErrors: true
  })
  t.pass(`client lists the whole tree offline (${Date.now() - offlineAt} ms after the kill)`)
  t.is(fs.readFileSync(path.join(c.dir, 'docs', 'note-7.txt'), 'utf8'), 'note 7\n', 'client reads a file offline')
  t.is(sha(path.join(c.dir, 'docs', 'big.bin')), bigSum, 'client reads the cached big file offline')
  fs.writeFileSync(path.join(c.dir, 'docs', 'from-client-offline.txt'), 'written by the client offline\n')
  const clientBig = randomBytes(2 * 1024 * 1024 + 7)
  fs.writeFileSync(path.join(c.dir, 'client-blob.bin'), clientBig)
  t.ok(fs.existsSync(path.join(c.dir, 'client-blob.bin')), 'the client took the write')

  // The member is isolated (every other member is gone): it says it is offline and what waits. (The
  // client still reaches a ring: the member's node, which takes its writes as the only machine left.)
  const statusOf = (home: string) =>
    JSON.parse(sh(`node ${path.join(__dirname, '..', '..', 'bin', 'peerstore.js')} status --home ${home} --json`))
  await waitFor(
    'peerstore status says offline',
    () => {
      const mount = statusOf(homeM).mount
      if (mount?.offline === true && mount.unsaved > 0) return true
      throw new Error(`status: ${JSON.stringify(mount)}`)
    },
    { timeoutMs: 60_000, intervalMs: 1000, retryErrors: true }
  )
  // The text form says the same. Polled too: the flag is the outcome of the store's last answer, and under
  // load one of the member's background reads can clear it until the next refused write sets it again.
  let text = ''
  await waitFor(
    'peerstore status (text) says offline',
    () => {
      text = sh(`node ${path.join(__dirname, '..', '..', 'bin', 'peerstore.js')} status --home ${homeM}`)
      return /mount\s+offline;.*OFFLINE for \d+ s: \d+ changed records wait/.test(text)
    },
    { timeoutMs: 60_000, intervalMs: 1000, retryErrors: true }
  ).catch(() => {})
  t.ok(
    /mount\s+offline;.*OFFLINE for \d+ s: \d+ changed records wait/.test(text),
    text.split('\n').find((l) => l.startsWith('mount'))
  )
  // A file written now, with the member known to be offline, waits: the xattr says so.
  fs.writeFileSync(path.join(m.dir, 'after-offline.txt'), 'waits for the ring\n')
  const xattr = sh(
    `python3 -c "import os;print(os.getxattr('${m.dir}/after-offline.txt','user.peerstore.status').decode())"`
  )
  t.ok(/offline=yes/.test(xattr) && /upload-pending=yes/.test(xattr), `xattr: ${xattr}`)

  // The ring comes back: the offline writes merge, and each computer sees the other's.
  await ring.restart()
  const back = Date.now()
  const seen = (dir: string, rel: string, want: string) => () =>
    fs.existsSync(path.join(dir, rel)) && fs.readFileSync(path.join(dir, rel), 'utf8') === want
  await waitFor(
    'the member sees the client offline note',
    seen(m.dir, 'docs/from-client-offline.txt', 'written by the client offline\n'),
    { timeoutMs: 180_000, intervalMs: 1000, retryErrors: true }
  )
  await waitFor(
    'the client sees the member offline note',
    seen(c.dir, 'docs/from-member-offline.txt', 'written by the member offline\n'),
    { timeoutMs: 180_000, intervalMs: 1000, retryErrors: true }
  )
  t.pass(`both offline notes crossed ${Date.now() - back} ms after the ring was back`)
  await waitFor(
    'the client sees the member blob',
    () => sha(path.join(c.dir, 'made-offline', 'blob.bin')) === sha256Of(memberBig),
    { timeoutMs: 120_000, intervalMs: 1000, retryErrors: true }
  )
  await waitFor(
    'the member sees the client blob',
    () => sha(path.join(m.dir, 'client-blob.bin')) === sha256Of(clientBig),
    { timeoutMs: 120_000, intervalMs: 1000, retryErrors: true }
  )
  await waitFor('the client sees the file written last', seen(c.dir, 'after-offline.txt', 'waits for the ring\n'), {
    timeoutMs: 120_000,
    intervalMs: 1000,
    retryErrors: true
  })
  t.is(sh(`ls ${m.dir}/docs | wc -l`).trim(), '13', 'no name lost or doubled in the member')
  t.is(sh(`ls ${c.dir}/docs | wc -l`).trim(), '13', 'no name lost or doubled in the client')
  t.is(await c.stop(), 0)
  t.is(await m.stop(), 0)
})

function sha256Of(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}
