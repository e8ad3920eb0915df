// A hostile member for test/node/forged-chord.test.ts, run as its own process.
// It holds the network key (it joined with an invite token) but is not a ring
// member; Chord requests it gets are answered with made-up machines. It sends well-formed Chord requests
// that lie about other machines: `leave` naming a live machine, `hint` and
// `state` (notify) naming machines that do not exist, with ids correctly
// derived from their made-up keys and placed where the target would adopt
// them, and with ids that do not match the key at all.
//
//   node dist/test/node/hostile-chord-child.js HOME
//
// stdin lines: `peers HEX,HEX,...` waits until connected to those machines;
// `attack HEX,HEX,... VNODES` sends one wave and answers with the counts of
// answered and refused requests. Exits when stdin closes.

import path from 'node:path'
import {
  type ChordRequest,
  type ChordResponse,
  distance,
  type Id,
  inOpen,
  type NodeRef,
  RING_MASK,
  virtualNodeId
} from '../../lib/chord'
import { keyPairFromSeed, loadOrCreateSeed, randomBytes } from '../../lib/crypto'
import { PeerNetwork } from '../../lib/net'
import { chordRequestEncoding, chordResponseEncoding } from '../../lib/chord/wire'
import { serveLines } from '../../scripts/lib/line-child'
import { CHORD_METHOD } from '../../lib/node/chord-transport'
import { readConfig } from '../../lib/node/config'
import { waitFor } from '../helpers/wait'

/** Made-up machines: keys nobody holds, so they never answer. */
const FAKE_MACHINES = 64

async function main() {
  const home = process.argv[2]
  const config = readConfig(home)
  if (!config) throw new Error(`no config in ${home}`)
  const keyPair = keyPairFromSeed(loadOrCreateSeed(path.join(home, 'node.seed')))
  const network = new PeerNetwork({ keyPair, networkKey: config.networkKey, bootstrap: config.bootstrap })
  await network.ready()
  const fakes: NodeRef[] = []
  for (let m = 0; m < FAKE_MACHINES; m++) {
    const pk = randomBytes(32)
    for (let i = 0; i < 16; i++) fakes.push({ id: virtualNodeId(pk, i), address: pk.toString('hex') })
  }

  // Asked anything (honest nodes heal through every peer they connect to),
  // it answers with made-up machines: as the owner of any key, as its
  // predecessor and successors.
  const nearest = (key: Id, n: number) =>
    fakes
      .slice()
      .sort((x, y) => (distance(key, x.id) < distance(key, y.id) ? -1 : 1))
      .slice(0, n)
  network.respond(CHORD_METHOD, chordRequestEncoding, chordResponseEncoding, async (req): Promise<ChordResponse> => {
    if (req.type === 'lookup') return { type: 'lookup', done: true, nodes: nearest(req.key, 8) }
    if (req.type === 'state') return { type: 'state', predecessor: fakes[0], successors: nearest(req.to, 8) }
    return { type: 'ack' }
  })

  const send = async (to: string, req: ChordRequest): Promise<ChordResponse> =>
    network.request(Buffer.from(to, 'hex'), CHORD_METHOD, req, chordRequestEncoding, chordResponseEncoding, {
      timeoutMs: 15_000
    })

  /** Fake refs in (a, b), closest to b first: what a node at b would adopt as predecessor, or at a as successor. */
  const between = (a: Id, b: Id, n: number): NodeRef[] =>
    fakes
      .filter((f) => inOpen(f.id, a, b))
      .sort((x, y) => (distance(x.id, b) < distance(y.id, b) ? -1 : 1))
      .slice(0, n)

  async function attack(machines: string[], vnodes: number) {
    const ring: NodeRef[] = machines
      .flatMap((address) =>
        Array.from({ length: vnodes }, (_, i) => ({ id: virtualNodeId(Buffer.from(address, 'hex'), i), address }))
      )
      .sort((a, b) => (a.id < b.id ? -1 : 1))
    let answered = 0
    let refused = 0
    const errors = new Map<string, number>()
    const jobs: Promise<void>[] = []
    const fire = (to: string, req: ChordRequest) =>
      jobs.push(
        send(to, req).then(
          () => {
            answered++
          },
          (err) => {
            refused++
            const code = String((err as { code?: string }).code ?? (err as Error).message)
            errors.set(code, (errors.get(code) ?? 0) + 1)
          }
        )
      )
    for (let i = 0; i < ring.length; i++) {
      const v = ring[i]
      const pred = ring[(i - 1 + ring.length) % ring.length]
      const succ = ring[(i + 1) % ring.length]
      const beforeMe = between(pred.id, v.id, 3)
      const afterMe = [...between(v.id, succ.id, 8), ...fakes.slice(0, 4)]
      // "Your predecessor left; here is a new one" and "your successor left;
      // here is its list", both naming live machines that never left.
      if (pred.address !== v.address) {
        fire(v.address, { type: 'leave', to: v.id, leaving: pred, predecessor: beforeMe[0] ?? null, successors: [] })
      }
      if (succ.address !== v.address) {
        fire(v.address, { type: 'leave', to: v.id, leaving: succ, predecessor: null, successors: afterMe })
      }
      // Notify naming a made-up machine right before v (rectify would adopt it).
      for (const f of beforeMe) fire(v.address, { type: 'state', to: v.id, notify: f })
      // A notify whose id does not belong to its address at all.
      fire(v.address, { type: 'state', to: v.id, notify: { id: (v.id - 1n) & RING_MASK, address: succ.address } })
      // Hints naming made-up machines, and one naming a live machine with a made-up id.
      for (const f of afterMe.slice(0, 2)) fire(v.address, { type: 'hint', to: v.id, node: f })
      fire(v.address, { type: 'hint', to: v.id, node: { id: (v.id + 1n) & RING_MASK, address: succ.address } })
    }
    await Promise.all(jobs)
    return { sent: jobs.length, answered, refused, errors: Object.fromEntries(errors) }
  }

  await serveLines(async (line) => {
    const [cmd, list, vnodes] = line.split(' ')
    const machines = (list ?? '').split(',').filter(Boolean)
    if (cmd === 'peers') {
      const connected = await waitFor(
        'every machine connected',
        async () => {
          if (machines.every((m) => network.isConnected(Buffer.from(m, 'hex')))) return true
          // Dials on demand; a refused Chord request still opens the connection.
          await Promise.allSettled(
            machines.map((m) => send(m, { type: 'lookup', key: 0n, exclude: [] }).catch(() => null))
          )
          return false
        },
        { timeoutMs: 120_000, intervalMs: 500, failOnTimeout: false }
      )
      if (connected < 0) return { error: 'not connected to every machine' }
      return { publicKey: network.publicKey.toString('hex') }
    }
    if (cmd === 'attack') return attack(machines, Number(vnodes))
    return { error: `unknown command ${line}` }
  })
  await network.close()
  process.exit(0)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
