// What commands ask of a node, whichever way they reach it: over the control
// socket of the node running for this home, or through a temporary node the
// command starts itself (and closes when done).

import { codedError, errorCode } from '../common/errors'
import { ControlClient, ControlServer, controlSocketPath } from '../node/control'
import { discoveryWhere, isNetworked, type NodeConfig } from '../node/config'
import { type MountStatus, type NodeStatus, RingNode } from '../node/ring-node'
import { userKeyPair } from './ring-value-store'
import { withStoreOnDisk } from './store-on-disk'

export interface NodeApi {
  status(): Promise<NodeStatus>
  blockPut(bytes: Buffer): Promise<Buffer>
  blockGet(key: Buffer): Promise<Buffer | null>
  blockRm(key: Buffer): Promise<void>
}

/**
 * The API of an in-process node. Blocks are put with the home user's signed
 * claim and removed with its signed delete: `block rm` of a block this user
 * did not store is refused by the machines holding it (EPERM).
 */
export function localApi(node: RingNode): NodeApi {
  return {
    status: () => node.status(),
    blockPut: (bytes) => node.client.putImmutable(bytes, userKeyPair(node.home)),
    async blockGet(key) {
      const value = await node.client.get(key)
      return value ? value.bytes : null
    },
    async blockRm(key) {
      const { refused } = await node.client.deleteImmutable(key, userKeyPair(node.home))
      if (refused.length > 0) {
        const err = refused[0] as Error & { code?: string }
        throw codedError('EPERM', `${refused.length} machine(s) kept the block: ${err.message}`)
      }
    }
  }
}

/** Serves a node's API on its home's control socket; `mountStatus` adds the state of a mount running on it. */
export function controlServerFor(node: RingNode, opts: { mountStatus?: () => MountStatus | null } = {}): ControlServer {
  const api = localApi(node)
  return new ControlServer(node.home, {
    status: async () => {
      const mount = opts.mountStatus?.()
      return mount ? { ...(await api.status()), mount } : api.status()
    },
    blockPut: async (p) => (await api.blockPut(Buffer.from(String(p.bytes), 'base64'))).toString('hex'),
    blockGet: async (p) => (await api.blockGet(parseKey(String(p.key))))?.toString('base64') ?? null,
    blockRm: async (p) => {
      await api.blockRm(parseKey(String(p.key)))
      return true
    }
  })
}

/** A block put, get or rm asks the ring (k machines, retries): longer than the control socket's default. */
const BLOCK_CALL_TIMEOUT_MS = 120_000

function controlApi(client: ControlClient): NodeApi {
  const block = { timeoutMs: BLOCK_CALL_TIMEOUT_MS }
  return {
    status: () => client.call<NodeStatus>('status'),
    blockPut: async (bytes) =>
      Buffer.from(await client.call<string>('blockPut', { bytes: bytes.toString('base64') }, block), 'hex'),
    async blockGet(key) {
      const b64 = await client.call<string | null>('blockGet', { key: key.toString('hex') }, block)
      return b64 === null ? null : Buffer.from(b64, 'base64')
    },
    async blockRm(key) {
      await client.call('blockRm', { key: key.toString('hex') }, block)
    }
  }
}

export function parseKey(hex: string): Buffer {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw codedError('EINVAL', `'${hex}' is not a key (64 hex characters)`)
  }
  return Buffer.from(hex, 'hex')
}

export interface WithNodeOptions {
  home: string
  config: NodeConfig
  host?: string
  /** How long a temporary client waits for a member of the ring. */
  waitMs?: number
  /** Wraps the start of a temporary node (the CLI says "connecting to the ring…" when it is slow). */
  opening?: <V>(started: Promise<V>) => Promise<V>
}

/**
 * Runs `job` against the node running for this home, or else against a
 * temporary node: a client of the ring when the home finds others (private
 * bootstrap or DHT discovery), or the home's own one-node ring when alone.
 */
export async function withNode<T>(
  opts: WithNodeOptions,
  job: (api: NodeApi, via: 'control' | 'temporary') => Promise<T>
): Promise<T> {
  const client = await ControlClient.connect(controlSocketPath(opts.home))
  if (client) {
    try {
      return await job(controlApi(client), 'control')
    } finally {
      client.close()
    }
  }
  const clientOnly = isNetworked(opts.config)
  const node = new RingNode({ home: opts.home, config: opts.config, host: opts.host, clientOnly })
  const opening = opts.opening ?? ((started) => started)
  try {
    const waitMs = opts.waitMs ?? 15_000
    await opening(
      (async () => {
        await node.ready()
        try {
          await node.waitForGateway(waitMs)
        } catch (err) {
          if (errorCode(err) !== 'EUNAVAILABLE') throw err
          throw codedError(
            'EUNAVAILABLE',
            `no node of this network answered within ${waitMs / 1000} s (${discoveryWhere(opts.config)}): is the ring up, and this machine online?`
          )
        }
      })()
    )
    const api = localApi(node)
    return await job({ ...api, status: async () => withStoreOnDisk(await api.status(), opts.home) }, 'temporary')
  } finally {
    await node.close()
  }
}
