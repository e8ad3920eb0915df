// The POSIX conformance suite pjdfstest, whole, on a real mount with
// --allow-other, run as root (its permission tests switch to other users).
// It fails on any failing assertion that test/fuse/pjdfstest-known.ts does
// not list, and says which listed ones pass now so the list only shrinks.

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { startMount } from '../helpers/mount'
import { runPjdfstest } from '../helpers/pjdfstest'
import { KNOWN_FAILURES, knownFailureIds } from './pjdfstest-known'

const REPO = path.join(__dirname, '..', '..', '..')
const isRoot = process.getuid?.() === 0

test('pjdfstest: no assertion fails outside the documented list (empty today)', {
  skip: !isRoot,
  timeout: 900_000
}, async (t) => {
  const build = spawnSync('bash', [path.join(REPO, 'scripts', 'build-pjdfstest.sh')], { encoding: 'utf8' })
  t.is(build.status, 0, `pjdfstest builds from the pinned source: ${(build.stderr || build.stdout).trim()}`)
  if (build.status !== 0) return
  const testsDir = path.join(process.env.PJDFSTEST_DIR ?? path.join(REPO, '.cache', 'pjdfstest'), 'tests')

  const m = await startMount(t, { args: ['--allow-other'] })
  // Its permission tests run as uid 65534 and others, which must reach the mount.
  fs.chmodSync(path.dirname(m.dir), 0o755)
  const work = path.join(m.dir, 'pjdfstest')
  fs.mkdirSync(work, { mode: 0o777 })
  fs.chmodSync(work, 0o777)

  const result = await runPjdfstest(testsDir, work, { concurrency: 4 })
  // PJDFSTEST_FAILURES=FILE writes every failing assertion there, to maintain the list.
  if (process.env.PJDFSTEST_FAILURES) {
    const lines = [...result.failed].map(([id, line]) => `${id} ${line}\n`)
    fs.writeFileSync(process.env.PJDFSTEST_FAILURES, lines.join(''))
  }
  const known = knownFailureIds()
  const unexpected = [...result.failed].filter(([id]) => !known.has(id))
  const nowPassing = [...known].filter((id) => !result.failed.has(id))
  const total = result.passed + result.todo + result.failed.size
  t.comment(
    `pjdfstest: ${result.files} files, ${total} assertions: ${result.passed} passed, ${result.todo} marked TODO by the suite, ` +
      `${result.failed.size} failed ` +
      `(${result.failed.size - unexpected.length} of them listed in pjdfstest-known.ts), ${result.ms} ms`
  )
  for (const entry of KNOWN_FAILURES) t.comment(`known: ${entry.assertions.join(' ')}: ${entry.why}`)
  for (const [id, line] of unexpected.slice(0, 40)) t.comment(`unexpected: ${id}: ${line}`)
  if (unexpected.length > 40) t.comment(`… and ${unexpected.length - 40} more`)
  if (nowPassing.length > 0)
    t.comment(`listed as known but passing now (take them off the list): ${nowPassing.join(' ')}`)
  t.is(unexpected.length, 0, 'no failure outside the documented list')
  t.is(
    [...result.missing].length,
    0,
    `every file ran to its plan: ${[...result.missing].map(([f, n]) => `${f} (${n} missing)`).join(', ') || 'all'}`
  )
  t.ok(total > 8000, `the whole suite ran (${total} assertions)`)
  t.is(await m.stop(), 0, 'the mount stops cleanly afterwards')
})
