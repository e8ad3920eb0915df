// Flags shared by every command that runs or reaches a node.

import type { FlagSpec, ParsedArgs } from './command'
import { DHT_BOOTSTRAP_ENV, effectiveConfig, MAX_REPLICAS, type NodeConfig } from '../node/config'

/** `--replicas K`, with the bounds every command checks it against. */
export function replicasFlag(description: string, defaultValue?: number): FlagSpec {
  return {
    name: 'replicas',
    type: 'number',
    value: 'K',
    integer: true,
    min: 1,
    max: MAX_REPLICAS,
    description,
    ...(defaultValue === undefined ? {} : { default: defaultValue })
  }
}

export const NETWORK_FLAGS: FlagSpec[] = [
  { name: 'network', type: 'string', value: 'KEY', description: 'network key, 64 hex (default: from config.json)' },
  {
    name: 'bootstrap',
    type: 'string',
    value: 'HOST:PORT,...',
    description: "a private network's bootstrap nodes, for this run (default: from config.json)"
  },
  {
    name: 'dht-bootstrap',
    type: 'string',
    value: 'HOST:PORT,...',
    description: `DHT discovery: these bootstrap nodes instead of the public DHT's (default: $${DHT_BOOTSTRAP_ENV}; never stored)`
  },
  {
    name: 'host',
    type: 'string',
    value: 'ADDR',
    description: 'bind the DHT socket to ADDR (default 127.0.0.1 when every bootstrap is loopback)'
  },
  replicasFlag('copies of each value (default: from config.json, 3)')
]

export function configFromFlags(home: string, args: ParsedArgs): NodeConfig {
  return effectiveConfig(home, {
    network: args.flags.network as string | undefined,
    bootstrap: args.flags.bootstrap as string | undefined,
    dhtBootstrap: args.flags['dht-bootstrap'] as string | undefined,
    replicas: args.flags.replicas as number | undefined
  })
}

/**
 * What ends a long-running command gracefully: Ctrl-C, `kill`, and the
 * terminal closing (SIGHUP, whose default would end the process without the
 * leave, the flush or the unmount). Node resets every signal to its default
 * at start, even one `nohup` ignored, so a listener here changes a sudden
 * end into a graceful one and never undoes a nohup.
 */
export const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

/** Resolves on the first stop signal; a second one exits at once. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let seen = false
    const onSignal = (sig: NodeJS.Signals) => {
      if (seen) process.exit(130)
      seen = true
      resolve(sig)
    }
    for (const sig of STOP_SIGNALS) process.on(sig, onSignal)
  })
}
