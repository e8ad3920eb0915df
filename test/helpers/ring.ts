import createTestnet, { type Testnet } from '@hyperswarm/testnet'
import type { Test } from 'brittle'
import { idToBuffer } from '../../lib/chord'
import { randomBytes } from '../../lib/crypto'
import type { NodeConfig } from '../../lib/node/config'
import { RingNode, type RingNodeOptions } from '../../lib/node/ring-node'
import { tempDir } from './temp-dir'

/** Fast timers so rings settle in seconds in tests. */
export const FAST_CHORD = { stabilizeMs: 250, healMs: 1000, rpcTimeoutMs: 3000, virtualNodes: 4 }

export interface TestRing {
  testnet: Testnet
  networkKey: Buffer
  nodes: RingNode[]
  config: NodeConfig
  add(opts?: Partial<RingNodeOptions>): Promise<RingNode>
}

/** A local DHT and a helper to start ring nodes on it; everything closes in teardown. */
export async function createTestRing(t: Test, opts: { replicas?: number } = {}): Promise<TestRing> {
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  const networkKey = randomBytes(32)
  const config: NodeConfig = { networkKey, bootstrap: testnet.bootstrap, replicas: opts.replicas ?? 3 }
  const ring: TestRing = {
    testnet,
    networkKey,
    config,
    nodes: [],
    async add(extra = {}) {
      const node = new RingNode({
        home: tempDir(t, 'node'),
        config,
        repairIntervalMs: 1000,
        chord: FAST_CHORD,
        ...extra
      })
      ring.nodes.push(node)
      await node.ready()
      return node
    }
  }
  t.teardown(
    async () => {
      await Promise.allSettled(ring.nodes.map((n) => n.destroy()))
      await testnet.destroy()
    },
    { order: 0 }
  )
  return ring
}

/**
 * True when every vnode of every live member machine has joined and its
 * successor list holds the next vnode ids on the ring of live nodes. (A machine counts
 * as a member once its first vnode joins; until the others have, it is
 * responsible for only part of its share and a write may see k − 1 machines.)
 */
export function ringConsistent(nodes: RingNode[]): boolean {
  const live = nodes.filter((n) => n.chord.isMember && !n.chord.isClosed)
  if (live.some((n) => n.chord.vnodes.some((v) => !v.member))) return false
  const ids = live.flatMap((n) => n.chord.vnodes.map((v) => v.id)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  if (ids.length < 2) return true
  for (const n of live) {
    for (const v of n.chord.vnodes) {
      const i = ids.indexOf(v.id)
      const next = ids[(i + 1) % ids.length]
      const prev = ids[(i - 1 + ids.length) % ids.length]
      if (v.successors[0]?.id !== next || v.predecessor?.id !== prev) return false
      // The whole successor list too: a write finds its k machines there.
      const want = Math.min(n.chord.config.successors, ids.length - 1)
      for (let j = 1; j < want; j++) if (v.successors[j]?.id !== ids[(i + 1 + j) % ids.length]) return false
    }
  }
  return true
}

/** How many of `nodes` hold `key` in their store. */
export async function copiesOf(nodes: RingNode[], key: Buffer): Promise<number> {
  let n = 0
  for (const node of nodes) {
    if (node.store && !node.chord.isClosed && (await node.store.stat(key))) n++
  }
  return n
}

export function shortKey(key: Buffer | bigint): string {
  return (typeof key === 'bigint' ? idToBuffer(key) : key).subarray(0, 4).toString('hex')
}

/**
 * The k machines responsible for `key` among the live members of `nodes`,
 * computed from their virtual node ids (the ring as it should be once
 * consistent), with no lookup.
 */
export function responsibleOf(nodes: RingNode[], key: Buffer, k: number): RingNode[] {
  const live = nodes.filter((n) => n.chord.isMember && !n.chord.isClosed)
  const vnodes = live
    .flatMap((node) => node.chord.vnodes.map((v) => ({ id: v.id, node })))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const id = BigInt(`0x${key.toString('hex')}`)
  let i = vnodes.findIndex((v) => v.id >= id)
  if (i < 0) i = 0
  const out: RingNode[] = []
  for (let j = 0; j < vnodes.length && out.length < k; j++) {
    const { node } = vnodes[(i + j) % vnodes.length]
    if (!out.includes(node)) out.push(node)
  }
  return out
}
