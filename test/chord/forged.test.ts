// Forged Chord messages on the pure state machine (issue 12, item 12): what
// a message says about a machine is believed only from that machine, or once
// that machine answered us itself. The simulated network tells each handler
// the real sender, as the Noise connection does in the real network.

import test from 'brittle'
import { type Id, virtualNodeId } from '../../lib/chord/id'
import { inOpen } from '../../lib/chord/interval'
import type { ChordRequest, ChordResponse, NodeRef } from '../../lib/chord/messages'
import type { ChordNode } from '../../lib/chord/node'
import { mergeLists } from '../../lib/chord/successor-list'
import { build, TestRing } from './helpers'

/** Machines that have a key (so their ids are well formed) but never answer. */
function fakeMachines(ring: TestRing, count: number, vnodes: number): NodeRef[] {
  const out: NodeRef[] = []
  for (let m = 0; m < count; m++) {
    const key = ring.prng.bytes(32)
    const address = `fake${m}`
    ring.network.transport(address, key)
    for (let i = 0; i < vnodes; i++) out.push({ id: virtualNodeId(key, i), address })
  }
  return out
}

/** Sends `req` as the machine at `from` really would (the network knows it is `from`). */
function sendAs(ring: TestRing, from: string, to: string, req: ChordRequest): Promise<ChordResponse | Error> {
  return ring.until(ring.network.send(from, to, req, 500).catch((err: Error) => err))
}

/** Every node an honest machine holds in its routing state: lists, predecessors, fingers. */
function heldRefs(nodes: ChordNode[]): NodeRef[] {
  return nodes.flatMap((n) =>
    n.vnodes.flatMap((v) => [...v.successors, ...(v.predecessor ? [v.predecessor] : []), ...v.fingers.values()])
  )
}

function between(fakes: NodeRef[], a: Id, b: Id): NodeRef | undefined {
  return fakes.find((f) => inOpen(f.id, a, b))
}

test('a leave, notify or hint that names another machine than its sender is refused and changes nothing', async (t) => {
  const ring = new TestRing({ seed: 11 })
  ring.watch()
  const nodes = await build(ring, 5)
  t.ok((await ring.settle()) >= 0, 'consistent before')
  const a = nodes[0]
  const v = a.vnodes[0]
  const succ = v.successors[0]
  const pred = v.predecessor!
  const m = nodes.find((n) => n.address !== a.address && n.address !== succ.address && n.address !== pred.address)!
  const fakes = fakeMachines(ring, 200, 1)
  const beforeMe = between(fakes, pred.id, v.id)!
  const afterMe = between(fakes, v.id, succ.id)!
  t.ok(beforeMe && afterMe, 'made-up machines placed right before and after the victim')

  const forged: [string, ChordRequest][] = [
    [
      'leave naming the victim’s live successor',
      { type: 'leave', to: v.id, leaving: succ, predecessor: null, successors: [afterMe] }
    ],
    [
      'leave naming the victim’s live predecessor',
      { type: 'leave', to: v.id, leaving: pred, predecessor: beforeMe, successors: [] }
    ],
    ['notify naming a made-up machine', { type: 'state', to: v.id, notify: beforeMe }],
    ['hint naming a made-up machine', { type: 'hint', to: v.id, node: afterMe }],
    [
      'notify with the sender’s address but an id not its own',
      { type: 'state', to: v.id, notify: { id: beforeMe.id, address: m.address } }
    ],
    [
      'hint with the sender’s address but an id not its own',
      { type: 'hint', to: v.id, node: { id: afterMe.id, address: m.address } }
    ]
  ]
  // Watched at every tick from now on, besides Zave's invariants.
  let fakesHeld = 0
  let successorDropped = 0
  let predecessorChanged = 0
  ring.scheduler.afterTick = () => {
    ring.check()
    fakesHeld += heldRefs(nodes).filter((r) => r.address.startsWith('fake')).length
    if (!v.successors.some((s) => s.id === succ.id)) successorDropped++
    if (v.predecessor?.id !== pred.id) predecessorChanged++
  }
  for (const [what, req] of forged) {
    const res = await sendAs(ring, m.address, a.address, req)
    t.is((res as { code?: string }).code, 'EBADMESSAGE', `${what}: refused`)
  }
  t.is(a.refusedMessages, forged.length, 'each counted as refused')
  await ring.run(5000)
  t.is(successorDropped, 0, 'the live successor never left the victim’s list')
  t.is(predecessorChanged, 0, 'the victim’s predecessor never changed')
  t.is(fakesHeld, 0, 'no made-up machine was held anywhere at any tick')
  t.ok(ring.consistent(), 'the ring is still consistent')
  t.alike(ring.violations, [])
  ring.scheduler.afterTick = () => ring.check()

  // The same messages about the sender itself are believed: a real leave works.
  const res = await sendAs(ring, succ.address, a.address, {
    type: 'leave',
    to: v.id,
    leaving: succ,
    predecessor: null,
    successors: []
  })
  t.is((res as ChordResponse).type, 'ack', 'a leave from the leaving machine itself is accepted')
  t.ok(!v.successors.some((s) => s.address === succ.address), 'and drops it')
})

