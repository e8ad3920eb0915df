// `peerstore accept TOKEN`: keeps a share another user sent you; your mount
// shows it read-only under DIR/@shared/<sharer>/<name>.

import { acceptToken, followSharer } from '../../volume/sharing/accepted'
import { SHARED_DIR_NAME } from '../../volume/sharing/names'
import { decodeUserId, encodeUserId, isUserIdText } from '../../volume/sharing/token'
import { VolumeKeys } from '../../volume/volume-keys'
import { type Command, requirePositionals } from '../command'

export const acceptCommand: Command = {
  name: 'accept',
  summary:
    "accept a share token from 'peerstore share' (or a user id: everything that user shares with you); your mount shows it read-only under @shared/",
  positionals: 'TOKEN|USERID',
  flags: [{ name: 'json', type: 'boolean', description: 'print JSON' }],
  async run(args, ctx) {
    requirePositionals(args, 1, 'TOKEN|USERID')
    const arg = args.positionals[0].trim()
    if (isUserIdText(arg)) {
      const owner = decodeUserId(arg)
      followSharer(ctx.home, owner)
      const where = `${SHARED_DIR_NAME}/user-${owner.toString('hex').slice(0, 12)}/`
      if (args.flags.json) ctx.stdout.write(`${JSON.stringify({ from: encodeUserId(owner), path: where })}\n`)
      else
        ctx.stdout.write(`following ${encodeUserId(owner)}: what they share with you shows in your mount at ${where}\n`)
      return 0
    }
    const cap = acceptToken(ctx.home, VolumeKeys.fromHome(ctx.home), args.positionals[0])
    const where = `${SHARED_DIR_NAME}/user-${cap.owner.toString('hex').slice(0, 12)}/${cap.name}`
    if (args.flags.json) {
      ctx.stdout.write(
        `${JSON.stringify({ from: encodeUserId(cap.owner), name: cap.name, type: cap.type, path: where })}\n`
      )
    } else {
      ctx.stdout.write(`accepted ${cap.name} from ${encodeUserId(cap.owner)}: it shows in your mount at ${where}\n`)
    }
    return 0
  }
}
