// Through the mount: the chunks of an overwritten or deleted file leave the
// ring's store once the grace period (PEERSTORE_GC_GRACE_MS) is over, as
// `peerstore status` reports them, and what is still referenced reads back.

import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { runPeerstore } from '../helpers/cli'
import { sh, startMount } from '../helpers/mount'
import { waitFor } from '../helpers/wait'

const MiB = 1024 * 1024

async function storedBytes(home: string): Promise<number> {
  const res = await runPeerstore(['status', '--home', home, '--json'])
  if (res.code !== 0) throw new Error(`peerstore status failed: ${res.stderr}`)
  return (JSON.parse(res.stdout) as { bytes: number }).bytes
}

test('overwriting and deleting files gives their chunks back to the ring', { timeout: 120_000 }, async (t) => {
  process.env.PEERSTORE_GC_GRACE_MS = '300'
  t.teardown(() => {
    delete process.env.PEERSTORE_GC_GRACE_MS
  })
  const m = await startMount(t)
  const file = path.join(m.dir, 'big.bin')
  const keep = path.join(m.dir, 'keep.bin')
  const keepData = crypto.randomBytes(2 * MiB)
  fs.writeFileSync(keep, keepData)
  sh(`dd if=/dev/urandom of=${file} bs=1M count=4 conv=fsync status=none`)
  const withOne = await storedBytes(m.home)
  t.ok(withOne >= 6 * MiB, `6 MiB of chunks stored (${withOne} bytes)`)

  sh(`dd if=/dev/urandom of=${file} bs=1M count=4 conv=fsync,notrunc status=none`)
  const expected = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')
  // The old 4 MiB go once the grace period is over (records are a few KiB at most).
  await waitFor('the overwritten chunks to go', async () => (await storedBytes(m.home)) < withOne + MiB, {
    timeoutMs: 30_000,
    intervalMs: 200
  })
  t.pass('the overwritten chunks left the store')
  t.is(crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'), expected, 'the new content reads back')

  fs.unlinkSync(file)
  await waitFor('the deleted file to go', async () => (await storedBytes(m.home)) < withOne - 3 * MiB, {
    timeoutMs: 30_000,
    intervalMs: 200
  })
  t.pass("the deleted file's chunks left the store")
  t.alike(fs.readFileSync(keep), keepData, 'the other file is untouched')

  t.is(await m.stop(), 0)
  const again = await startMount(t, { home: m.home, dir: m.dir })
  t.alike(fs.readFileSync(keep), keepData, 'and reads back after a remount')
  t.absent(fs.existsSync(file), 'the deleted file stays deleted')
  await again.stop()
})
