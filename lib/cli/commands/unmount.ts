// `peerstore unmount DIR` from another shell: asks the mount process to flush
// and unmount (SIGTERM), and waits for it; without one (a crashed mount), it
// detaches the stale mount with fusermount.

import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { findMount, isMounted } from '../../fuse/mount-registry'
import { type Command, requirePositionals } from '../command'

export const unmountCommand: Command = {
  name: 'unmount',
  summary: 'flush and unmount a mounted store',
  positionals: 'DIR',
  flags: [
    { name: 'timeout', type: 'number', value: 'SECONDS', default: 120, description: 'how long to wait for the flush' }
  ],
  async run(args, ctx) {
    requirePositionals(args, 1, 'DIR')
    const mountpoint = path.resolve(args.positionals[0])
    const info = findMount(mountpoint)
    if (info) {
      process.kill(info.pid, 'SIGTERM')
      const deadline = Date.now() + Number(args.flags.timeout) * 1000
      while (Date.now() < deadline) {
        try {
          process.kill(info.pid, 0)
        } catch {
          ctx.stdout.write(`unmounted ${mountpoint}\n`)
          return 0
        }
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      ctx.stderr.write(`peerstore unmount: pid ${info.pid} is still flushing ${mountpoint}; try again later\n`)
      return 1
    }
    if (!isMounted(mountpoint)) {
      ctx.stderr.write(`peerstore unmount: ${mountpoint} is not mounted\n`)
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
    ctx.stdout.write(`unmounted ${mountpoint} (no mount process was running)\n`)
    return 0
  }
}
