// How a node finds the others, in words: `status` shows it, `serve` logs it at start.

import type { NodeStatus } from '../node/node-status'

export function discoveryText(discovery: NodeStatus['discovery']): string {
  if (!discovery) return '-'
  if (discovery.mode === 'alone') {
    return "alone: a ring of one with no socket ('peerstore invite' lets another machine join)"
  }
  const list = discovery.bootstrap.join(', ')
  return discovery.mode === 'private' ? `private network, bootstrap ${list}` : `DHT, bootstrap ${list}`
}
