// Waiting for nodes to see each other, the one way for every test: running
// nodes of homes (read through `peerstore status`, as a user would), or a
// PeerNetwork in this process (its authenticated connections).

import { runPeerstore } from './cli'
import { waitFor } from './wait'

/** The peers a running node of `home` is connected to (0 when its status cannot be read). */
export async function peersOf(home: string): Promise<number> {
  const res = await runPeerstore(['status', '--home', home, '--json'])
  return res.code === 0 ? (JSON.parse(res.stdout).peers as number) : 0
}

/** What waitForPeers needs of a PeerNetwork. */
export interface Connecting {
  isConnected(publicKey: Buffer): boolean
  rejoin(): Promise<unknown>
}

/** Waits until the node of every home in `homes` sees at least `n` peers. */
export function waitForPeers(homes: string[], n: number, timeoutMs?: number): Promise<void>
/** Waits until `net` has an authenticated connection to every key in `keys`, re-announcing while it waits. */
export function waitForPeers(net: Connecting, keys: Buffer[], timeoutMs?: number): Promise<void>
export async function waitForPeers(
  of: string[] | Connecting,
  want: number | Buffer[],
  timeoutMs?: number
): Promise<void> {
  if (Array.isArray(of)) {
    const homes = of
    const n = want as number
    let seen: number[] = []
    await waitFor(
      `nodes to see ${n} peers each`,
      async () => {
        seen = await Promise.all(homes.map(peersOf))
        return seen.every((p) => p >= n)
      },
      { timeoutMs: timeoutMs ?? 60_000, intervalMs: 500 }
    ).catch(() => {
      throw new Error(`nodes never saw ${n} peers each (saw ${seen.join(', ')})`)
    })
    return
  }
  const net = of
  const keys = want as Buffer[]
  const limit = timeoutMs ?? 20_000
  const missing = () => keys.filter((k) => !net.isConnected(k))
  let nextRejoin = Date.now() + 2_000
  await waitFor(
    'peers',
    () => {
      if (missing().length === 0) return true
      if (Date.now() > nextRejoin) {
        // Concurrent first announces can miss each other; hyperswarm would only retry in ~10 min.
        nextRejoin = Date.now() + 2_000
        net.rejoin().catch(() => {})
      }
      return false
    },
    { timeoutMs: limit, intervalMs: 20 }
  ).catch(() => {
    throw new Error(`still missing ${missing().length} peer(s) after ${limit} ms`)
  })
}

/**
 * Waits until the successor lists of the node of every home in `homes` (over
 * all its virtual nodes, from `status`) name `machines` machines: one settled
 * ring, where each write finds its holders. Virtual node 0's list alone can
 * miss a machine whose virtual nodes all lie elsewhere on the ring.
 */
export async function waitForOneRing(homes: string[], machines = homes.length, timeoutMs = 60_000): Promise<number> {
  return waitFor(
    `one ring of ${machines} machines`,
    async () => {
      const all = await Promise.all(
        homes.map(async (home) => JSON.parse((await runPeerstore(['status', '--home', home, '--json'])).stdout))
      )
      return all.every((s) => s.ringMachines === machines)
    },
    { timeoutMs, intervalMs: 500 }
  )
}
