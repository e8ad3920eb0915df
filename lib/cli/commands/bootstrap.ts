import { DEFAULT_BOOTSTRAP_DHT_NODES, startBootstrapNode } from '../../net/bootstrap-node'
import { type Command, requirePositionals, usageError } from '../command'
import { untilSignal } from '../node-flags'

export const bootstrapCommand: Command = {
  name: 'bootstrap',
  home: 'unused',
  summary: 'run a DHT bootstrap node for a private or offline network',
  flags: [
    {
      name: 'port',
      type: 'number',
      value: 'PORT',
      integer: true,
      min: 1,
      max: 65535,
      description: 'UDP port to listen on (required)'
    },
    {
      name: 'host',
      type: 'string',
      value: 'ADDR',
      description: 'IPv4 address to bind and announce',
      default: '127.0.0.1'
    },
    {
      name: 'dht-nodes',
      type: 'number',
      value: 'N',
      integer: true,
      min: 1,
      max: 64,
      description: 'DHT nodes to run, at PORT and the N-1 ports after it (all must be reachable)',
      default: DEFAULT_BOOTSTRAP_DHT_NODES
    }
  ],
  async run(args, ctx) {
    requirePositionals(args, 0, '')
    const port = args.flags.port as number | undefined
    if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw usageError('--port must be a UDP port from 1 to 65535')
    }
    const host = String(args.flags.host)
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host === '0.0.0.0') {
      throw usageError('--host must be a specific IPv4 address')
    }
    const node = await startBootstrapNode(port, host, Number(args.flags['dht-nodes']))
    const addr = node.address()
    const ports = node.ports()
    ctx.stdout.write(
      `bootstrap node listening on ${addr.host}:${addr.port}` +
        (ports.length > 1 ? ` (a DHT of ${ports.length} nodes: UDP ports ${ports.join(', ')})` : '') +
        '\n'
    )
    ctx.stdout.write(`give other nodes: --bootstrap ${addr.host}:${addr.port}\n`)
    await untilSignal()
    await node.close()
    return 0
  }
}
