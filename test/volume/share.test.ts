// Sharing between two users on one store, without FUSE: A shares a folder
// and a file with B; B's read-only view reads them, and a file A adds later;
// C cannot use the token sealed to B; after `unshare`, B reads nothing A
// writes from then on while C, who was also granted the folder, keeps reading.
// No plaintext of names or contents reaches the store.

import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { randomBytes } from '../../lib/crypto'
import { LocalValueStore } from '../../lib/volume/local-value-store'
import { shareWith, unshareWith } from '../../lib/volume/sharing/share'
import { acceptToken, followSharer } from '../../lib/volume/sharing/accepted'
import { SharedView } from '../../lib/volume/sharing/view'
import { decodeUserId, encodeCapability, encodeUserId } from '../../lib/volume/sharing/token'
import { decryptState, encryptState } from '../../lib/volume/inode'
import { createRecord, recordKey } from '../../lib/crypto/record'
import type { Volume } from '../../lib/volume/volume'
import { openVolume } from '../helpers/volume'
import { tempDir } from '../helpers/temp-dir'

async function writeFile(v: Volume, p: string, data: Buffer): Promise<void> {
  const inode = await v.create(p, 0o644)
  await v.write(inode, data, 0)
  await v.closeFile(inode)
}

async function readShared(view: SharedView, p: string): Promise<Buffer> {
  const st = await view.getattr(p)
  const fh = await view.open(p, 0)
  const out = Buffer.alloc(st.size)
  const n = await view.read(fh, out, out.length, 0)
  view.release(fh)
  return out.subarray(0, n)
}

const code = async (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: Error & { code?: string }) => err.code ?? err.message
  )

test('share a folder and a file, read them as another user, revoke', async (t) => {
  const store = new LocalValueStore(tempDir(t, 'store'))
  await store.ready()
  const homes = { a: tempDir(t, 'a'), b: tempDir(t, 'b'), c: tempDir(t, 'c') }
  const a = await openVolume(homes.a, store, { chunkSize: 4096 })
  const b = await openVolume(homes.b, store)
  const c = await openVolume(homes.c, store)
  // Before the temp dirs go (order 0): closing flushes into the store.
  t.teardown(
    async () => {
      for (const v of [a, b, c]) await v.close()
    },
    { order: -1 }
  )
  const marker = `plain${randomBytes(6).toString('hex')}`
  const secretName = `name${randomBytes(6).toString('hex')}`
  const big = Buffer.concat([Buffer.from(marker), randomBytes(20_000)])
  await a.mkdir('/docs', 0o755)
  await a.mkdir('/docs/sub', 0o755)
  await writeFile(a, `/docs/sub/${secretName}.txt`, big)
  await writeFile(a, '/top.txt', Buffer.from(`top ${marker}\n`))
  await a.sync()

  t.alike(decodeUserId(encodeUserId(b.keys.publicKey)), b.keys.publicKey, 'user ids round-trip')
  const folder = await shareWith(a, '/docs', b.keys.publicKey)
  const file = await shareWith(a, '/top.txt', b.keys.publicKey)
  t.ok(folder.token.startsWith('peerstore-share2'))

  // C holds B's token: refused, with a clear message.
  const refused = await code(Promise.resolve().then(() => acceptToken(homes.c, c.keys, folder.token)))
  t.is(refused, 'EACCES', 'a token sealed to B is refused by C')

  acceptToken(homes.b, b.keys, folder.token)
  acceptToken(homes.b, b.keys, file.token)
  const view = new SharedView({ home: homes.b, store, keys: b.keys, chunks: b.chunks, ttlMs: 0 })
  t.ok(view.visible())
  const [label] = await view.readdir('/@shared')
  t.is(label, `user-${a.keys.publicKey.toString('hex').slice(0, 12)}`)
  const base = `/@shared/${label}`
  t.alike((await view.readdir(base)).sort(), ['docs', 'top.txt'])
  t.alike(await view.readdir(`${base}/docs/sub`), [`${secretName}.txt`])
  t.alike(await readShared(view, `${base}/docs/sub/${secretName}.txt`), big, 'B reads the shared folder')
  t.is((await readShared(view, `${base}/top.txt`)).toString(), `top ${marker}\n`, 'B reads the shared file')
  t.is((await view.getattr(`${base}/top.txt`)).mode & 0o222, 0, 'read-only modes')
  t.is(await code(view.open(`${base}/top.txt`, 1)), 'EROFS', 'open for writing: EROFS')

  // Added after the share: reachable through the entries' keys.
  await writeFile(a, '/docs/later.txt', Buffer.from('later\n'))
  await a.sync()
  t.alike((await view.readdir(`${base}/docs`)).sort(), ['later.txt', 'sub'])
  t.is((await readShared(view, `${base}/docs/later.txt`)).toString(), 'later\n', 'a file added later')

  // C gets the folder too, then B is revoked.
  const forC = await shareWith(a, '/docs', c.keys.publicKey)
  // C follows A by user id instead of the token: the inbox brings the share.
  t.ok(forC.token.startsWith('peerstore-share2'))
  followSharer(homes.c, a.keys.publicKey)
  const viewC = new SharedView({ home: homes.c, store, keys: c.keys, chunks: c.chunks, ttlMs: 0 })
  // A file held open would keep being written to the inode the re-key deletes: refused, nothing changed.
  const held = await a.resolve('/docs/later.txt')
  a.noteOpen(held)
  t.is(await code(unshareWith(a, '/docs', b.keys.publicKey)), 'EBUSY', 'unshare waits for open files')
  a.noteRelease(held)
  t.ok((await a.resolve('/docs/later.txt')).id.equals(held.id), 'nothing was re-keyed')
  const oldDocs = await a.resolve('/docs')
  const oldKey = a.keys.inodeKey(oldDocs.id)
  const res = await unshareWith(a, '/docs', b.keys.publicKey)
  t.alike(res.kept, [encodeUserId(c.keys.publicKey)], 'C keeps access')
  await writeFile(a, '/docs/after.txt', Buffer.from(`after ${marker}\n`))
  await a.sync()

  t.alike(await view.readdir(base), ['top.txt'], 'the folder is gone from B’s view')
  t.is((await readShared(view, `${base}/top.txt`)).toString(), `top ${marker}\n`, 'B keeps the file share')
  // With what B held (the old id and key): a tombstone, and the new folder's record does not open.
  const oldRec = await store.getRecord(recordKey(a.keys.publicKey, oldDocs.id))
  t.ok(oldRec?.deleted, 'the old folder record is a tombstone')
  const newDocs = await a.resolve('/docs')
  t.absent(newDocs.id.equals(oldDocs.id), 'the folder has a new inode id')
  const newRec = await store.getRecord(recordKey(a.keys.publicKey, newDocs.id))
  t.exception(
    () => decryptState(newRec!.value, newDocs.id, oldKey),
    /authentication/,
    'the old key does not open the new record'
  )

  const cBase = `/@shared/${label}`
  t.alike((await viewC.readdir(`${cBase}/docs`)).sort(), ['after.txt', 'later.txt', 'sub'])
  t.is((await readShared(viewC, `${cBase}/docs/after.txt`)).toString(), `after ${marker}\n`, 'C reads new content')
  t.alike(await readShared(viewC, `${cBase}/docs/sub/${secretName}.txt`), big, 'C reads re-keyed content')

  t.is(await code(unshareWith(a, '/docs', b.keys.publicKey)), 'ENOENT', 'unshare of what is not shared')
  t.is(await code(shareWith(a, '/nope', b.keys.publicKey)), 'ENOENT', 'share of an unknown path')

  const grep = (s: string) => {
    try {
      return execFileSync('grep', ['-rl', s, store.dir, homes.a, homes.b, homes.c], { encoding: 'utf8' })
    } catch {
      return ''
    }
  }
  t.is(grep(marker), '', 'no plaintext contents in the store or homes')
  t.is(grep(secretName), '', 'no plaintext names in the store or homes')
})

