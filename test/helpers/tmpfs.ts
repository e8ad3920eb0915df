// A small real disk for disk-full tests: a tmpfs of a few MiB mounted on a
// fresh temp dir (the tests run as root). The temp dir's removal, after
// everything that used it has closed (or on process exit), unmounts it first.

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import type { Test } from 'brittle'
import { tempDir } from './temp-dir'

/** Mounts a tmpfs of `mib` MiB on a fresh temp dir of `t`. */
export function smallDisk(t: Test, mib: number, prefix = 'disk'): string {
  const dir = tempDir(t, prefix)
  const res = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m,mode=0700`, 'tmpfs', dir], { encoding: 'utf8' })
  if (res.status !== 0) throw new Error(`cannot mount a tmpfs (root needed): ${res.stderr}`)
  return dir
}

/** Bytes free on the filesystem under `dir`. */
export function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir)
  return s.bavail * s.bsize
}
