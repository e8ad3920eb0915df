// Chunk garbage collection (lib/volume/chunk-gc.ts): what a file stops
// referencing leaves the store after the grace period; what a conflict copy
// may share, what another device still lists, and what is not yet due stays.

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { randomBytes } from '../../lib/crypto'
import type { Inode, Volume } from '../../lib/volume/volume'
import { openVolume } from '../helpers/volume'
import { tempDir } from '../helpers/temp-dir'
import { sleep } from '../helpers/wait'

const CHUNK = 4096

async function open(home: string, storeDir: string, opts: { seed?: Buffer; gcGraceMs?: number } = {}) {
  return openVolume(home, storeDir, { chunkSize: CHUNK, gcGraceMs: opts.gcGraceMs ?? 1, seed: opts.seed })
}

/** Chunk files in a LocalValueStore (immutable values), as hex keys. */
function storedChunks(storeDir: string): Set<string> {
  const root = path.join(storeDir, 'immutable')
  const keys = new Set<string>()
  for (const sub of fs.readdirSync(root)) for (const f of fs.readdirSync(path.join(root, sub))) keys.add(f)
  return keys
}

async function writeAt(v: Volume, inode: Inode, data: Buffer, pos: number): Promise<void> {
  await v.write(inode, data, pos)
  await v.closeFile(inode)
}

async function readAll(v: Volume, p: string): Promise<Buffer> {
  const inode = await v.resolve(p)
  const out = Buffer.alloc(inode.size)
  return out.subarray(0, await v.read(inode, out, out.length, 0))
}

/** Runs a collection pass once everything queued is due. */
async function collect(v: Volume): Promise<void> {
  // On purpose: past the (tiny) grace period of what was queued, an age threshold.
  await sleep(5)
  await v.gc!.collect()
}

test('an overwritten chunk, a chunk replaced before any record listed it, and a deleted file leave the store', async (t) => {
  const storeDir = tempDir(t, 'store')
  const v = await open(tempDir(t, 'home'), storeDir)
  const first = randomBytes(3 * CHUNK)
  const f = await v.create('/f', 0o644)
  await writeAt(v, f, first, 0)
  await v.sync()
  const before = storedChunks(storeDir)
  t.is(before.size, 3, 'three chunks stored')

  // Chunk 1 rewritten twice; the first rewrite is sealed and uploaded, but only the second is recorded.
  const mid1 = randomBytes(CHUNK)
  await writeAt(v, f, mid1, CHUNK)
  await f.data!.seal()
  await v.chunks.whenAllUploaded()
  const mid2 = randomBytes(CHUNK)
  await writeAt(v, f, mid2, CHUNK)
  await v.sync()
  t.is(
    storedChunks(storeDir).size,
    5,
    'old chunk 1, the short-lived one and the new one are all stored before collection'
  )
  await collect(v)
  const after = storedChunks(storeDir)
  t.is(after.size, 3, 'the old chunk 1 and the never-recorded one are gone')
  t.is([...before].filter((k) => after.has(k)).length, 2, 'chunks 0 and 2 stay')
  t.alike(await readAll(v, '/f'), Buffer.concat([first.subarray(0, CHUNK), mid2, first.subarray(2 * CHUNK)]))

  await v.unlink('/f')
  await v.sync()
  await collect(v)
  t.is(storedChunks(storeDir).size, 0, 'every chunk of the deleted file is gone')
  t.is(v.gc!.stats.deleted, 5, 'five chunks deleted in all')
  await v.close()
})

test('nothing is deleted before its grace period, and the queue survives a restart', async (t) => {
  const storeDir = tempDir(t, 'store')
  const home = tempDir(t, 'home')
  const v = await open(home, storeDir, { gcGraceMs: 60_000 })
  const f = await v.create('/f', 0o644)
  await writeAt(v, f, randomBytes(2 * CHUNK), 0)
  await v.sync()
  await v.unlink('/f')
  await v.sync()
  await v.gc!.collect()
  t.is(storedChunks(storeDir).size, 2, 'still there within the grace period')
  t.is(v.gc!.pending, 2, 'two chunks queued')
  await v.close()

  const again = await open(home, storeDir, { gcGraceMs: 60_000 })
  t.is(again.gc!.pending, 2, 'the queue was read back after the restart')
  await again.gc!.collect(Date.now() + 61_000)
  t.is(storedChunks(storeDir).size, 0, 'deleted once due')
  t.is(again.gc!.pending, 0, 'and no longer queued')
  await again.close()
  const third = await open(home, storeDir, { gcGraceMs: 60_000 })
  t.is(third.gc!.pending, 0, 'the rewritten queue file is empty')
  await third.close()
})

test('a file with a conflict copy keeps every chunk; a chunk another device still lists is kept', async (t) => {
  const storeDir = tempDir(t, 'store')
  const seed = randomBytes(32)
  const a = await open(tempDir(t, 'home-a'), storeDir, { seed })
  const base = randomBytes(3 * CHUNK)
  const fa = await a.create('/shared', 0o644)
  await writeAt(a, fa, base, 0)
  await a.sync()
  const b = await open(tempDir(t, 'home-b'), storeDir, { seed })
  t.alike(await readAll(b, '/shared'), base, 'b sees the file')

  // Both change a different chunk of the same version: b's write conflicts and keeps both.
  const editA = randomBytes(CHUNK)
  await writeAt(a, fa, editA, 0)
  await a.sync()
  const fb = await b.resolve('/shared')
  const editB = randomBytes(CHUNK)
  await writeAt(b, fb, editB, 2 * CHUNK)
  await b.sync()
  await collect(a)
  await collect(b)
  const names = await b.readdir('/')
  const copy = names.find((n) => n.startsWith('shared (conflict'))
  t.ok(copy, `conflict copy present: ${names.join(', ')}`)
  t.alike(
    await readAll(b, '/shared'),
    Buffer.concat([base.subarray(0, 2 * CHUNK), editB]),
    "b's version reads whole, with the chunk a replaced"
  )
  t.alike(
    await readAll(b, `/${copy}`),
    Buffer.concat([editA, base.subarray(CHUNK)]),
    "a's version reads whole as the conflict copy"
  )

  // Later edits of either file still leave their chunks alone (they may be shared).
  const g = await b.resolve(`/${copy}`)
  await writeAt(b, g, randomBytes(CHUNK), CHUNK)
  await b.sync()
  await collect(b)
  t.alike(await readAll(b, '/shared'), Buffer.concat([base.subarray(0, 2 * CHUNK), editB]), 'the file still reads')
  t.is(b.gc!.stats.deleted, 0, 'b deleted nothing')
  await a.close()
  await b.close()
})
