// `peerstore status` tells the truth about the ring (issue 16): its size, its
// machines with their shares, replication against what that ring can hold
// (a ring smaller than k holds no key at target), and a stopped node's store.
// Real `serve` processes, asked through the real CLI.

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { randomBytes } from '../../lib/crypto'
import type { NodeStatus } from '../../lib/node/ring-node'
import { runPeerstore } from '../helpers/cli'
import { waitForOneRing } from '../helpers/peers'
import { sh, startMount } from '../helpers/mount'
import { startServeRing } from '../helpers/serve-ring'
import { tempDir } from '../helpers/temp-dir'
import { waitFor } from '../helpers/wait'

const PORT = 45_000 + Math.floor(Math.random() * 1000)
const BLOCK_BYTES = 10_000

async function statusOf(home: string): Promise<NodeStatus & { running: boolean }> {
  const res = await runPeerstore(['status', '--home', home, '--json'], { timeoutMs: 60_000 })
  if (res.code !== 0) throw new Error(`status failed: ${res.stderr}`)
  return JSON.parse(res.stdout)
}

async function statusText(home: string): Promise<string> {
  return (await runPeerstore(['status', '--home', home], { timeoutMs: 60_000 })).stdout
}

async function putBlocks(t: import('brittle').Test, home: string, n: number): Promise<void> {
  const dir = tempDir(t, 'blocks')
  for (let i = 0; i < n; i++) {
    const file = path.join(dir, `b${i}`)
    fs.writeFileSync(file, randomBytes(BLOCK_BYTES))
    const put = await runPeerstore(['block', 'put', file, '--home', home], { timeoutMs: 120_000 })
    t.is(put.code, 0, put.stderr)
  }
}

test('status on a ring of one machine with k=3: its keys are under target, and it says why', async (t) => {
  t.timeout(180_000)
  const ring = await startServeRing(t, { port: PORT, nodes: 1 })
  const home = ring.serveHomes[0]
  await putBlocks(t, home, 2)
  const s = await statusOf(home)
  t.is(s.running, true)
  t.is(s.ringSize, 1, 'a ring of 1 machine')
  t.is(s.machines?.length, 1, 'one machine listed')
  t.is(s.underReplicated, 2, 'both keys under target (the ring cannot hold 3 copies)')
  t.is(s.replication?.reason, 'ring of 1 machine cannot hold 3 copies')
  t.is(s.version, JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')).version)
  const text = await statusText(home)
  t.ok(/^ring {9}1 machine\b/m.test(text), text)
  t.ok(text.includes('2 keys held here under target: ring of 1 machine cannot hold 3 copies'), text)
  t.absent(text.includes('0 keys under target'), 'never "0 keys under target" on a ring of one')
})

test('a mount on a one-machine home: status agrees with the file xattr (1/3 copies: under target)', async (t) => {
  t.timeout(120_000)
  const m = await startMount(t)
  const file = path.join(m.dir, 'a.bin')
  fs.writeFileSync(file, randomBytes(100_000))
  sh(`sync ${file}`)
  // Its chunks and its records (the file's, its folder's): the text below says "everything stored" only then.
  await waitFor(
    'the file stored',
    async () => {
      const mount = (await statusOf(m.home)).mount
      return mount?.pendingChunks === 0 && mount.unsaved === 0
    },
    30_000
  )
  const xattr = sh(`python3 -c "import os;print(os.getxattr('${file}','user.peerstore.status').decode())"`).trim()
  t.ok(xattr.startsWith('replicas=1/3'), xattr)
  const s = await statusOf(m.home)
  t.is(s.ringSize, 1)
  t.ok(s.keys > 0 && s.underReplicated === s.keys, `all ${s.keys} keys under target, as the xattr says`)
  const text = await statusText(m.home)
  t.ok(text.includes('ring of 1 machine cannot hold 3 copies'), text)
  t.ok(/^mount {8}everything stored/m.test(text), text)
  t.is(await m.stop(), 0)
})

test('status on a ring of four: four machines with their bytes; two killed: two machines, keys under target; a stopped node shows its store', async (t) => {
  t.timeout(420_000)
  const ring = await startServeRing(t, { port: PORT + 1000, nodes: 4 })
  const homes = ring.serveHomes
  await waitForOneRing(homes, 4, 120_000)
  const blocks = 6
  await putBlocks(t, homes[0], blocks)

  // Every value is on 3 of the 4 machines: the shares add up to 3 copies of each.
  let four = await statusOf(homes[0])
  await waitFor(
    'four machines reporting their shares',
    async () => {
      four = await statusOf(homes[0])
      const held = (four.machines ?? []).reduce((sum, m) => sum + (m.keys ?? 0), 0)
      return four.ringSize === 4 && held >= blocks * 3
    },
    { timeoutMs: 60_000, intervalMs: 1000, failOnTimeout: false }
  )
  t.is(four.ringSize, 4, 'ring of 4 machines')
  t.is(four.machines?.length, 4, 'four machines listed')
  t.alike(new Set(four.machines?.map((m) => m.key)), new Set(ring.nodeKeys), 'the four serve nodes')
  t.ok(
    four.machines?.every((m) => m.role === 'member' && typeof m.bytes === 'number'),
    'each a member with its bytes'
  )
  const bytes = (four.machines ?? []).reduce((sum, m) => sum + (m.bytes ?? 0), 0)
  t.ok(bytes >= blocks * 3 * BLOCK_BYTES, `3 copies of ${blocks} blocks across the machines (${bytes} bytes)`)
  t.ok(
    four.machines?.filter((m) => !m.self).every((m) => typeof m.lastSeen === 'number'),
    'each other machine seen'
  )
  t.is(four.underReplicated, 0, 'nothing under target on a ring of 4 with k=3')
  const text4 = await statusText(homes[0])
  t.ok(/^ring {9}4 machines$/m.test(text4), text4)
  for (const key of ring.nodeKeys) t.ok(text4.includes(key.slice(0, 8)), `machine ${key.slice(0, 8)} in the table`)

  await ring.servers[2].stop('SIGKILL')
  await ring.servers[3].stop('SIGKILL')
  let two = await statusOf(homes[0])
  await waitFor(
    'status shows a ring of 2 with keys under target',
    async () => {
      two = await statusOf(homes[0])
      return two.ringSize === 2 && two.underReplicated > 0
    },
    { timeoutMs: 120_000, intervalMs: 1000, failOnTimeout: false }
  )
  t.is(two.ringSize, 2, 'two machines left')
  t.is(two.underReplicated, two.keys, 'every key held here is under target')
  t.ok(two.keys > 0)
  t.is(two.replication?.reason, 'ring of 2 machines cannot hold 3 copies')
  const text2 = await statusText(homes[0])
  t.ok(/^ring {9}2 machines/m.test(text2), text2)

  // A stopped node: no node runs for its home, status reads its store from disk.
  const before = await statusOf(homes[1])
  t.ok(before.keys > 0 && before.bytes > 0, `the node holds ${before.keys} keys`)
  t.is(await ring.servers[1].stop('SIGTERM'), 0)
  const stopped = await statusOf(homes[1])
  t.is(stopped.running, false, 'no node runs for this home')
  t.is(stopped.storeOnDisk, true, 'figures read from the store on disk')
  t.ok(stopped.keys > 0, `stopped node shows its ${stopped.keys} keys`)
  t.ok(stopped.bytes >= stopped.keys * BLOCK_BYTES, `and ${stopped.bytes} bytes`)
  const text = await statusText(homes[1])
  t.ok(text.includes(`stored       ${stopped.keys} keys`), text)
})
