// cp/cat/sha256sum round trips through a real mount, then a remount that
// reads everything back from the store.

import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { sh, startMount } from '../helpers/mount'
import { tempDir } from '../helpers/temp-dir'

const MiB = 1024 * 1024
const BIG_MIB = Number(process.env.PEERSTORE_TEST_BIG_MIB || 200)

test('round trips of edge-size and big files survive a remount', { timeout: 180_000 }, async (t) => {
  const src = tempDir(t, 'src')
  const sizes: Record<string, number> = {
    empty: 0,
    'one-byte': 1,
    'chunk-minus-1': MiB - 1,
    chunk: MiB,
    'chunk-plus-1': MiB + 1,
    'two-chunks-plus-1': 2 * MiB + 1
  }
  for (const [name, size] of Object.entries(sizes)) fs.writeFileSync(path.join(src, name), randomBytes(size))
  sh(`dd if=/dev/urandom of=${src}/big bs=1M count=${BIG_MIB} status=none`)
  t.teardown(() => fs.rmSync(src, { recursive: true, force: true }))
  const expected = sh(`cd ${src} && sha256sum * | sort`)

  const m1 = await startMount(t)
  sh(`cp ${src}/* ${m1.dir}/`)
  t.is(sh(`cd ${m1.dir} && sha256sum * | sort`), expected, 'read back through the same mount')
  const ls = sh(`ls -l ${m1.dir}/chunk-plus-1`)
  t.ok(ls.includes(` ${MiB + 1} `), 'ls -l shows the size right after the write')
  t.is(await m1.stop(), 0, 'SIGTERM flushes and exits 0')

  const m2 = await startMount(t, { home: m1.home, dir: m1.dir })
  t.is(sh(`cd ${m2.dir} && sha256sum * | sort`), expected, 'read back after remount')
  for (const [name, size] of Object.entries(sizes))
    t.is(fs.statSync(path.join(m2.dir, name)).size, size, `${name} size`)
  t.is(await m2.stop(), 0)
})

test('a tree of 2,000 small files copies in and reads back after remount', { timeout: 180_000 }, async (t) => {
  const src = tempDir(t, 'tree')
  t.teardown(() => fs.rmSync(src, { recursive: true, force: true }))
  for (let d = 0; d < 20; d++) {
    fs.mkdirSync(path.join(src, `dir-${d}`, 'nested'), { recursive: true })
    for (let f = 0; f < 100; f++) {
      const where = f % 2 === 0 ? `dir-${d}` : `dir-${d}/nested`
      fs.writeFileSync(path.join(src, where, `file-${f}.txt`), randomBytes(1 + (((d * 100 + f) * 37) % 20_000)))
    }
  }
  const m1 = await startMount(t)
  sh(`cp -r ${src} ${m1.dir}/tree`)
  t.is(sh(`diff -r ${src} ${m1.dir}/tree && echo same`).trim(), 'same')
  t.is(await m1.stop(), 0)
  const m2 = await startMount(t, { home: m1.home, dir: m1.dir })
  t.is(sh(`diff -r ${src} ${m2.dir}/tree && echo same`).trim(), 'same', 'identical after remount')
  t.is(sh(`find ${m2.dir}/tree -type f | wc -l`).trim(), '2000')
  await m2.stop()
})
