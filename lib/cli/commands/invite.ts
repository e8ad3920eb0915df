import path from 'node:path'
import { loadOrCreateSeed } from '../../crypto/keys'
import {
  configError,
  discoveryOf,
  formatHostPort,
  type HostPort,
  loadOrInitConfig,
  type NodeConfig,
  parseBootstrapList,
  writeConfig
} from '../../node/config'
import { ControlClient, controlSocketPath } from '../../node/control'
import { encodeInvite } from '../../node/invite-token'
import { USER_SEED_FILE } from '../../volume/volume-keys'
import { type Command, type CommandContext, requirePositionals } from '../command'

export const inviteCommand: Command = {
  name: 'invite',
  summary: 'print a token that lets another machine join this network (keep it secret)',
  flags: [
    {
      name: 'bootstrap',
      type: 'string',
      value: 'HOST:PORT,...',
      description:
        "a private network's bootstrap nodes to put in the token (default: the configured ones, or none: the DHT)"
    },
    {
      name: 'device',
      type: 'boolean',
      description: 'also carry your user identity, for another computer of yours (it gets full access to your files)'
    },
    { name: 'json', type: 'boolean', description: 'print JSON' }
  ],
  async run(args, ctx) {
    requirePositionals(args, 0, '')
    const config = loadOrInitConfig(ctx.home)
    const bootstrap = args.flags.bootstrap
      ? givenBootstrap(String(args.flags.bootstrap))
      : await configuredBootstrap(config, ctx)
    const device = Boolean(args.flags.device)
    // The identity is created here if this home never mounted yet, so that
    // both computers start out as the same user.
    const userSeed = device ? loadOrCreateSeed(path.join(ctx.home, USER_SEED_FILE)) : undefined
    // No bootstrap address in the token: the machine that joins finds the network on the DHT.
    const token = encodeInvite({ networkKey: config.networkKey, bootstrap, userSeed })
    if (device) {
      ctx.stderr.write(
        'peerstore invite: this device token carries your user key: whoever holds it can read, change and\n' +
          "delete all your files. Give it only to your own computer ('peerstore join TOKEN'), over a private channel.\n"
      )
    }
    if (args.flags.json) {
      const discovery = bootstrap.length > 0 ? 'private' : 'dht'
      ctx.stdout.write(`${JSON.stringify({ token, device, discovery, bootstrap: bootstrap.map(formatHostPort) })}\n`)
    } else {
      ctx.stdout.write(`${token}\n`)
    }
    return 0
  }
}

function givenBootstrap(text: string): HostPort[] {
  const list = parseBootstrapList(text)
  if (list.length === 0) throw configError('--bootstrap needs at least one HOST:PORT')
  return list
}

/**
 * The bootstrap addresses of the home's network for a token: a private
 * network's, or none in DHT mode. A home that is alone (a fresh one: a ring
 * of one with no socket) is switched to DHT discovery first, since a token
 * is only worth making for a network others can find.
 */
async function configuredBootstrap(config: NodeConfig, ctx: CommandContext): Promise<HostPort[]> {
  const mode = discoveryOf(config)
  if (mode === 'private') return config.bootstrap
  if (mode === 'alone') {
    writeConfig(ctx.home, { ...config, discovery: 'dht', bootstrap: [] })
    const running = await ControlClient.connect(controlSocketPath(ctx.home))
    running?.close()
    ctx.stderr.write(
      'peerstore invite: this home now finds its network on the DHT (saved in config.json; it was alone, with no socket).\n' +
        (running
          ? 'The node running on it keeps to itself until you restart it (unmount and mount, or serve again).\n'
          : '')
    )
  }
  return []
}
