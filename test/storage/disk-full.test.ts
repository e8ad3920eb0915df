// A node store on a full disk (a real 16 MiB tmpfs): a write that does not
// fit is refused with ENOSPC, nothing ends the process (lmdb-js rejects a
// promise nobody holds), everything committed before stays readable, and
// writes work again once space is freed.

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { randomBytes, sha256 } from '../../lib/crypto'
import { NodeStore } from '../../lib/storage'
import { smallDisk } from '../helpers/tmpfs'
import { sleep } from '../helpers/wait'

test('a full disk refuses writes with ENOSPC and keeps every committed value', async (t) => {
  const unhandled: unknown[] = []
  const onUnhandled = (err: unknown) => unhandled.push(err)
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => process.removeListener('unhandledRejection', onUnhandled))

  const disk = smallDisk(t, 16)
  const store = new NodeStore(disk)
  t.teardown(() => store.close())
  await store.ready()

  const stored: Buffer[] = []
  const codes: string[] = []
  for (let i = 0; i < 24; i++) {
    const bytes = randomBytes(1024 * 1024)
    const key = sha256(bytes)
    try {
      await store.putImmutable(key, bytes)
      stored.push(key)
    } catch (err) {
      codes.push((err as { code?: string }).code ?? (err as Error).message)
    }
  }
  t.comment(`${stored.length} values stored, ${codes.length} refused`)
  t.ok(stored.length >= 8, 'the disk took several values before it filled')
  t.ok(codes.length > 0, 'the disk filled')
  t.alike([...new Set(codes)], ['ENOSPC'], 'every refused write says ENOSPC')

  for (const key of stored) {
    const got = await store.get(key)
    t.ok(got && sha256(got.bytes).equals(key), `value ${key.toString('hex').slice(0, 8)} still reads back`)
  }

  // Space freed (deletes commit on a full disk: LMDB reuses the freed pages): writes work again.
  for (const key of stored.slice(0, 4)) await store.deleteImmutable(key)
  const again = randomBytes(512 * 1024)
  await store.putImmutable(sha256(again), again)
  t.ok(await store.get(sha256(again)), 'a write succeeds once space is freed')

  await store.close()
  const reopened = new NodeStore(disk)
  t.teardown(() => reopened.close())
  await reopened.ready()
  let intact = 0
  for (const key of stored.slice(4)) if (await reopened.get(key)) intact++
  t.is(intact, stored.length - 4, 'after reopening, every committed value is there')
  // On purpose: give lmdb-js a moment to reject anything it still holds, which must not happen.
  await sleep(200)
  t.is(unhandled.length, 0, `no unhandled rejection (${unhandled.map((e) => (e as Error).message).join('; ')})`)
})

test('a store whose last commit failed still closes', async (t) => {
  const disk = smallDisk(t, 16)
  const store = new NodeStore(disk)
  await store.ready()
  const first = randomBytes(1000)
  await store.putImmutable(sha256(first), first)
  // Something else fills the disk.
  const fd = fs.openSync(path.join(disk, 'filler'), 'w')
  try {
    for (;;) fs.writeSync(fd, Buffer.alloc(1024 * 1024))
  } catch {
  } finally {
    fs.closeSync(fd)
  }
  const bytes = randomBytes(256 * 1024)
  await t.exception(store.putImmutable(sha256(bytes), bytes), /full/, 'refused: the disk is full')
  const started = Date.now()
  await store.close()
  t.ok(Date.now() - started < 10_000, `closed in ${Date.now() - started} ms (lmdb-js alone never resolves it)`)
  fs.rmSync(path.join(disk, 'filler'))
  const reopened = new NodeStore(disk)
  t.teardown(() => reopened.close())
  await reopened.ready()
  t.ok(await reopened.get(sha256(first)), 'the value committed before the disk filled is there')
})
