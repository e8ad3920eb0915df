import fs from 'node:fs'
import path from 'node:path'
import { keyPairFromSeed, loadOrCreateSeed, writeFileAtomic } from '../../crypto'
import {
  configError,
  DEFAULT_REPLICAS,
  formatHostPort,
  parseBootstrapList,
  readConfig,
  writeConfig
} from '../../node/config'
import { decodeInvite } from '../../node/invite-token'
import { HomeLock } from '../../volume/home-lock'
import { ADOPTED_IDENTITY_FILE, USER_SEED_FILE } from '../../volume/volume-keys'
import { type Command, requirePositionals } from '../command'

export const joinCommand: Command = {
  name: 'join',
  home: 'creates',
  summary: "store an invite token from 'peerstore invite' (or 'invite --device') so this machine joins that network",
  positionals: 'TOKEN',
  flags: [
    {
      name: 'bootstrap',
      type: 'string',
      value: 'HOST:PORT,...',
      description:
        "a private network's bootstrap nodes, instead of the token's (or of the DHT, for a token without any)"
    },
    {
      name: 'force',
      type: 'boolean',
      description: 'leave the network this home is already in, or replace its user identity with the token'
    }
  ],
  async run(args, ctx) {
    requirePositionals(args, 1, 'TOKEN')
    const invite = decodeInvite(args.positionals[0])
    const bootstrap = args.flags.bootstrap ? parseBootstrapList(String(args.flags.bootstrap)) : invite.bootstrap
    if (args.flags.bootstrap && bootstrap.length === 0) throw configError('--bootstrap needs at least one HOST:PORT')
    const force = Boolean(args.flags.force)
    const existing = readConfig(ctx.home)
    if (existing && !existing.networkKey.equals(invite.networkKey) && !force) {
      ctx.stderr.write(
        `peerstore join: ${ctx.home} already belongs to another network; add --force to leave it for this one\n`
      )
      return 1
    }
    // Checked before anything is written, so a refused join changes nothing.
    const seedFile = path.join(ctx.home, USER_SEED_FILE)
    const identity = invite.userSeed ? identityChange(ctx.home, seedFile, invite.userSeed, force) : null
    if (identity?.refusal) {
      ctx.stderr.write(`peerstore join: ${identity.refusal}\n`)
      return 1
    }
    // A mount running on this home would go on with the old identity: refuse (the lock says it is there).
    const lock = identity?.write ? new HomeLock(ctx.home) : null
    lock?.acquire()
    try {
      keyPairFromSeed(loadOrCreateSeed(path.join(ctx.home, 'node.seed')))
      // A token without bootstrap addresses is a network found on the DHT (docs/architecture.md, "Discovery").
      writeConfig(ctx.home, {
        networkKey: invite.networkKey,
        discovery: bootstrap.length > 0 ? 'private' : 'dht',
        bootstrap,
        replicas: existing?.replicas ?? DEFAULT_REPLICAS
      })
      if (identity?.write) {
        writeFileAtomic(seedFile, invite.userSeed!, 0o600)
        // This identity's tree lives on the user's other computers: the first
        // mount here must find it, never start a new one (docs/volume.md).
        writeFileAtomic(path.join(ctx.home, ADOPTED_IDENTITY_FILE), Buffer.from('{}\n'), 0o600)
      }
    } finally {
      lock?.release()
    }
    const where = bootstrap.length ? ` via ${bootstrap.map(formatHostPort).join(', ')}` : ', found on the DHT'
    ctx.stdout.write(`joined network ${invite.networkKey.subarray(0, 4).toString('hex')}…${where}\n`)
    if (invite.userSeed) {
      const user = keyPairFromSeed(invite.userSeed).publicKey.subarray(0, 4).toString('hex')
      ctx.stdout.write(`this computer now mounts the tree of user ${user}… ('peerstore mount DIR')\n`)
    }
    return 0
  }
}

/** Whether the token's identity may be stored in this home, and whether that needs a write. */
function identityChange(
  home: string,
  seedFile: string,
  seed: Buffer,
  force: boolean
): { write: boolean; refusal?: string } {
  let current: Buffer | null = null
  try {
    current = fs.readFileSync(seedFile)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (current?.equals(seed)) return { write: false }
  if (!current) return { write: true }
  if (!force) {
    return {
      write: false,
      refusal:
        `${seedFile} holds another user identity; add --force to replace it with the token's ` +
        '(the files of the old identity stay in the ring but this home can no longer open them)'
    }
  }
  // The journal is encrypted with the old identity's key: replacing it would drop
  // changes a mount confirmed but never wrote to the ring. Mount once to flush them.
  const journal = path.join(home, 'cache', 'journal')
  const pending = fs.existsSync(journal) && fs.readdirSync(journal).length > 0
  if (pending) {
    return {
      write: false,
      refusal: `${journal} holds changes of the current identity not yet in the ring; mount and unmount this home once, then join again`
    }
  }
  return { write: true }
}
