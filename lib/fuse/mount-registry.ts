// Running mounts, so that `peerstore unmount DIR` from another shell can ask
// the right process to flush and unmount (SIGTERM) rather than pulling the
// mount from under it. One small file per mountpoint in this user's runtime
// dir (owner-files.ts: 0700, checked with lstat, files never opened through a
// symlink). An entry is only a hint: before anyone is signalled, the pid is
// checked against /proc (mount-process.ts).

import { createHash } from 'node:crypto'
import path from 'node:path'
import { isPeerstoreMountOf, type MountArgsParser, processStartTime } from './mount-process'
import {
  checkOwnerDir,
  ensureOwnerDir,
  readOwnerFile,
  removeOwnerFile,
  runtimeDir,
  writeOwnerFile
} from './owner-files'

export interface MountInfo {
  pid: number
  mountpoint: string
  home: string
  /** /proc/PID/stat start time of the mount process: a reused pid has another. */
  startTime?: string
}

function registryDir(): string {
  return path.join(runtimeDir(), 'mounts')
}

function entryName(mountpoint: string): string {
  return `${createHash('sha256').update(path.resolve(mountpoint)).digest('hex').slice(0, 32)}.json`
}

/** The registry directory if it exists and is safe; null if it does not exist; throws an unsafe-path EACCES (isUnsafePath). */
function existingRegistryDir(): string | null {
  const dir = registryDir()
  for (const d of [path.dirname(dir), dir]) {
    try {
      checkOwnerDir(d)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw err
    }
  }
  return dir
}

/** Creates or checks the registry directory; throws an unsafe-path EACCES (isUnsafePath) for one another user controls. */
export function prepareRegistry(): void {
  ensureOwnerDir(path.dirname(registryDir()))
  ensureOwnerDir(registryDir())
}

/** Records this process as the mount of `info.mountpoint`; throws an unsafe-path EACCES (isUnsafePath) for a runtime dir others control. */
export function registerMount(info: Omit<MountInfo, 'startTime'>): void {
  prepareRegistry()
  const entry: MountInfo = { ...info, startTime: processStartTime(info.pid) ?? undefined }
  writeOwnerFile(registryDir(), entryName(info.mountpoint), JSON.stringify(entry))
}

/** Removes the entry of `mountpoint`, if the registry is there and safe. */
export function unregisterMount(mountpoint: string): void {
  try {
    const dir = existingRegistryDir()
    if (dir) removeOwnerFile(dir, entryName(mountpoint))
  } catch {
    // An unsafe registry was never written to; nothing of ours to remove.
  }
}

/**
 * The registered entry for `mountpoint`, whatever its pid is now (check it
 * with verifyMount); null without one. Throws an unsafe-path EACCES (isUnsafePath) when the
 * registry directory is one another user controls.
 */
export function readMountEntry(mountpoint: string): MountInfo | null {
  const dir = existingRegistryDir()
  if (!dir) return null
  const text = readOwnerFile(dir, entryName(mountpoint))
  if (text === null) return null
  let info: Partial<MountInfo>
  try {
    info = JSON.parse(text) as Partial<MountInfo>
  } catch {
    return null
  }
  if (!Number.isSafeInteger(info.pid) || (info.pid as number) <= 0) return null
  if (info.mountpoint !== path.resolve(mountpoint) || typeof info.home !== 'string') return null
  return {
    pid: info.pid as number,
    mountpoint: info.mountpoint,
    home: info.home,
    startTime: typeof info.startTime === 'string' ? info.startTime : undefined
  }
}

/** True when the entry's pid is still the process that registered and is a peerstore mount of its mountpoint. */
export function verifyMount(info: MountInfo, parse: MountArgsParser): boolean {
  if (info.startTime !== undefined && processStartTime(info.pid) !== info.startTime) return false
  return isPeerstoreMountOf(info.pid, info.mountpoint, parse)
}

/** The verified mount process of `mountpoint` from the registry, or null (an unsafe registry counts as none). */
export function findMount(mountpoint: string, parse: MountArgsParser): MountInfo | null {
  try {
    const info = readMountEntry(mountpoint)
    return info && verifyMount(info, parse) ? info : null
  } catch {
    return null
  }
}
