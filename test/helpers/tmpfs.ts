// A small real disk for disk-full tests: a tmpfs of a few MiB mounted on a
// fresh directory under /tmp (the tests run as root), unmounted in teardown
// after everything that used it has closed, and on process exit.

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Test } from 'brittle'

function unmount(dir: string): void {
  // -l: a process that still holds a file there (a crashed child) cannot keep it mounted.
  spawnSync('umount', ['-l', dir])
  fs.rmSync(dir, { recursive: true, force: true })
}

/** Mounts a tmpfs of `mib` MiB; teardown (last of all) unmounts it and removes the directory. */
export function smallDisk(t: Test, mib: number, prefix = 'disk'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `peerstore-${prefix}-`))
  const res = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m,mode=0700`, 'tmpfs', dir], { encoding: 'utf8' })
  if (res.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true })
    throw new Error(`cannot mount a tmpfs (root needed): ${res.stderr}`)
  }
  const onExit = () => unmount(dir)
  process.once('exit', onExit)
  t.teardown(
    () => {
      process.removeListener('exit', onExit)
      unmount(dir)
    },
    { order: Number.POSITIVE_INFINITY }
  )
  return dir
}

/** Bytes free on the filesystem under `dir`. */
export function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir)
  return s.bavail * s.bsize
}
