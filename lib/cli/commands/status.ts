import { withNode } from '../../app/node-api'
import { offlineNote } from '../../volume/offline-note'
import { ago } from '../../volume/chunks/chunk-store'
import type { NodeStatus } from '../../node/ring-node'
import { type Command, requirePositionals } from '../command'
import { discoveryText } from '../discovery-text'
import { isNetworked } from '../../node/config'
import { configFromFlags, NETWORK_FLAGS } from '../node-flags'
import { announceSlow } from '../waiting'
import { ringLines } from '../ring-text'

export const statusCommand: Command = {
  name: 'status',
  summary: 'this node: id, ring neighbours, keys and bytes held, replication health, peers',
  flags: [...NETWORK_FLAGS, { name: 'json', type: 'boolean', description: 'print JSON' }],
  async run(args, ctx) {
    requirePositionals(args, 0, '')
    const config = configFromFlags(ctx.home, args)
    const { status, via } = await withNode(
      {
        home: ctx.home,
        config,
        host: args.flags.host as string | undefined,
        opening: (w) => announceSlow(ctx, 'status', w, isNetworked(config))
      },
      async (api, via) => ({ status: await api.status(), via })
    )
    if (args.flags.json) {
      ctx.stdout.write(`${JSON.stringify({ ...status, running: via === 'control' })}\n`)
      return 0
    }
    const lines = [
      `node         ${status.nodeKey}${via === 'control' ? '' : '  (not running; temporary node)'}`,
      `ring id      ${status.id}`,
      `dht address  ${status.address ?? '-'}  ${reachability(status)}`,
      `discovery    ${discoveryText(status.discovery)}`,
      `role         ${status.clientOnly ? 'client only' : status.member ? 'ring member' : 'not joined'}  (${status.virtualNodes} virtual nodes, fingers to ${status.fingers} machines)`,
      `predecessor  ${status.predecessor ?? '-'}`,
      `successors   ${status.successors.length ? status.successors.join('\n             ') : '-'}`,
      `peers        ${status.peers}`,
      `stored       ${status.keys} keys, ${status.bytes} bytes${status.storeOnDisk ? '  (on disk; this node is not running)' : ''}`,
      ...ringLines(status),
      `version      ${status.version ?? 'unknown (an older node)'}`
    ]
    const m = status.mount
    if (m) {
      const waiting =
        m.pendingChunks > 0 || m.unsaved > 0
          ? `${m.unsaved} records and ${m.pendingChunks} chunks (${(m.pendingBytes / 1048576).toFixed(1)} MiB) not stored yet`
          : 'everything stored'
      const failing = m.uploadFailure
        ? `; uploads failing for ${ago(m.uploadFailure.since)} (${m.uploadFailure.code}: ${m.uploadFailure.message}), retried with backoff`
        : ''
      lines.push(`mount        ${m.offline ? 'offline; ' : ''}${waiting}${failing}${offlineNote(m)}`)
    } else {
      lines.push('mount        none on this node')
    }
    ctx.stdout.write(`${lines.join('\n')}\n`)
    return 0
  }
}

function reachability(status: NodeStatus): string {
  if (status.online) return 'online'
  if (typeof status.aloneSince === 'number') {
    const dht = status.dhtAnswers === false ? '; the DHT bootstrap does not answer' : ''
    return `offline: no peer reachable since ${new Date(status.aloneSince).toISOString()} (${ago(status.aloneSince)})${dht}, retrying`
  }
  return 'offline'
}
