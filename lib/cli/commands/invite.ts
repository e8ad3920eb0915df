import { formatHostPort, loadOrInitConfig, parseBootstrapList } from '../../node/config'
import { encodeInvite } from '../../node/invite-token'
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
    const token = encodeInvite({ networkKey: config.networkKey, bootstrap })
    if (args.flags.json) {
      ctx.stdout.write(`${JSON.stringify({ token, bootstrap: bootstrap.map(formatHostPort) })}\n`)
    } else {
      ctx.stdout.write(`${token}\n`)
    }
    return 0
  }
}
