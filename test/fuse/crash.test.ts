// SIGKILL the mount in the middle of a large copy, remount, and check that
// every file whose close() or fsync() had returned is intact.

import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { isMounted, sh, startMount } from '../helpers/mount'
import { tempDir } from '../helpers/temp-dir'
import { waitFor } from '../helpers/wait'

const BIG_MIB = Number(process.env.PEERSTORE_TEST_CRASH_MIB || 150)

test('SIGKILL during a large copy: confirmed files survive', { timeout: 180_000 }, async (t) => {
  const src = tempDir(t, 'crash-src')
  t.teardown(() => fs.rmSync(src, { recursive: true, force: true }))
  const names: string[] = []
  for (let i = 0; i < 24; i++) {
    const name = `f${String(i).padStart(2, '0')}`
    const kib = 1 + ((i * 7919) % 3000)
    sh(`head -c ${kib * 1024 + i} /dev/urandom > ${src}/${name}`)
    names.push(name)
    if (i === 11) {
      sh(`dd if=/dev/urandom of=${src}/big bs=1M count=${BIG_MIB} status=none`)
      names.push('big')
    }
  }
  const sums = new Map(
    sh(`cd ${src} && sha256sum *`)
      .trim()
      .split('\n')
      .map((l) => [l.split('  ')[1], l.split('  ')[0]] as [string, string])
  )

  const m = await startMount(t)
  fs.mkdirSync(path.join(m.dir, 'dst'))
  // Even files: cp (confirmed by close); odd files and big: dd conv=fsync (confirmed by fsync).
  const script = names
    .map((n, i) =>
      i % 2 === 0 && n !== 'big'
        ? `cp ${src}/${n} ${m.dir}/dst/${n} && echo confirmed ${n}`
        : `dd if=${src}/${n} of=${m.dir}/dst/${n} bs=1M conv=fsync status=none && echo confirmed ${n}`
    )
    .join('\n')
  const writer = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] })
  let out = ''
  writer.stdout.on('data', (d) => {
    out += d
  })
  const writerDone = new Promise((resolve) => writer.once('exit', resolve))
  t.teardown(() => {
    writer.kill('SIGKILL')
  })

  // Kill once the big copy is well under way.
  const bigPath = path.join(m.dir, 'dst', 'big')
  await waitFor(
    'the big copy under way',
    () =>
      (fs.statSync(bigPath, { throwIfNoEntry: false })?.size ?? 0) > (BIG_MIB * 1024 * 1024) / 3 ||
      out.includes('confirmed big'),
    { timeoutMs: 60_000, intervalMs: 20, failOnTimeout: false }
  )
  await m.kill()
  await writerDone
  t.absent(isMounted(m.dir), 'the crashed mount is gone (auto_unmount or fusermount)')
  const confirmed = out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace('confirmed ', ''))
  t.comment(
    `confirmed before the kill: ${confirmed.length} files (${confirmed.includes('big') ? 'including' : 'not'} big)`
  )
  t.ok(confirmed.length >= 10, 'several files were confirmed before the kill')

  const m2 = await startMount(t, { home: m.home, dir: m.dir })
  const after = new Map(
    sh(`cd ${m2.dir}/dst && sha256sum * 2>/dev/null || true`)
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.split('  ')[1], l.split('  ')[0]] as [string, string])
  )
  for (const name of confirmed) t.is(after.get(name), sums.get(name), `${name} intact after crash and remount`)
  // The volume still works: write, remount, read.
  fs.writeFileSync(path.join(m2.dir, 'after-crash'), 'ok')
  t.is(await m2.stop(), 0)
  const m3 = await startMount(t, { home: m.home, dir: m.dir })
  t.is(fs.readFileSync(path.join(m3.dir, 'after-crash'), 'utf8'), 'ok')
  for (const name of confirmed) {
    t.is(sh(`sha256sum ${m3.dir}/dst/${name}`).split(' ')[0], sums.get(name), `${name} intact after second mount`)
  }
  await m3.stop()
})
