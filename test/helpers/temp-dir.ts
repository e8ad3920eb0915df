// The one temp-dir helper of the tests: a fresh directory under the system
// temp dir, removed in the test's teardown after everything else (stores,
// nodes and mounts close first), or when the process exits if the teardown
// never ran (a failed test). A mount still on it or under it (a FUSE mount, a
// tmpfs) is detached first, so that the removal cannot reach through it.

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export interface HasTeardown {
  teardown(fn: () => unknown, opts?: { order?: number }): void
}

const pending = new Set<string>()

process.once('exit', () => {
  for (const dir of pending) removeTempDir(dir)
})

/** The mount points of this machine, as /proc/self/mountinfo lists them (field 5), with their fs type. */
function mounts(): { dir: string; type: string }[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const fields = line.split(' ')
      return { dir: fields[4], type: fields[fields.indexOf('-') + 1] ?? '' }
    })
}

export function isMounted(dir: string): boolean {
  return mounts().some((m) => m.dir === dir)
}

/** Detaches what is mounted on or under `dir` (deepest first), then removes it unless a mount stayed. */
function removeTempDir(dir: string): void {
  pending.delete(dir)
  const inside = mounts()
    .filter((m) => m.dir === dir || m.dir.startsWith(`${dir}/`))
    .sort((a, b) => b.dir.length - a.dir.length)
  for (const m of inside) {
    // -z / -l: a process that still holds a file there (a crashed child) cannot keep it mounted.
    if (m.type.startsWith('fuse')) spawnSync('fusermount', ['-uz', m.dir])
    else spawnSync('umount', ['-l', m.dir])
  }
  if (inside.length > 0 && mounts().some((m) => m.dir === dir || m.dir.startsWith(`${dir}/`))) return
  fs.rmSync(dir, { recursive: true, force: true })
}

/** A fresh directory `peerstore-<prefix>-XXXXXX` under the system temp dir, removed last in `t`'s teardown. */
export function tempDir(t: HasTeardown, prefix = 'tmp'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `peerstore-${prefix}-`))
  pending.add(dir)
  t.teardown(() => removeTempDir(dir), { order: Number.POSITIVE_INFINITY })
  return dir
}
