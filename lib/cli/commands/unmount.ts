// `peerstore unmount DIR` from another shell: asks the mount process to flush
// and unmount (SIGTERM), and waits for it; with no mount process (a crashed
// one left a dead mount), it detaches the dead mount with fusermount. It acts
// only on what it has verified: DIR must be a peerstore FUSE mount in
// /proc/self/mountinfo, and the pid it signals must be this user's process
// whose command line is `peerstore mount DIR` (a registry entry can be stale
// or planted: docs/fuse.md, "Local users and crashes").

import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { hasCode } from '../../common/errors'
import { waitFor } from '../../common/retry'
import { findMountProcesses, isPeerstoreFs, isStaleMount, mountAt, processStartTime } from '../../fuse/mount-process'
import { type MountInfo, readMountEntry, unregisterMount, verifyMount } from '../../fuse/mount-registry'
import { isUnsafePath } from '../../fuse/owner-files'
import { type Command, requirePositionals } from '../command'
import { mountDirOfArgs } from './mount'

export const unmountCommand: Command = {
  name: 'unmount',
  home: 'unused',
  summary: 'flush and unmount a mounted store',
  positionals: 'DIR',
  flags: [
    {
      name: 'timeout',
      type: 'number',
      value: 'SECONDS',
      min: 0,
      default: 120,
      description: 'how long to wait for the flush'
    }
  ],
  async run(args, ctx) {
    requirePositionals(args, 1, 'DIR')
    const mountpoint = path.resolve(args.positionals[0])
    let entry: MountInfo | null = null
    try {
      entry = readMountEntry(mountpoint)
    } catch (err) {
      if (!isUnsafePath(err)) throw err
      // Not trusted, not needed: the mount process is looked up in /proc instead.
      ctx.stderr.write(`peerstore unmount: ignoring the mount registry: ${(err as Error).message}\n`)
    }
    const fsMount = mountAt(mountpoint)
    if (!fsMount) {
      if (entry) unregisterMount(mountpoint)
      ctx.stderr.write(`peerstore unmount: ${mountpoint} is not mounted\n`)
      return 1
    }
    if (!isPeerstoreFs(fsMount)) {
      ctx.stderr.write(`peerstore unmount: ${mountpoint} is a ${fsMount.fstype} mount, not peerstore; left alone\n`)
      return 1
    }
    let pid: number | null = null
    if (entry) {
      if (verifyMount(entry, mountDirOfArgs)) pid = entry.pid
      else unregisterMount(mountpoint) // stale: its pid is gone or now another program
    }
    if (pid === null) {
      const found = findMountProcesses(mountpoint, mountDirOfArgs)
      if (found.length > 1) {
        ctx.stderr.write(
          `peerstore unmount: several processes claim ${mountpoint} (pids ${found.join(', ')}); stop the right one yourself\n`
        )
        return 1
      }
      pid = found[0] ?? null
    }
    if (pid !== null) return await stopMountProcess(pid, mountpoint, Number(args.flags.timeout), ctx)

    if (!isStaleMount(mountpoint)) {
      ctx.stderr.write(
        `peerstore unmount: ${mountpoint} is mounted, but no peerstore mount process of yours serves it; ` +
          `nobody was signalled (fusermount -u ${mountpoint} detaches it)\n`
      )
      return 1
    }
    const res = spawnSync('fusermount', ['-u', mountpoint], { encoding: 'utf8' })
    if (res.status !== 0) {
      const lazy = spawnSync('fusermount', ['-uz', mountpoint], { encoding: 'utf8' })
      if (lazy.status !== 0) {
        ctx.stderr.write(`peerstore unmount: ${(res.stderr || lazy.stderr || 'fusermount failed').trim()}\n`)
        return 1
      }
    }
    ctx.stdout.write(`unmounted ${mountpoint} (a dead mount: no mount process was running)\n`)
    return 0
  }
}

async function stopMountProcess(
  pid: number,
  mountpoint: string,
  timeoutSeconds: number,
  ctx: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }
): Promise<number> {
  // The process is gone once its start time changes (exited, or the pid reused).
  const startTime = processStartTime(pid)
  process.kill(pid, 'SIGTERM')
  try {
    await waitFor(() => processStartTime(pid) !== startTime, {
      timeoutMs: timeoutSeconds * 1000,
      intervalMs: 100,
      what: `pid ${pid} to exit`
    })
    ctx.stdout.write(`unmounted ${mountpoint}\n`)
    return 0
  } catch (err) {
    if (!hasCode(err, 'ETIMEDOUT')) throw err
  }
  ctx.stderr.write(`peerstore unmount: pid ${pid} is still flushing ${mountpoint}; try again later\n`)
  return 1
}
