import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { USER_SEED_FILE } from '../volume/volume-keys'

/** All state of one node or client lives under one directory, so several run side by side. */
export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(flag || env.PEERSTORE_HOME || path.join(os.homedir(), '.peerstore'))
}

/** What makes a directory a PeerStore home: any of its identities or its configuration (older homes may lack one). */
const HOME_MARKERS = ['config.json', USER_SEED_FILE, 'node.seed']

/**
 * Whether `home` is a PeerStore home. Only `init`, `join` and `mount` make
 * one: any other verb on a directory that is not one (a mistyped --home,
 * `--home ~`) is refused, never turned into a new home with a new identity.
 */
export function homeExists(home: string): boolean {
  return HOME_MARKERS.some((name) => fs.existsSync(path.join(home, name)))
}

export function hasUserIdentity(home: string): boolean {
  return fs.existsSync(path.join(home, USER_SEED_FILE))
}

/** Said once, by the command that made the user's identity: where its secret is and why it matters. */
export function newIdentityNotice(home: string): string {
  return (
    `created your user identity; its secret key is ${path.join(home, USER_SEED_FILE)} (owner-only). ` +
    'Keep it private and keep a copy: whoever has it can read and change all your files, ' +
    'and without it (or another computer of yours, or your recovery phrase) they cannot be read again.'
  )
}
