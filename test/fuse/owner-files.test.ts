// The owner-only runtime files under the mount registry (lib/fuse/owner-files.ts):
// what is refused, and that nothing is ever written or read through a symlink.

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import {
  checkOwnerDir,
  ensureOwnerDir,
  readOwnerFile,
  runtimeDir,
  isUnsafePath,
  writeOwnerFile
} from '../../lib/fuse/owner-files'
import { tempDir } from '../helpers/temp-dir'

const isRoot = process.getuid?.() === 0

test('ensureOwnerDir creates 0700, narrows a readable one, refuses writable, symlinked and foreign ones', async (t) => {
  const base = tempDir(t, 'owner')
  const fresh = path.join(base, 'fresh')
  ensureOwnerDir(fresh)
  t.is(fs.lstatSync(fresh).mode & 0o777, 0o700, 'created 0700')

  const readable = path.join(base, 'readable')
  fs.mkdirSync(readable, { mode: 0o755 })
  fs.chmodSync(readable, 0o755)
  ensureOwnerDir(readable)
  t.is(fs.lstatSync(readable).mode & 0o777, 0o700, 'narrowed to 0700')

  const writable = path.join(base, 'writable')
  fs.mkdirSync(writable)
  fs.chmodSync(writable, 0o770)
  t.exception(() => ensureOwnerDir(writable), /writable by other users/)

  const link = path.join(base, 'link')
  fs.symlinkSync(fresh, link)
  t.exception(() => ensureOwnerDir(link), /symbolic link/)
  let err: unknown = null
  try {
    checkOwnerDir(link)
  } catch (e) {
    err = e
  }
  t.ok(isUnsafePath(err) && (err as { code?: string }).code === 'EACCES', 'an unsafe-path refusal, code EACCES')

  const file = path.join(base, 'file')
  fs.writeFileSync(file, '')
  t.exception(() => ensureOwnerDir(file), /not a directory/)

  const open = tempDir(t, 'open-parent')
  fs.chmodSync(open, 0o777)
  t.exception(() => ensureOwnerDir(path.join(open, 'x')), /not sticky/, 'a parent anyone can write, not sticky')
  fs.chmodSync(open, 0o1777)
  ensureOwnerDir(path.join(open, 'x'))
  t.pass('a sticky world-writable parent, like /tmp, is fine')

  if (isRoot && spawnSync('id', ['nobody']).status === 0) {
    const foreign = path.join(base, 'foreign')
    fs.mkdirSync(foreign, { mode: 0o700 })
    const nobody = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim())
    fs.chownSync(foreign, nobody, nobody)
    t.exception(() => ensureOwnerDir(foreign), /belongs to uid/)
  } else {
    t.comment('foreign owner: skipped (needs root and the user nobody)')
  }
})

test('writeOwnerFile replaces a planted symlink instead of following it; readOwnerFile never follows one', async (t) => {
  const dir = tempDir(t, 'owner-files')
  const victim = path.join(tempDir(t, 'owner-victim'), 'target')
  fs.writeFileSync(victim, 'victim\n')
  fs.symlinkSync(victim, path.join(dir, 'entry.json'))
  t.is(readOwnerFile(dir, 'entry.json'), null, 'a symlink is not read through')

  writeOwnerFile(dir, 'entry.json', '{"a":1}')
  t.is(fs.readFileSync(victim, 'utf8'), 'victim\n', 'the symlink target is unchanged')
  t.ok(fs.lstatSync(path.join(dir, 'entry.json')).isFile(), 'the symlink was replaced by a file')
  t.is(fs.lstatSync(path.join(dir, 'entry.json')).mode & 0o777, 0o600)
  t.is(readOwnerFile(dir, 'entry.json'), '{"a":1}')
  t.alike(
    fs.readdirSync(dir).filter((n) => n.endsWith('.tmp')),
    [],
    'no temp file left'
  )

  spawnSync('mkfifo', [path.join(dir, 'fifo')])
  if (fs.existsSync(path.join(dir, 'fifo')))
    t.is(readOwnerFile(dir, 'fifo'), null, 'a FIFO is not read (and does not hang)')
  t.is(readOwnerFile(dir, 'missing'), null)
})

test('runtimeDir: XDG_RUNTIME_DIR when it exists, else TMPDIR/peerstore-<uid>', async (t) => {
  const xdg = tempDir(t, 'xdg')
  t.is(runtimeDir({ XDG_RUNTIME_DIR: xdg }), path.join(xdg, 'peerstore'))
  const tmpName = `peerstore-${process.getuid?.() ?? 0}`
  t.ok(runtimeDir({}).endsWith(tmpName))
  t.ok(
    runtimeDir({ XDG_RUNTIME_DIR: path.join(xdg, 'missing') }).endsWith(tmpName),
    'a missing XDG_RUNTIME_DIR is skipped'
  )
})