test('a member whose answers and leave list machines that never answer: none enters a list, predecessor or finger', async (t) => {
  const ring = new TestRing({ seed: 5, vnodes: 2, successors: 4 })
  const nodes = await build(ring, 6)
  t.ok((await ring.settle()) >= 0, 'consistent before')
  const hostile = nodes[3]
  const honest = nodes.filter((n) => n !== hostile)
  const fakes = fakeMachines(ring, 40, 2)
  const fakeAddresses = new Set(fakes.map((f) => f.address))

  // The hostile member answers every state request with its real list
  // interleaved with made-up machines (ordered, so reconcile takes them), a
  // made-up predecessor, and lookup answers that start with made-up nodes.
  let answers = 0
  ring.network.register(hostile.address, async (from, req) => {
    const res = await hostile.handleRequest(from, req)
    if (res.type === 'state' && req.type === 'state') {
      const self = req.to
      return {
        type: 'state',
        predecessor: fakes[answers++ % fakes.length],
        successors: mergeLists(self, res.successors, fakes, 32)
      }
    }
    if (res.type === 'lookup') return { type: 'lookup', done: res.done, nodes: [...fakes.slice(0, 3), ...res.nodes] }
    return res
  })

  // Probes of made-up machines in flight, per asking machine.
  const inFlight = new Map<string, number>()
  let maxInFlight = 0
  let probes = 0
  const send = ring.network.send.bind(ring.network)
  ring.network.send = (from, to, req, timeoutMs) => {
    if (!fakeAddresses.has(to)) return send(from, to, req, timeoutMs)
    probes++
    inFlight.set(from, (inFlight.get(from) ?? 0) + 1)
    maxInFlight = Math.max(maxInFlight, inFlight.get(from)!)
    return send(from, to, req, timeoutMs).finally(() => inFlight.set(from, inFlight.get(from)! - 1))
  }

  let seen = 0
  const check = () => {
    seen += heldRefs(honest).filter((r) => fakeAddresses.has(r.address)).length
  }
  ring.scheduler.afterTick = check
  await ring.run(20_000)
  for (const n of honest) await ring.until(n.refreshFingers())
  check()

  // Its own leave, with a list of made-up machines, to every honest vnode.
  for (const n of honest) {
    for (const v of n.vnodes) {
      const leaving = hostile.vnodes[0].ref
      await sendAs(ring, hostile.address, n.address, {
        type: 'leave',
        to: v.id,
        leaving,
        predecessor: fakes[0],
        successors: mergeLists(v.id, [], fakes, 32)
      })
    }
  }
  await ring.run(5000)
  check()
  t.is(seen, 0, 'no honest machine held a made-up machine at any tick')
  t.comment(`${probes} probes of made-up machines, at most ${maxInFlight} in flight from one machine`)
  t.ok(maxInFlight <= 16, 'probes in flight per machine stay bounded')
  t.ok(
    honest.every((n) => n.vnodes.every((v) => v.member && v.successors.length > 0)),
    'every honest vnode still has a successor list'
  )
})
