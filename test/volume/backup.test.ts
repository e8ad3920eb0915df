// `peerstore backup` is incremental (issue 16): unchanged files are skipped
// by size and nanosecond mtime, `--dry-run` changes nothing, `--exclude`
// leaves paths out, `--delete` removes what is gone locally and nothing
// else, and a summary line is always printed. Through the real CLI.

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { randomBytes } from '../../lib/crypto'
import { initHome, runPeerstore } from '../helpers/cli'
import { tempDir } from '../helpers/temp-dir'

const SUMMARY = /(\d+) uploaded, (\d+) skipped, (\d+) deleted(?:, \d+ excluded)?, [\d.]+ MiB in [\d.]+ s/

function counts(stdout: string): { uploaded: number; skipped: number; deleted: number } | null {
  const m = SUMMARY.exec(stdout)
  return m ? { uploaded: Number(m[1]), skipped: Number(m[2]), deleted: Number(m[3]) } : null
}

/** Every path under `p` in the store, with its size, one per line: what `ls` shows, recursively. */
async function listing(home: string, p: string): Promise<string[]> {
  const res = await runPeerstore(['ls', p, '--json', '--home', home])
  if (res.code !== 0) throw new Error(res.stderr)
  const out: string[] = []
  for (const line of res.stdout.trim().split('\n').filter(Boolean)) {
    const e = JSON.parse(line) as { name: string; type: string; size: number }
    const child = `${p}/${e.name}`
    out.push(`${child} ${e.type} ${e.size}`)
    if (e.type === 'dir') out.push(...(await listing(home, child)))
  }
  return out
}

function makeTree(root: string): string {
  const src = path.join(root, 'src')
  fs.mkdirSync(path.join(src, 'photos', '2024'), { recursive: true })
  fs.mkdirSync(path.join(src, 'cache'))
  for (let i = 0; i < 6; i++) fs.writeFileSync(path.join(src, 'photos', '2024', `p${i}.jpg`), randomBytes(700_000))
  fs.writeFileSync(path.join(src, 'notes.txt'), 'notes')
  fs.writeFileSync(path.join(src, 'photos', 'draft.tmp'), 'temporary')
  fs.writeFileSync(path.join(src, 'cache', 'blob'), 'cached')
  fs.symlinkSync('notes.txt', path.join(src, 'link'))
  return src
}

test('a second backup of an unchanged tree uploads nothing; a touched file alone is uploaded again', {
  timeout: 120_000
}, async (t) => {
  const root = tempDir(t, 'backup-incr')
  const src = makeTree(root)
  const home = await initHome(path.join(root, 'home'))
  const args = ['backup', src, '--to', '/b', '--home', home]

  let started = Date.now()
  const first = await runPeerstore(args)
  const firstMs = Date.now() - started
  t.is(first.code, 0, first.stderr)
  t.alike(counts(first.stdout), { uploaded: 10, skipped: 0, deleted: 0 }, first.stdout.trim())

  started = Date.now()
  const second = await runPeerstore(args)
  const secondMs = Date.now() - started
  t.is(second.code, 0, second.stderr)
  t.alike(counts(second.stdout), { uploaded: 0, skipped: 10, deleted: 0 }, second.stdout.trim())
  t.comment(`first backup, ${firstMs} ms wall: ${first.stdout.trim()}`)
  t.comment(`second backup, ${secondMs} ms wall: ${second.stdout.trim()}`)

  const touched = path.join(src, 'photos', '2024', 'p3.jpg')
  const later = new Date(Date.now() + 5_000)
  fs.utimesSync(touched, later, later)
  const third = await runPeerstore(args)
  t.is(third.code, 0, third.stderr)
  t.alike(counts(third.stdout), { uploaded: 1, skipped: 9, deleted: 0 }, third.stdout.trim())

  // Content that grows: uploaded again, and what comes back is the new content.
  fs.appendFileSync(path.join(src, 'notes.txt'), ' and more')
  const fourth = await runPeerstore(args)
  t.alike(counts(fourth.stdout), { uploaded: 1, skipped: 9, deleted: 0 }, fourth.stdout.trim())
  const out = path.join(root, 'out')
  t.is((await runPeerstore(['get', '/b/notes.txt', out, '--home', home])).code, 0)
  t.is(fs.readFileSync(out, 'utf8'), 'notes and more')
})

