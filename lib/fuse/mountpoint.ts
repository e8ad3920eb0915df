// Getting the mountpoint ready, and what a crash leaves there. The mount runs
// without libfuse's auto_unmount, so a crashed mount stays as a dead FUSE
// mount: every access fails with ENOTCONN and no program's write lands on
// the local disk unseen. The next mount clears it. If the dead mount was
// cleared by hand (fusermount -u, `peerstore unmount`, a reboot) and programs
// then wrote into the plain directory, the next mount of the same home moves
// those files into `<home>/recovered/<time>/` and says so, instead of
// refusing the directory. It knows the files came after a crash from the
// home's marker `mounted.json`: written before mounting, removed after a clean
// unmount, so a marker naming this mountpoint means its last mount never ended
// cleanly. A non-empty directory without that marker is the user's own and
// is refused, as before.

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { isFuseMounted, isStaleMount, mountAt } from './mount-process'
import { readOwnerFile, removeOwnerFile, writeOwnerFile } from './owner-files'
import { codedError } from '../common/errors'

const MARKER = 'mounted.json'

interface Marker {
  mountpoint: string
  pid: number
  since: string
}

function readMarker(home: string): Marker | null {
  try {
    const text = readOwnerFile(home, MARKER)
    const m = text === null ? null : (JSON.parse(text) as Partial<Marker>)
    return m && typeof m.mountpoint === 'string' ? (m as Marker) : null
  } catch {
    return null
  }
}

export interface PrepareOptions {
  mountpoint: string
  home: string
  notice: (line: string) => void
  now?: Date
}

/**
 * Called with the home locked (no other mount of this home runs), before
 * anything is mounted: clears a dead FUSE mount at the mountpoint, refuses a
 * live one, moves aside what programs wrote there after a crash of this home's
 * mount, and writes the marker. Call `mountEnded(home)` after a clean unmount
 * or when the mount did not come up.
 */
export function prepareMountpoint(opts: PrepareOptions): void {
  const mountpoint = path.resolve(opts.mountpoint)
  if (isFuseMounted(mountpoint)) {
    if (!isStaleMount(mountpoint)) {
      throw codedError('EBUSY', `${mountpoint} is already mounted (${mountAt(mountpoint)?.fstype})`)
    }
    // Before anything is mounted this process holds no /dev/fuse descriptor, so this child inherits none.
    const res = spawnSync('fusermount', ['-uz', mountpoint], { encoding: 'utf8' })
    if (isFuseMounted(mountpoint)) {
      throw codedError(
        'EBUSY',
        `could not clear the dead mount at ${mountpoint}: ${(res.stderr || res.error?.message || '').trim()}`
      )
    }
    opts.notice(`cleared the dead mount a crashed peerstore left at ${mountpoint}`)
  }
  let names: string[] = []
  try {
    names = fs.readdirSync(mountpoint)
  } catch (err) {
    // ENOENT: fuse-native's `mkdir` creates it.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (names.length > 0) {
    if (readMarker(opts.home)?.mountpoint !== mountpoint) {
      throw codedError('ENOTEMPTY', `mountpoint ${mountpoint} is not empty`)
    }
    const dest = moveAside(mountpoint, names, opts.home, opts.now ?? new Date())
    opts.notice(
      `${names.length} ${names.length === 1 ? 'entry was' : 'entries were'} written into ${mountpoint} ` +
        `while it was not mounted (after a crash); moved to ${dest} (not into the store: copy back what you want to keep)`
    )
  }
  const marker: Marker = { mountpoint, pid: process.pid, since: new Date().toISOString() }
  try {
    writeOwnerFile(opts.home, MARKER, `${JSON.stringify(marker)}\n`, { durable: true })
  } catch (err) {
    // A full disk must not keep the user from their files (writers get ENOSPC in the mount). Without the
    // marker, files written into the bare directory after a crash are refused ("not empty"), never lost.
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'ENOSPC' && code !== 'EDQUOT') throw err
    opts.notice(`could not write ${MARKER} in the home (${code}); mounting without the crash marker`)
  }
}

/** The mount ended cleanly (or never came up): the next mount treats a non-empty mountpoint as the user's. */
export function mountEnded(home: string): void {
  removeOwnerFile(home, MARKER)
}

/**
 * Moves every entry into `<home>/recovered/<time>/`, or when the home is on
 * another file system (rename cannot cross it, and a copy could race a
 * program still writing) into `<mountpoint>.recovered-<time>/` beside it.
 * Never deletes anything; stops with a clear error if neither works.
 */
function moveAside(mountpoint: string, names: string[], home: string, now: Date): string {
  const stamp = now.toISOString().replace(/[:.]/g, '-')
  const candidates = [path.join(home, 'recovered', stamp), `${mountpoint}.recovered-${stamp}`]
  let lastError: Error | null = null
  for (const dest of candidates) {
    fs.mkdirSync(dest, { recursive: true, mode: 0o700 })
    const moved: string[] = []
    try {
      for (const name of names) {
        fs.renameSync(path.join(mountpoint, name), path.join(dest, name))
        moved.push(name)
      }
      return dest
    } catch (err) {
      lastError = err as Error
      if (moved.length > 0) {
        throw codedError(
          'EIO',
          `moved ${moved.length} of ${names.length} stray entries from ${mountpoint} to ${dest}, then: ${lastError.message}; move the rest out and mount again`
        )
      }
      try {
        fs.rmdirSync(dest) // empty: nothing was moved into it
      } catch {}
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') break
    }
  }
  throw codedError(
    'ENOTEMPTY',
    `mountpoint ${mountpoint} holds ${names.length} entries written while it was not mounted (after a crash), ` +
      `and they could not be moved aside (${lastError?.message}); move them out and mount again`
  )
}
