import os from 'node:os'
import path from 'node:path'

/** All state of one node or client lives under one directory, so several run side by side. */
export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(flag || env.PEERSTORE_HOME || path.join(os.homedir(), '.peerstore'))
}