test('backup --dry-run changes nothing; --exclude leaves paths out; --delete removes only what is gone', {
  timeout: 180_000
}, async (t) => {
  const root = tempDir(t, 'backup-flags')
  const src = makeTree(root)
  const home = await initHome(path.join(root, 'home'))
  const base = ['backup', src, '--to', '/b', '--home', home]

  // Excluded by name anywhere (*.tmp) and by relative path (cache/**).
  const first = await runPeerstore([...base, '--exclude', '*.tmp', '--exclude', 'cache/**'])
  t.is(first.code, 0, first.stderr)
  t.alike(counts(first.stdout), { uploaded: 8, skipped: 0, deleted: 0 }, first.stdout.trim())
  const stored = await listing(home, '/b')
  t.absent(
    stored.some((l) => l.includes('draft.tmp') || l.includes('/b/cache/blob')),
    'excluded files not uploaded'
  )
  t.ok(stored.some((l) => l.startsWith('/b/photos/2024/p5.jpg ')))

  // A dry run with everything to do: prints it, changes nothing.
  fs.rmSync(path.join(src, 'notes.txt'))
  fs.writeFileSync(path.join(src, 'new.txt'), 'new')
  const before = await listing(home, '/b')
  const dry = await runPeerstore([...base, '--delete', '--dry-run'])
  t.is(dry.code, 0, dry.stderr)
  t.ok(dry.stdout.includes('would upload /b/new.txt'), dry.stdout)
  t.ok(dry.stdout.includes('would upload /b/photos/draft.tmp'), dry.stdout)
  t.ok(dry.stdout.includes('would delete /b/notes.txt'), dry.stdout)
  t.ok(dry.stdout.includes('dry run, nothing changed'), dry.stdout)
  t.alike(await listing(home, '/b'), before, 'the store is as it was')
  const dryNew = await runPeerstore(['backup', src, '--to', '/never', '--home', home, '--dry-run'])
  t.is(dryNew.code, 0, dryNew.stderr)
  t.is((await runPeerstore(['ls', '/never', '--home', home])).code, 1, 'a dry run makes no target folder')

  // --delete: notes.txt (gone locally) goes; excluded paths stay excluded, nothing else is removed.
  const del = await runPeerstore([...base, '--delete', '--exclude', '*.tmp', '--exclude', 'cache'])
  t.is(del.code, 0, del.stderr)
  t.alike(counts(del.stdout), { uploaded: 1, skipped: 7, deleted: 1 }, del.stdout.trim())
  const after = await listing(home, '/b')
  t.alike(
    after.sort(),
    before
      .filter((l) => !l.startsWith('/b/notes.txt '))
      .concat(['/b/new.txt file 3'])
      .sort(),
    'only notes.txt removed, new.txt added'
  )
  // A folder deleted locally goes with everything in it; a sibling of the target is never touched.
  t.is((await runPeerstore(['backup', src, '--to', '/b-sibling', '--home', home, '-q'])).code, 0)
  fs.rmSync(path.join(src, 'photos'), { recursive: true })
  const delDir = await runPeerstore([...base, '--delete', '--quiet'])
  t.is(delDir.code, 0, delDir.stderr)
  // Six photos, their folder 2024 and photos itself (draft.tmp was never uploaded: excluded until now).
  t.is(counts(delDir.stdout)?.deleted, 8, delDir.stdout.trim())
  t.absent((await listing(home, '/b')).some((l) => l.includes('photos')))
  t.ok((await listing(home, '/b-sibling')).some((l) => l.startsWith('/b-sibling/photos/2024/p0.jpg ')))
})

test('backup and get show progress with an ETA on stderr, none with --quiet; the summary is always printed', {
  timeout: 120_000
}, async (t) => {
  const root = tempDir(t, 'backup-progress')
  const src = path.join(root, 'src')
  fs.mkdirSync(src)
  for (let i = 0; i < 3; i++) fs.writeFileSync(path.join(src, `f${i}.bin`), randomBytes(3 * 1024 * 1024))
  const home = await initHome(path.join(root, 'home'))
  // Not a terminal: a line every PEERSTORE_PROGRESS_MS (every few seconds by default).
  const env = { PEERSTORE_PROGRESS_MS: '0' }
  const line = /(backup|get): \d+\/3 files, [\d.]+ MiB\/9\.0 MiB, [\d.]+ MiB\/s, ETA /

  const quiet = await runPeerstore(['backup', src, '--to', '/q', '--home', home, '--quiet'], { env })
  t.is(quiet.code, 0, quiet.stderr)
  t.absent(line.test(quiet.stderr), 'no progress with --quiet')
  t.ok(counts(quiet.stdout), quiet.stdout.trim())

  const backup = await runPeerstore(['backup', src, '--to', '/p', '--home', home], { env })
  t.is(backup.code, 0, backup.stderr)
  t.ok(line.test(backup.stderr), backup.stderr.split('\n').slice(-2).join(' | '))
  t.ok(backup.stderr.includes('backup: 3/3 files, 9.0 MiB/9.0 MiB'), 'the last line says all is done')
  t.alike(counts(backup.stdout), { uploaded: 3, skipped: 0, deleted: 0 }, backup.stdout.trim())

  const get = await runPeerstore(['get', '/p', path.join(root, 'out'), '--home', home], { env })
  t.is(get.code, 0, get.stderr)
  t.ok(line.test(get.stderr), get.stderr.split('\n').slice(-2).join(' | '))
  t.ok(get.stderr.includes('get: 3/3 files, 9.0 MiB/9.0 MiB'), 'the last line says all is done')
  const getQuiet = await runPeerstore(['get', '/p', path.join(root, 'out2'), '--home', home, '-q'], { env })
  t.is(getQuiet.code, 0, getQuiet.stderr)
  t.absent(line.test(getQuiet.stderr), 'no progress with --quiet')
})
