import { formatHostPort } from '../../node/config'
import { controlServerFor } from '../../app/node-api'
import { RingNode } from '../../node/ring-node'
import { type Command, requirePositionals } from '../command'
import { discoveryText } from '../discovery-text'
import { guardProcess } from '../process-guard'
import { configFromFlags, NETWORK_FLAGS, untilSignal } from '../node-flags'

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run a headless storage node: stores and routes, no mount (Ctrl-C leaves gracefully)',
  flags: [
    ...NETWORK_FLAGS,
    {
      name: 'port',
      type: 'number',
      value: 'PORT',
      integer: true,
      min: 0,
      max: 65535,
      description: 'UDP port of the DHT socket (default or 0: any)'
    },
    {
      name: 'repair-interval',
      type: 'number',
      value: 'MS',
      integer: true,
      min: 100,
      description: 'anti-entropy period',
      default: 10_000
    }
  ],
  async run(args, ctx) {
    requirePositionals(args, 0, '')
    const config = configFromFlags(ctx.home, args)
    const log = (line: string) => ctx.stdout.write(`${new Date().toISOString()} ${line}\n`)
    // An error nobody foresaw is logged; it never takes the node (and the replicas it holds) off the ring.
    const unguard = guardProcess(log)
    const node = new RingNode({
      home: ctx.home,
      config,
      host: args.flags.host as string | undefined,
      port: args.flags.port as number | undefined,
      repairIntervalMs: args.flags['repair-interval'] as number,
      log
    })
    node.on('peer-add', (a: string) => log(`peer connected ${a.slice(0, 16)}`))
    node.on('peer-remove', (a: string) => log(`peer gone ${a.slice(0, 16)}`))
    const control = controlServerFor(node)
    await control.ready()
    try {
      await node.ready()
      node.chord.on('range-changed', (c: { reason: string }) => log(`range changed (${c.reason})`))
      const addr = node.network.address()
      log(
        `serving node ${node.publicKey.toString('hex')} dht ${addr ? formatHostPort(addr) : '-'} replicas ${config.replicas}`
      )
      log(`discovery: ${discoveryText((await node.status()).discovery)}`)
      const sig = await untilSignal()
      log(`${sig}: leaving the ring`)
    } finally {
      await control.close()
      await node.close()
      unguard()
    }
    return 0
  }
}
