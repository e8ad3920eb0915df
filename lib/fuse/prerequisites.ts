// FUSE 2 must be present: the kernel device and libfuse.so.2 (which the
// fuse-native prebuild links) plus fusermount. Checked without spawning
// anything (a mount process must never fork: children inherit /dev/fuse).

import fs from 'node:fs'
import path from 'node:path'

export const FUSE_PACKAGES_HINT =
  'FUSE 2 is required: install the packages `fuse libfuse2` (Debian/Ubuntu: sudo apt-get install fuse libfuse2)'

export function findOnPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = path.join(dir || '.', name)
    try {
      fs.accessSync(p, fs.constants.X_OK)
      return p
    } catch {}
  }
  return null
}

/** Null when FUSE is usable, else one message saying what is missing and what to install. */
export function checkFuse(): string | null {
  const missing: string[] = []
  if (!fs.existsSync('/dev/fuse')) missing.push('/dev/fuse')
  if (!findOnPath('fusermount')) missing.push('fusermount')
  try {
    require('fuse-native')
  } catch (err) {
    missing.push(`libfuse.so.2 (${(err as Error).message.split('\n')[0]})`)
  }
  if (missing.length === 0) return null
  return `missing ${missing.join(', ')}. ${FUSE_PACKAGES_HINT}`
}
