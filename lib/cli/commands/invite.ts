import path from 'node:path'
import { loadOrCreateSeed } from '../../crypto/keys'
import { formatHostPort, loadOrInitConfig, parseBootstrapList } from '../../node/config'
import { encodeInvite } from '../../node/invite-token'
import { USER_SEED_FILE } from '../../volume/volume-keys'
import { type Command, requirePositionals } from '../command'

export const inviteCommand: Command = {
  name: 'invite',
  summary: 'print a token that lets another machine join this network (keep it secret)',
  flags: [
    {
      name: 'bootstrap',
      type: 'string',
      value: 'HOST:PORT,...',
      description: 'addresses to put in the token (default: the configured ones)'
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
    const bootstrap = args.flags.bootstrap ? parseBootstrapList(String(args.flags.bootstrap)) : config.bootstrap
    if (bootstrap.length === 0) {
      // A home without bootstrap addresses is a ring of one that opens no socket
      // (the offline default), so a token without them would lead nowhere.
      ctx.stderr.write(
        'peerstore invite: this network has no bootstrap address, so no other machine could find it.\n' +
          "Run 'peerstore bootstrap --port P --host ADDR' on a reachable machine, then\n" +
          "'peerstore invite --bootstrap ADDR:P' (and give this node the same address with 'peerstore join').\n"
      )
      return 1
    }
    const device = Boolean(args.flags.device)
    // The identity is created here if this home never mounted yet, so that
    // both computers start out as the same user.
    const userSeed = device ? loadOrCreateSeed(path.join(ctx.home, USER_SEED_FILE)) : undefined
    const token = encodeInvite({ networkKey: config.networkKey, bootstrap, userSeed })
    if (device) {
      ctx.stderr.write(
        'peerstore invite: this device token carries your user key: whoever holds it can read, change and\n' +
          "delete all your files. Give it only to your own computer ('peerstore join TOKEN'), over a private channel.\n"
      )
    }
    if (args.flags.json) {
      ctx.stdout.write(`${JSON.stringify({ token, device, bootstrap: bootstrap.map(formatHostPort) })}\n`)
    } else {
      ctx.stdout.write(`${token}\n`)
    }
    return 0
  }
}
