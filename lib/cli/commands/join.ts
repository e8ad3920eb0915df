import path from 'node:path'
import { keyPairFromSeed, loadOrCreateSeed } from '../../crypto'
import { DEFAULT_REPLICAS, formatHostPort, readConfig, writeConfig } from '../../node/config'
import { decodeInvite } from '../../node/invite-token'
import { type Command, requirePositionals } from '../command'

export const joinCommand: Command = {
  name: 'join',
  summary: "store an invite token from 'peerstore invite' so this machine joins that network",
  positionals: 'TOKEN',
  flags: [{ name: 'force', type: 'boolean', description: 'leave the network this home is already in' }],
  async run(args, ctx) {
    requirePositionals(args, 1, 'TOKEN')
    const invite = decodeInvite(args.positionals[0])
    const existing = readConfig(ctx.home)
    if (existing && !existing.networkKey.equals(invite.networkKey) && !args.flags.force) {
      ctx.stderr.write(
        `peerstore join: ${ctx.home} already belongs to another network; add --force to leave it for this one\n`
      )
      return 1
    }
    keyPairFromSeed(loadOrCreateSeed(path.join(ctx.home, 'node.seed')))
    writeConfig(ctx.home, {
      networkKey: invite.networkKey,
      bootstrap: invite.bootstrap,
      replicas: existing?.replicas ?? DEFAULT_REPLICAS
    })
    const where = invite.bootstrap.length ? ` via ${invite.bootstrap.map(formatHostPort).join(', ')}` : ''
    ctx.stdout.write(`joined network ${invite.networkKey.subarray(0, 4).toString('hex')}…${where}\n`)
    return 0
  }
}
