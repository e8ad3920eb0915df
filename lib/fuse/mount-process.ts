// What /proc says about a mountpoint and the process serving it. `peerstore
// unmount` signals a pid only after checking it here: a registry entry can be
// stale (the mount crashed and the pid was reused by an unrelated process), so
// the pid must be this user's, still the process that registered (same start
// time), and its command line a `peerstore mount` of that very directory.

import fs from 'node:fs'
import path from 'node:path'

/** Turns a `mount` command's arguments (after the word `mount`) into its DIR, or undefined. */
export type MountArgsParser = (args: string[]) => string | undefined

export interface FsMount {
  /** e.g. `fuse.peerstore` (fuse with subtype=peerstore), `ext4`. */
  fstype: string
  source: string
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeMountinfo(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)))
}

/** The file system mounted at `dir` (the topmost one), from /proc/self/mountinfo; null when none. */
export function mountAt(dir: string): FsMount | null {
  const target = path.resolve(dir)
  let text: string
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8')
  } catch {
    return null
  }
  let found: FsMount | null = null
  for (const line of text.split('\n')) {
    const fields = line.split(' ')
    const sep = fields.indexOf('-', 6)
    if (sep < 0 || fields[4] === undefined) continue
    if (unescapeMountinfo(fields[4]) !== target) continue
    found = { fstype: fields[sep + 1] ?? '', source: unescapeMountinfo(fields[sep + 2] ?? '') }
  }
  return found
}

/** A peerstore FUSE mount (fsname and subtype peerstore, lib/fuse/tuned-fuse.ts). */
export function isPeerstoreFs(m: FsMount | null): boolean {
  return m !== null && m.fstype === 'fuse.peerstore'
}

/** True when `dir` is a FUSE mount whose server is gone (every access fails with ENOTCONN). */
export function isStaleMount(dir: string): boolean {
  try {
    fs.statSync(dir)
    return false
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return code === 'ENOTCONN' || code === 'ENXIO'
  }
}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot; a pid reused later has another); null once it exited. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) is in parentheses and may itself hold spaces and ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // A zombie has exited; only its parent has not reaped it yet.
    if (rest[0] === 'Z') return null
    return rest[19] ?? null
  } catch {
    return null
  }
}

function processUid(pid: number): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    const m = /^Uid:\s+(\d+)/m.exec(status)
    return m ? Number(m[1]) : null
  } catch {
    return null
  }
}

/**
 * True when `pid` is a process of this user running `peerstore mount` on
 * `mountpoint`: its argv holds the peerstore script followed by `mount`, and
 * the DIR it was given, resolved against its working directory, is `mountpoint`.
 */
export function isPeerstoreMountOf(pid: number, mountpoint: string, parse: MountArgsParser): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  if (processUid(pid) !== (process.getuid?.() ?? 0)) return false
  let argv: string[]
  let cwd: string
  try {
    argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    cwd = fs.readlinkSync(`/proc/${pid}/cwd`)
  } catch {
    return false
  }
  if (argv.at(-1) === '') argv.pop()
  for (let i = 0; i + 1 < argv.length; i++) {
    // bin/peerstore.js (node), the npm bin link `peerstore`, or bin/peerstore.ts under a TypeScript runner.
    if (!/^peerstore(\.[cm]?[jt]s)?$/.test(path.basename(argv[i])) || argv[i + 1] !== 'mount') continue
    const dir = parse(argv.slice(i + 2))
    return dir !== undefined && path.resolve(cwd, dir) === path.resolve(mountpoint)
  }
  return false
}

/** Every process of this user that is a `peerstore mount` of `mountpoint` (a scan of /proc). */
export function findMountProcesses(mountpoint: string, parse: MountArgsParser): number[] {
  let names: string[]
  try {
    names = fs.readdirSync('/proc')
  } catch {
    return []
  }
  const found: number[] = []
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue
    const pid = Number(name)
    if (pid !== process.pid && isPeerstoreMountOf(pid, mountpoint, parse)) found.push(pid)
  }
  return found
}

/** True while `dir` is a FUSE mount (of any server, live or stale). */
export function isFuseMounted(dir: string): boolean {
  return mountAt(dir)?.fstype.startsWith('fuse') === true
}
