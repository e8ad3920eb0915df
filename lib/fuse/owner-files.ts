// Runtime files only their owner can write. The mount registry lives in a
// shared temp directory, where another local user can create the directory
// first, or put a symlink where our file goes, and so make root overwrite a
// file of theirs choosing or signal a process they name (issue 12, item 14).
// So: the directory must be a real directory (lstat, not a symlink) owned by
// this user and writable by nobody else, in a parent where others cannot
// rename it away (owned by us or root, and sticky if others may write it);
// files are created O_EXCL|O_NOFOLLOW under a temp name and renamed into
// place (rename replaces a symlink, never follows it), and read O_NOFOLLOW
// and only when they are regular files of this user.

import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { codedError, type PeerStoreError } from '../common/errors'

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_WRONLY } = fs.constants
const S_ISVTX = 0o1000

function uid(): number {
  return process.getuid?.() ?? 0
}

/** Refused: a runtime path another user controls. `code` EACCES, the message says what and how to fix it. */
function unsafe(what: string): PeerStoreError {
  return codedError(
    'EACCES',
    `${what}; refusing to use it (another local user could redirect what peerstore writes there). ` +
      'Remove it, or set TMPDIR (or XDG_RUNTIME_DIR) to a directory only you can write',
    { unsafePath: true }
  )
}

/** Whether `err` is the refusal of a runtime path another user controls (not any EACCES). */
export function isUnsafePath(err: unknown): boolean {
  return (err as { unsafePath?: unknown } | null)?.unsafePath === true
}

/**
 * This user's runtime directory: `$XDG_RUNTIME_DIR/peerstore` when the session
 * has one (a 0700 directory nobody else can enter), else `$TMPDIR/peerstore-<uid>`.
 * Mount and unmount must agree on it; when they do not (different sessions),
 * unmount still finds the mount process through /proc (mount-process.ts).
 */
export function runtimeDir(env: NodeJS.ProcessEnv = process.env): string {
  // Set but missing (su or sudo without a login session): the temp dir, rather than a mount that cannot start.
  if (env.XDG_RUNTIME_DIR && fs.statSync(env.XDG_RUNTIME_DIR, { throwIfNoEntry: false })?.isDirectory()) {
    return path.join(env.XDG_RUNTIME_DIR, 'peerstore')
  }
  return path.join(os.tmpdir(), `peerstore-${uid()}`)
}

/** The parent must not let others swap our directory: owned by us or root, and sticky if others may write it. */
function checkParent(parent: string): void {
  const st = fs.statSync(parent)
  if (!st.isDirectory()) throw unsafe(`${parent} is not a directory`)
  if (st.uid !== uid() && st.uid !== 0) throw unsafe(`${parent} belongs to uid ${st.uid}, not to you or root`)
  if ((st.mode & 0o022) !== 0 && (st.mode & S_ISVTX) === 0) {
    throw unsafe(`${parent} is writable by other users and not sticky (mode ${(st.mode & 0o7777).toString(8)})`)
  }
}

/** Throws unless `dir` (lstat) is a real directory of this user that nobody else can write. */
export function checkOwnerDir(dir: string): void {
  const st = fs.lstatSync(dir)
  if (st.isSymbolicLink()) throw unsafe(`${dir} is a symbolic link`)
  if (!st.isDirectory()) throw unsafe(`${dir} is not a directory`)
  if (st.uid !== uid()) throw unsafe(`${dir} belongs to uid ${st.uid}, not to you (uid ${uid()})`)
  if ((st.mode & 0o022) !== 0) {
    throw unsafe(`${dir} is writable by other users (mode ${(st.mode & 0o777).toString(8)})`)
  }
}

/**
 * Creates `dir` (mode 0700, its parent must exist) or checks the one there;
 * one that others may read is narrowed to 0700, one they may write is refused.
 */
export function ensureOwnerDir(dir: string): void {
  checkParent(path.dirname(dir))
  try {
    fs.mkdirSync(dir, { mode: 0o700 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  checkOwnerDir(dir)
  const mode = fs.lstatSync(dir).mode & 0o777
  if (mode !== 0o700) fs.chmodSync(dir, 0o700)
}

/**
 * Writes `dir/name` atomically: a fresh temp file (O_EXCL|O_NOFOLLOW, 0600)
 * renamed over the name, so a symlink planted there is replaced, not followed.
 * `durable` fsyncs the file first (for files that must survive a power cut).
 */
export function writeOwnerFile(dir: string, name: string, data: string, opts: { durable?: boolean } = {}): void {
  const file = path.join(dir, name)
  const temp = path.join(dir, `.${name}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`)
  const fd = fs.openSync(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
  try {
    fs.writeSync(fd, data)
    if (opts.durable) fs.fsyncSync(fd)
  } catch (err) {
    fs.closeSync(fd)
    fs.rmSync(temp, { force: true })
    throw err
  }
  fs.closeSync(fd)
  try {
    fs.renameSync(temp, file)
  } catch (err) {
    fs.rmSync(temp, { force: true })
    throw err
  }
}

/** Reads `dir/name` if it is a regular file of this user (never through a symlink); null otherwise. */
export function readOwnerFile(dir: string, name: string): string | null {
  let fd: number
  try {
    // O_NONBLOCK: a FIFO planted there must not hang the reader (fstat then rejects it).
    fd = fs.openSync(path.join(dir, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
  } catch {
    return null
  }
  try {
    const st = fs.fstatSync(fd)
    if (!st.isFile() || st.uid !== uid()) return null
    return fs.readFileSync(fd, 'utf8')
  } finally {
    fs.closeSync(fd)
  }
}

/** Removes `dir/name` (unlink never follows a symlink); gone already is fine. */
export function removeOwnerFile(dir: string, name: string): void {
  fs.rmSync(path.join(dir, name), { force: true })
}
