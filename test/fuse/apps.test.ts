// What users run inside a mount: git, an editor-style save, and the check
// that the store under the mount holds no plaintext of contents or names.

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { sh, startMount } from '../helpers/mount'

const hasGit = (() => {
  try {
    sh('git --version')
    return true
  } catch {
    return false
  }
})()

test('git init/add/commit/status/log inside the mount', { skip: !hasGit, timeout: 120_000 }, async (t) => {
  const m = await startMount(t)
  const repo = path.join(m.dir, 'repo')
  fs.mkdirSync(repo)
  const git = (cmd: string) =>
    sh(`cd ${repo} && git -c user.name=t -c user.email=t@example.com -c init.defaultBranch=main ${cmd}`)
  git('init -q')
  fs.writeFileSync(path.join(repo, 'README'), 'first\n')
  fs.mkdirSync(path.join(repo, 'src'))
  fs.writeFileSync(path.join(repo, 'src', 'main.c'), 'int main(void) { return 0; }\n')
  git('add -A')
  git('commit -q -m first')
  fs.appendFileSync(path.join(repo, 'README'), 'second\n')
  git('commit -q -am second')
  t.is(git('status --porcelain'), '')
  t.is(git('log --format=%s').trim(), 'second\nfirst')
  t.is(git('fsck --no-progress 2>&1').trim(), '')

  t.is(await m.stop(), 0)
  const m2 = await startMount(t, { home: m.home, dir: m.dir })
  const git2 = (cmd: string) => sh(`cd ${repo} && git ${cmd}`)
  t.is(git2('log --format=%s').trim(), 'second\nfirst', 'history survives a remount')
  t.is(git2('status --porcelain'), '')
  await m2.stop()
})

test('editor-style save: write temp, fsync, rename over the original', { timeout: 60_000 }, async (t) => {
  const m = await startMount(t)
  const file = path.join(m.dir, 'notes.txt')
  fs.writeFileSync(file, 'version 1\n')
  for (let i = 2; i <= 5; i++) {
    const tmp = path.join(m.dir, `.notes.txt.swp${i}`)
    const fd = fs.openSync(tmp, 'w', 0o600)
    fs.writeSync(fd, `version ${i}\n`)
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    fs.renameSync(tmp, file)
  }
  t.is(fs.readFileSync(file, 'utf8'), 'version 5\n')
  t.alike(fs.readdirSync(m.dir), ['notes.txt'])
  t.is(fs.statSync(file).mode & 0o777, 0o600)
  await m.stop()
  const m2 = await startMount(t, { home: m.home, dir: m.dir })
  t.is(fs.readFileSync(file, 'utf8'), 'version 5\n')
  await m2.stop()
})

test('no plaintext of contents or names under the home (store, journal, spool, cache)', {
  timeout: 60_000
}, async (t) => {
  const m = await startMount(t)
  const marker = 'CONTENT-MARKER-91c2e0d4'
  const name = 'NAME-MARKER-3b7f11'
  fs.mkdirSync(path.join(m.dir, `${name}-dir`))
  fs.writeFileSync(path.join(m.dir, `${name}-dir`, `${name}.txt`), `${marker}\n`.repeat(50_000))
  fs.writeFileSync(path.join(m.dir, 'small'), marker)
  // While mounted (journal and spool in use) and after the flush.
  const during = sh(`grep -rl -e ${marker} -e ${name} ${m.home} 2>/dev/null || true`)
  // Files come and go under a live mount (spool, temp files): a vanished one is not an error.
  const duringNames = sh(`find ${m.home} -name '*MARKER*' 2>/dev/null || true`)
  await m.stop()
  const after = sh(`grep -rl -e ${marker} -e ${name} ${m.home} || true`)
  t.is(during.trim(), '', 'no plaintext while mounted')
  t.is(duringNames.trim(), '', 'no plaintext file names')
  t.is(after.trim(), '', 'no plaintext after unmount')
  t.ok(Number(sh(`du -sk ${m.home}/node-store | cut -f1`)) > 1000, 'the content is in the store (encrypted)')
})
