// `peerstore whoami`: the user id to give someone who wants to share with you.

import { encodeUserId } from '../../volume/sharing/token'
import { VolumeKeys } from '../../volume/volume-keys'
import { type Command, requirePositionals } from '../command'
import { hasUserIdentity, newIdentityNotice } from '../home'

export const whoamiCommand: Command = {
  name: 'whoami',
  summary: 'print your user id, which others need to share files with you',
  flags: [{ name: 'json', type: 'boolean', description: 'print JSON' }],
  async run(args, ctx) {
    requirePositionals(args, 0, '')
    // Creates the identity if this home has none yet, as the first mount would (and says so).
    const hadIdentity = hasUserIdentity(ctx.home)
    const keys = VolumeKeys.fromHome(ctx.home)
    if (!hadIdentity) ctx.stderr.write(`peerstore whoami: ${newIdentityNotice(ctx.home)}\n`)
    const userId = encodeUserId(keys.publicKey)
    if (args.flags.json) {
      ctx.stdout.write(`${JSON.stringify({ userId, publicKey: keys.publicKey.toString('hex') })}\n`)
    } else {
      ctx.stdout.write(`${userId}\n`)
    }
    return 0
  }
}
