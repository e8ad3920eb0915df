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
    const token = encodeInvite({ networkKey: config.networkKey, bootstrap })
    if (args.flags.json) {
      ctx.stdout.write(`${JSON.stringify({ token, bootstrap: bootstrap.map(formatHostPort) })}\n`)
    } else {
      ctx.stdout.write(`${token}\n`)
      if (bootstrap.length === 0) {
        ctx.stderr.write(
          'note: the token names no bootstrap address; the other machine finds this network on the public DHT\n'
        )
      }
    }
    return 0
  }
}
