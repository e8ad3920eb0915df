// The Volume without FUSE: persistence, crash replay from the journal,
// conflict merging between two devices of one user, and no plaintext at rest.

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { randomBytes } from '../../lib/crypto'
import type { Inode, Volume } from '../../lib/volume/volume'
import { openVolume } from '../helpers/volume'
import { tempDir } from '../helpers/temp-dir'

async function writeFile(v: Volume, p: string, data: Buffer): Promise<Inode> {
  const inode = await v.create(p, 0o644)
  await v.write(inode, data, 0)
  await v.closeFile(inode)
  return inode
}

async function readFile(v: Volume, p: string): Promise<Buffer> {
  const inode = await v.resolve(p)
  const out = Buffer.alloc(inode.size)
  const n = await v.read(inode, out, out.length, 0)
  return out.subarray(0, n)
}

test('a volume persists across close and reopen', async (t) => {
  const home = tempDir(t, 'home')
  const storeDir = tempDir(t, 'store')
  const v1 = await openVolume(home, storeDir, { chunkSize: 4096 })
  await v1.mkdir('/docs', 0o755)
  const data = randomBytes(10_000)
  await writeFile(v1, '/docs/a.bin', data)
  await v1.symlink('a.bin', '/docs/link')
  await v1.close()

  const v2 = await openVolume(home, storeDir)
  t.alike(await readFile(v2, '/docs/a.bin'), data)
  t.is(await v2.readlink('/docs/link'), 'a.bin')
  t.alike((await v2.readdir('/docs')).sort(), ['a.bin', 'link'])
  await v2.close()
})

test('a crash after close() loses nothing: the next open replays journal and spool', async (t) => {
  const home = tempDir(t, 'home')
  const storeDir = tempDir(t, 'store')
  const v1 = await openVolume(home, storeDir, { chunkSize: 64 * 1024 })
  const small = randomBytes(100)
  const big = randomBytes(300_000)
  await writeFile(v1, '/small', small)
  await writeFile(v1, '/big', big)
  await v1.mkdir('/dir', 0o700)
  await v1.rename('/small', '/dir/moved')
  await v1.closeFile(v1.root)
  // Abandon v1 without close(): as if SIGKILLed (its uploads may or may not have finished).
  // Closed only once the test is over, before its folders go, so its timers write nowhere afterwards.
  t.teardown(() => v1.close().catch(() => {}))
  const v2 = await openVolume(home, storeDir)
  t.alike(await readFile(v2, '/dir/moved'), small)
  t.alike(await readFile(v2, '/big'), big)
  t.is(v2.stat(await v2.resolve('/dir')).mode & 0o777, 0o700)
  await v2.close()
  t.is(fs.readdirSync(path.join(home, 'cache', 'journal')).length, 0, 'journal emptied after replay')
  t.is(fs.readdirSync(path.join(home, 'cache', 'spool')).length, 0, 'spool emptied after upload')
})

test('two devices of one user: directory changes merge, file edits keep both', async (t) => {
  const storeDir = tempDir(t, 'store')
  const seed = randomBytes(32)
  const a = await openVolume(tempDir(t, 'home-a'), storeDir, { seed })
  await writeFile(a, '/shared.txt', Buffer.from('base'))
  await a.sync()
  const b = await openVolume(tempDir(t, 'home-b'), storeDir, { seed })
  t.alike(await readFile(b, '/shared.txt'), Buffer.from('base'))

  await writeFile(a, '/from-a', Buffer.from('a'))
  await writeFile(b, '/from-b', Buffer.from('b'))
  await a.sync()
  await b.sync()
  t.alike((await b.readdir('/')).sort(), ['from-a', 'from-b', 'shared.txt'], 'b merged a entry')

  const fa = await a.resolve('/shared.txt')
  await a.truncate(fa, 0)
  await a.write(fa, Buffer.from('edit by a'), 0)
  const fb = await b.resolve('/shared.txt')
  await b.truncate(fb, 0)
  await b.write(fb, Buffer.from('edit by b'), 0)
  await a.sync()
  await b.sync()
  const names = await b.readdir('/')
  const copy = names.find((n) => n.startsWith('shared (conflict'))
  t.ok(copy, `conflict copy present: ${names.join(', ')}`)
  t.alike(await readFile(b, '/shared.txt'), Buffer.from('edit by b'), 'the later writer keeps the name')
  t.alike(await readFile(b, `/${copy}`), Buffer.from('edit by a'), 'the other edit is a visible copy')
  await a.close()
  await b.close()
})

test('no plaintext byte of content or names reaches the store or the cache', async (t) => {
  const home = tempDir(t, 'home')
  const storeDir = tempDir(t, 'store')
  const v = await openVolume(home, storeDir, { chunkSize: 4096 })
  const marker = 'PLAINTEXT-MARKER-7f3a9c'
  const name = 'secret-file-name-b41d2e'
  await v.mkdir(`/${name}-dir`, 0o755)
  const content = Buffer.from(`${marker}\n`.repeat(2000))
  await writeFile(v, `/${name}-dir/${name}.txt`, content)
  await v.setxattr(await v.resolve(`/${name}-dir/${name}.txt`), 'user.note', Buffer.from(marker), 0)
  await v.closeFile(v.root)
  const cacheSnapshot = grepDir(path.join(home, 'cache'), [marker, name])
  await v.close()
  t.alike(grepDir(storeDir, [marker, name]), [], 'store holds no plaintext')
  t.alike(cacheSnapshot, [], 'cache (journal, spool) holds no plaintext')
})

function grepDir(dir: string, needles: string[]): string[] {
  const hits: string[] = []
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      for (const n of needles) if (e.name.includes(n)) hits.push(`name ${p}`)
      if (e.isDirectory()) walk(p)
      else {
        const bytes = fs.readFileSync(p)
        for (const n of needles) if (bytes.includes(n)) hits.push(`${n} in ${p}`)
      }
    }
  }
  walk(dir)
  return hits
}
