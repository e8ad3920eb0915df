import fs from 'node:fs'
import path from 'node:path'
import { keyPairFromSeed, loadOrCreateSeed, randomBytes, writeFileAtomic } from '../../crypto'
import { phraseToSeed, seedToPhrase } from '../../crypto/recovery-phrase'
import {
  DEFAULT_REPLICAS,
  parseBootstrapList,
  parseNetworkKey,
  parseReplicas,
  readConfig,
  writeConfig
} from '../../node/config'
import { HomeLock } from '../../volume/home-lock'
import { encodeUserId } from '../../volume/sharing/token'
import { ADOPTED_IDENTITY_FILE, USER_SEED_FILE } from '../../volume/volume-keys'
import { hasUserIdentity, newIdentityNotice } from '../home'
import { replicasFlag } from '../node-flags'
import { type Command, type CommandContext, type ParsedArgs, requirePositionals, usageError } from '../command'
import { phraseBlock, readPhrase } from '../recovery-io'

export const initCommand: Command = {
  name: 'init',
  home: 'creates',
  summary: 'create this home: node identity, your user identity (with its recovery phrase) and a new network',
  flags: [
    {
      name: 'network',
      type: 'string',
      value: 'KEY',
      description: 'join this network key (64 hex) instead of a new one'
    },
    {
      name: 'bootstrap',
      type: 'string',
      value: 'HOST:PORT,...',
      description:
        "a private network's bootstrap nodes (default: none; alone until the first 'invite' moves it to the DHT)"
    },
    replicasFlag('copies of each value', DEFAULT_REPLICAS),
    {
      name: 'recover',
      type: 'boolean',
      description: 'restore your identity from its recovery phrase (read from stdin, or --phrase)'
    },
    { name: 'phrase', type: 'string', value: 'WORDS', description: 'the recovery phrase, with --recover' },
    { name: 'json', type: 'boolean', description: 'print JSON' }
  ],
  async run(args, ctx) {
    requirePositionals(args, 0, '')
    if (args.flags.phrase !== undefined && !args.flags.recover) throw usageError('--phrase goes with --recover')
    const existing = readConfig(ctx.home)
    // A home that joined a network first (a plain invite) may still take its identity from the phrase.
    if (existing && !args.flags.recover) {
      ctx.stderr.write(
        `peerstore init: ${ctx.home} is already initialized (use 'peerstore join TOKEN' to switch networks)\n`
      )
      return 1
    }
    // The phrase is read and checked before anything is written, so a refused one changes nothing.
    const recovered = args.flags.recover ? await recoveredSeed(args, ctx) : null
    if (recovered) {
      const refusal = identityRefusal(ctx.home, recovered)
      if (refusal) {
        ctx.stderr.write(`peerstore init: ${refusal}\n`)
        return 1
      }
    }
    const { publicKey } = keyPairFromSeed(loadOrCreateSeed(path.join(ctx.home, 'node.seed')))
    // Recovering with no network named: the home stays without one, so that
    // 'join TOKEN' with a plain invite of the user's network needs no --force.
    const joinsLater = Boolean(recovered) && !args.flags.network
    if (!existing && !joinsLater) {
      writeConfig(ctx.home, {
        networkKey: args.flags.network ? parseNetworkKey(String(args.flags.network)) : randomBytes(32),
        bootstrap: args.flags.bootstrap ? parseBootstrapList(String(args.flags.bootstrap)) : [],
        replicas: parseReplicas(Number(args.flags.replicas))
      })
    }
    const seedFile = path.join(ctx.home, USER_SEED_FILE)
    let phrase: string | null = null
    if (recovered) {
      writeRecoveredIdentity(ctx.home, recovered)
    } else {
      // A home that made its identity before init (whoami, invite --device) shows that one's phrase.
      const hadIdentity = hasUserIdentity(ctx.home)
      phrase = seedToPhrase(loadOrCreateSeed(seedFile))
      if (!hadIdentity && !args.flags.json) ctx.stderr.write(`peerstore init: ${newIdentityNotice(ctx.home)}\n`)
    }
    const userId = encodeUserId(keyPairFromSeed(fs.readFileSync(seedFile)).publicKey)
    if (args.flags.json) {
      const out: Record<string, unknown> = { home: ctx.home, nodeKey: publicKey.toString('hex'), userId }
      if (phrase) out.recoveryPhrase = phrase
      if (recovered) out.recovered = true
      ctx.stdout.write(`${JSON.stringify(out)}\n`)
      return 0
    }
    if (!recovered) {
      ctx.stdout.write(`initialized ${ctx.home}\nnode key ${publicKey.toString('hex')}\nuser ${userId}\n`)
      ctx.stderr.write(`${phraseBlock(phrase!)}\n`)
    } else {
      ctx.stdout.write(`restored user ${userId} in ${ctx.home}\n`)
      ctx.stdout.write(
        joinsLater && !existing
          ? "next: 'peerstore join TOKEN' (a plain invite of your network), then 'peerstore mount DIR'\n"
          : "its first mount finds your tree in the ring ('peerstore mount DIR')\n"
      )
    }
    return 0
  }
}

async function recoveredSeed(args: ParsedArgs, ctx: CommandContext): Promise<Buffer> {
  if (args.flags.phrase !== undefined) return phraseToSeed(String(args.flags.phrase))
  if (process.stdin.isTTY) ctx.stderr.write('type your recovery phrase, then Enter:\n')
  return phraseToSeed(await readPhrase(process.stdin))
}

/** Why the phrase's identity may not go into this home, or null when it may. */
function identityRefusal(home: string, seed: Buffer): string | null {
  const seedFile = path.join(home, USER_SEED_FILE)
  let current: Buffer | null = null
  try {
    current = fs.readFileSync(seedFile)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (!current || current.equals(seed)) return null
  return `${seedFile} holds another user identity; restore into a new home (--home DIR), or move that file away first`
}

function writeRecoveredIdentity(home: string, seed: Buffer): void {
  const seedFile = path.join(home, USER_SEED_FILE)
  if (fs.existsSync(seedFile)) return
  // A mount running on this home would go on with no identity or another: refuse (the lock says it is there).
  const lock = new HomeLock(home)
  lock.acquire()
  try {
    writeFileAtomic(seedFile, seed, 0o600)
    // The tree of this identity is in the ring: the first mount here must find
    // it, never start a new root (docs/volume.md), as for a joined device.
    writeFileAtomic(path.join(home, ADOPTED_IDENTITY_FILE), Buffer.from('{}\n'), 0o600)
  } finally {
    lock.release()
  }
}
