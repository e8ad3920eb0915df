// Running mounts, so that `peerstore unmount DIR` from another shell can ask
// the right process to flush and unmount (SIGTERM) rather than pulling the
// mount from under it. One small file per mountpoint in a per-user runtime dir.

import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export interface MountInfo {
  pid: number
  mountpoint: string
  home: string
}

function registryDir(): string {
  return path.join(os.tmpdir(), `peerstore-${process.getuid?.() ?? 0}`, 'mounts')
}

function fileFor(mountpoint: string): string {
  return path.join(
    registryDir(),
    `${createHash('sha256').update(path.resolve(mountpoint)).digest('hex').slice(0, 32)}.json`
  )
}

export function registerMount(info: MountInfo): void {
  fs.mkdirSync(registryDir(), { recursive: true, mode: 0o700 })
  fs.writeFileSync(fileFor(info.mountpoint), JSON.stringify(info), { mode: 0o600 })
}

export function unregisterMount(mountpoint: string): void {
  fs.rmSync(fileFor(mountpoint), { force: true })
}

export function findMount(mountpoint: string): MountInfo | null {
  try {
    const info = JSON.parse(fs.readFileSync(fileFor(mountpoint), 'utf8')) as MountInfo
    process.kill(info.pid, 0)
    return info
  } catch {
    return null
  }
}

/** True while `dir` is a FUSE mount of type fuse.peerstore (or any fuse) in /proc/self/mountinfo. */
export function isMounted(dir: string): boolean {
  const target = path.resolve(dir)
  let text: string
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8')
  } catch {
    return false
  }
  for (const line of text.split('\n')) {
    const fields = line.split(' ')
    const sep = fields.indexOf('-')
    if (sep < 0) continue
    const mountPoint = fields[4]?.replace(/\\040/g, ' ')
    if (mountPoint === target && fields[sep + 1]?.startsWith('fuse')) return true
  }
  return false
}