test('folders stored before entries carried keys are rewritten by share (the fallback)', async (t) => {
  const store = new LocalValueStore(tempDir(t, 'store'))
  await store.ready()
  const homes = { a: tempDir(t, 'a'), b: tempDir(t, 'b') }
  let a = await openVolume(homes.a, store)
  await a.mkdir('/old', 0o755)
  await a.mkdir('/old/inner', 0o755)
  await writeFile(a, '/old/inner/f.txt', Buffer.from('old file\n'))
  const dirs = [await a.resolve('/old'), await a.resolve('/old/inner')]
  const ids = dirs.map((d) => d.id)
  await a.close()
  // As an older build wrote them: the same directories, entries without keys.
  for (const id of ids) {
    const key = recordKey(a.keys.publicKey, id)
    const rec = (await store.getRecord(key))!
    const state = decryptState(rec.value, id, a.keys.inodeKey(id))
    const value = encryptState(state, id, a.keys.inodeKey(id))
    await store.putRecord(createRecord(a.keys.keyPair, id, rec.version + 1, value), rec.version)
  }
  const b = await openVolume(homes.b, store)
  t.teardown(() => b.close(), { order: -1 })
  // A capability handed out without the rewrite stops at the first folder.
  const bare = {
    owner: a.keys.publicKey,
    inodeId: ids[0],
    inodeKey: a.keys.inodeKey(ids[0]),
    type: 'dir' as const,
    name: 'old'
  }
  fs.writeFileSync(
    path.join(homes.b, 'shares.json'),
    JSON.stringify({ owners: { [a.keys.publicKey.toString('hex')]: [encodeCapability(bare).toString('base64')] } })
  )
  const view = new SharedView({ home: homes.b, store, keys: b.keys, chunks: b.chunks, ttlMs: 0 })
  const base = `/@shared/user-${a.keys.publicKey.toString('hex').slice(0, 12)}/old`
  t.alike(await view.readdir(base), [], 'an entry without a key is not listed')
  t.is(await code(view.getattr(`${base}/inner`)), 'EACCES', 'nor reachable')

  a = await openVolume(homes.a, store)
  t.teardown(() => a.close(), { order: -1 })
  acceptToken(homes.b, b.keys, (await shareWith(a, '/old', b.keys.publicKey)).token)
  t.alike(await view.readdir(base), ['inner'])
  t.is((await readShared(view, `${base}/inner/f.txt`)).toString(), 'old file\n', 'share rewrote them with keys')
})
