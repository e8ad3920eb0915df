import { withNode } from '../../node/node-api'
import { offlineNote } from '../../volume/offline-note'
import { mountStatus } from '../../volume/share-control'
import { type Command, requirePositionals } from '../command'
import { configFromFlags, NETWORK_FLAGS } from '../node-flags'

export const statusCommand: Command = {
  name: 'status',
  summary: 'this node: id, ring neighbours, keys and bytes held, replication health, peers',
  flags: [...NETWORK_FLAGS, { name: 'json', type: 'boolean', description: 'print JSON' }],
  async run(args, ctx) {
    requirePositionals(args, 0, '')
    const config = configFromFlags(ctx.home, args)
    const { status, via } = await withNode(
      { home: ctx.home, config, host: args.flags.host as string | undefined },
      async (api, via) => ({ status: await api.status(), via })
    )
    // The mount of this home, if one runs: whether it works offline and how much waits.
    const mount = via === 'control' ? await mountStatus(ctx.home).catch(() => null) : null
    if (args.flags.json) {
      ctx.stdout.write(`${JSON.stringify({ ...status, running: via === 'control', mount })}\n`)
      return 0
    }
    const lines = [
      `node         ${status.nodeKey}${via === 'control' ? '' : '  (not running; temporary node)'}`,
      `ring id      ${status.id}`,
      `dht address  ${status.address ?? '-'}  ${status.online ? 'online' : 'offline'}`,
      `role         ${status.clientOnly ? 'client only' : status.member ? 'ring member' : 'not joined'}  (${status.virtualNodes} virtual nodes, fingers to ${status.fingers} machines)`,
      `predecessor  ${status.predecessor ?? '-'}`,
      `successors   ${status.successors.length ? status.successors.join('\n             ') : '-'}`,
      `peers        ${status.peers}`,
      `stored       ${status.keys} keys, ${status.bytes} bytes`,
      `replication  target ${status.replicas}; ${status.underReplicated} keys under target in the last repair round (${status.repairRounds} rounds)`
    ]
    if (mount) {
      const waiting = `${mount.dirty} unsaved records, ${mount.pendingChunks} chunks (${mount.pendingBytes} bytes) to upload`
      lines.push(`mount        ${mount.offline ? 'offline' : 'online'}; ${waiting}${offlineNote(mount)}`)
    }
    ctx.stdout.write(`${lines.join('\n')}\n`)
    return 0
  }
}
