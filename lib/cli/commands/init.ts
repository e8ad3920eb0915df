import path from 'node:path'
import { keyPairFromSeed, loadOrCreateSeed, randomBytes } from '../../crypto'
import {
  DEFAULT_REPLICAS,
  MAX_REPLICAS,
  parseBootstrapList,
  parseNetworkKey,
  parseReplicas,
  readConfig,
  writeConfig
} from '../../node/config'
import { type Command, requirePositionals } from '../command'

export const initCommand: Command = {
  name: 'init',
  home: 'creates',
  summary: 'create this home: node identity and a new network (or the one given)',
  flags: [
    {
      name: 'network',
      type: 'string',
      value: 'KEY',
      description: 'join this network key (64 hex) instead of a new one'
    },
    { name: 'bootstrap', type: 'string', value: 'HOST:PORT,...', description: 'DHT bootstrap nodes of the network' },
    {
      name: 'replicas',
      type: 'number',
      value: 'K',
      integer: true,
      min: 1,
      max: MAX_REPLICAS,
      description: 'copies of each value',
      default: DEFAULT_REPLICAS
    },
    { name: 'json', type: 'boolean', description: 'print JSON' }
  ],
  async run(args, ctx) {
    requirePositionals(args, 0, '')
    if (readConfig(ctx.home)) {
      ctx.stderr.write(
        `peerstore init: ${ctx.home} is already initialized (use 'peerstore join TOKEN' to switch networks)\n`
      )
      return 1
    }
    const config = {
      networkKey: args.flags.network ? parseNetworkKey(String(args.flags.network)) : randomBytes(32),
      bootstrap: args.flags.bootstrap ? parseBootstrapList(String(args.flags.bootstrap)) : [],
      replicas: parseReplicas(Number(args.flags.replicas))
    }
    const { publicKey } = keyPairFromSeed(loadOrCreateSeed(path.join(ctx.home, 'node.seed')))
    writeConfig(ctx.home, config)
    if (args.flags.json) {
      ctx.stdout.write(`${JSON.stringify({ home: ctx.home, nodeKey: publicKey.toString('hex') })}\n`)
    } else {
      ctx.stdout.write(`initialized ${ctx.home}\nnode key ${publicKey.toString('hex')}\n`)
    }
    return 0
  }
}
