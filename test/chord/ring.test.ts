// Small rings of real ChordNodes on the simulated network: joins, leaves,
// crashes, the cases that break the 2001 protocol, hand-off events, and
// Zave's invariants checked after every tick.

import test from 'brittle'
import { RING_MASK, virtualNodeId } from '../../lib/chord/id'
import type { ChordNode, RangeChange } from '../../lib/chord/node'
import { build, TestRing } from './helpers'

/** Public keys whose vnode-0 ids come out in the given order around the ring. */
function orderedKeys(ring: TestRing, count: number): Buffer[] {
  const keys = Array.from({ length: count }, () => ring.prng.bytes(32))
  return keys.sort((a, b) => (virtualNodeId(a, 0) < virtualNodeId(b, 0) ? -1 : 1))
}

test('a one-node ring owns every key, including the wrap-around', async (t) => {
  const ring = new TestRing()
  const [a] = await build(ring, 1)
  ring.watch()
  for (const key of [0n, 1n, RING_MASK, a.id, (a.id + 1n) & RING_MASK]) {
    const res = await ring.until(a.findSuccessor(key))
    t.is(res.node.address, a.address)
    t.is(res.hops, 0, 'answered locally')
  }
  t.alike(
    (await ring.until(a.responsibleNodes(5n, 3))).map((n) => n.address),
    [a.address]
  )
  await ring.run(5000)
  t.ok(ring.consistent())
  t.alike(ring.violations, [])
})

test('a two-node ring: each is the other’s successor and predecessor', async (t) => {
  const ring = new TestRing()
  ring.watch()
  const [a, b] = await build(ring, 2)
  t.ok((await ring.settle()) >= 0, 'consistent')
  t.is(a.vnodes[0].successors[0].id, b.id)
  t.is(a.vnodes[0].predecessor?.id, b.id)
  t.is(b.vnodes[0].successors[0].id, a.id)
  t.is(b.vnodes[0].predecessor?.id, a.id)
  t.is(a.vnodes[0].successors.length, 1, 'no self or duplicate in a 2-ring list')
  // Keys at the ids and either side of them, from both ends.
  for (const key of [a.id, b.id, (a.id + 1n) & RING_MASK, (b.id + 1n) & RING_MASK, 0n, RING_MASK]) {
    ring.oracle.rebuild(ring.live())
    const truth = ring.oracle.successor(key)!
    for (const origin of [a, b]) t.is((await ring.until(origin.findSuccessor(key))).node.id, truth.id)
  }
  t.alike(ring.violations, [])
})

test('keys at the ids and next to them, on a ring with vnodes, resolve to the true owner', async (t) => {
  const ring = new TestRing({ vnodes: 4 })
  ring.watch()
  const nodes = await build(ring, 6)
  t.ok((await ring.settle()) >= 0)
  ring.oracle.rebuild(ring.live())
  let wrong = 0
  for (const n of nodes) {
    for (const v of n.vnodes) {
      for (const key of [v.id, (v.id - 1n) & RING_MASK, (v.id + 1n) & RING_MASK]) {
        const res = await ring.until(nodes[ring.prng.int(nodes.length)].findSuccessor(key, { confirm: true }))
        if (res.node.id !== ring.oracle.successor(key)!.id) wrong++
      }
    }
  }
  t.is(wrong, 0)
  const owners = await ring.until(nodes[0].responsibleNodes(123n, 3))
  t.is(new Set(owners.map((o) => o.address)).size, 3, 'three distinct machines')
  t.alike(ring.violations, [])
})

test('a crashed successor is skipped through the successor list (the 2001 single-successor ring breaks here)', async (t) => {
  const ring = new TestRing({ successors: 3 })
  ring.watch()
  const keys = orderedKeys(ring, 5)
  const nodes = await build(ring, 5, keys)
  t.ok((await ring.settle()) >= 0)
  // Crash two consecutive nodes: with one successor pointer, nodes[0] would be cut off.
  ring.crash(nodes[1])
  ring.crash(nodes[2])
  t.ok((await ring.settle()) >= 0, 'consistent again')
  t.is(nodes[0].vnodes[0].successors[0].id, nodes[3].id)
  t.is(nodes[3].vnodes[0].predecessor?.id, nodes[0].id, 'rectify replaced the dead predecessor')
  t.alike(ring.violations, [])
})

test('rectify: a dead predecessor is replaced by an earlier notifier (plain 2001 notify keeps the dead one)', async (t) => {
  const ring = new TestRing({ successors: 3 })
  const keys = orderedKeys(ring, 4)
  const nodes = await build(ring, 4, keys)
  t.ok((await ring.settle()) >= 0)
  const changes: RangeChange[] = []
  nodes[2].on('range-changed', (c: RangeChange) => changes.push(c))
  ring.crash(nodes[1])
  t.ok((await ring.settle()) >= 0)
  t.is(nodes[2].vnodes[0].predecessor?.id, nodes[0].id)
  const grow = changes.find((c) => c.newPredecessor?.id === nodes[0].id)
  t.ok(grow, 'range-changed emitted')
  t.is(grow?.oldPredecessor?.id, nodes[1].id)
  t.is(grow?.reason, 'failure', 'the range grew because its predecessor failed')
})

test('join emits a range-changed hand-off at the successor; leave hands off and tells neighbours', async (t) => {
  const ring = new TestRing({ successors: 3 })
  ring.watch()
  const keys = orderedKeys(ring, 4)
  const [a, b, c] = await build(ring, 3, [keys[0], keys[2], keys[3]])
  t.ok((await ring.settle()) >= 0)
  const atB: RangeChange[] = []
  b.on('range-changed', (ch: RangeChange) => atB.push(ch))
  // keys[1] lies between a and b: b's range shrinks to (joiner, b].
  const joiner = ring.machine(keys[1])
  await ring.until(joiner.join([c.address]))
  t.ok((await ring.settle()) >= 0)
  const shrink = atB.find((ch) => ch.reason === 'join')
  t.is(shrink?.oldPredecessor?.id, a.id)
  t.is(shrink?.newPredecessor?.id, joiner.id)

  // Graceful leave: the leaver reports its hand-off first, then b's range grows back at once.
  const handoffs: unknown[] = []
  joiner.beforeLeave = async (h) => {
    handoffs.push(...h)
  }
  atB.length = 0
  await ring.until(joiner.leave())
  t.is(handoffs.length, 1)
  t.is(b.vnodes[0].predecessor?.id, a.id, 'successor told before any stabilize round')
  t.is(a.vnodes[0].successors[0].id, b.id, 'predecessor told too')
  t.is(atB[0]?.reason, 'leave')
  t.ok((await ring.settle()) >= 0)
  t.alike(ring.violations, [])
})

test('concurrent joins into one gap end in one consistent ring', async (t) => {
  const ring = new TestRing({ successors: 4 })
  ring.watch()
  const [a, b] = await build(ring, 2)
  // A hundred machines whose ids all fall between a and b, joining at the same
  // instant through either: every join walks into the same crowded gap.
  // biome-ignore lint/complexity/useMathMinMax: ids are bigints, which Math.min does not take
  const lo = a.id < b.id ? a.id : b.id
  const span = (a.id < b.id ? b.id - a.id : a.id - b.id) / 1000n
  const joiners: ChordNode[] = []
  while (joiners.length < 100) {
    const pk = ring.prng.bytes(32)
    const id = virtualNodeId(pk, 0)
    if (id > lo && id < lo + span * 1000n) joiners.push(ring.machine(pk))
  }
  await ring.until(Promise.all(joiners.map((j, i) => j.join([i % 2 ? a.address : b.address]))))
  t.is(joiners.filter((j) => j.isMember).length, 100, 'every joiner is a member')
  const rounds = await ring.settle()
  t.comment(`consistent ${rounds} rounds after the last join returned`)
  t.ok(rounds >= 0, 'consistent')
  t.alike(ring.violations, [])
})

test('a node alone rejoins when it learns a peer (two rings merge through addPeer/join)', async (t) => {
  const ring = new TestRing({ successors: 3 })
  const left = await build(ring, 3)
  const right = ring.machine()
  await right.create()
  const other = ring.machine()
  await ring.until(other.join([right.address]))
  t.absent(ring.consistent(), 'two separate rings')
  await ring.until(right.join([left[0].address]))
  t.ok((await ring.settle()) >= 0, 'one consistent ring')
})

test('partition then heal: the two rings merge into one', async (t) => {
  const ring = new TestRing({ successors: 4, vnodes: 2 })
  const nodes = await build(ring, 10)
  t.ok((await ring.settle()) >= 0)
  const groups = new Map(nodes.map((n, i) => [n.address, i % 2]))
  ring.network.partition(groups)
  await ring.run(30_000)
  ring.network.partition(null)
  t.ok((await ring.settle(120)) >= 0, 'healed into one consistent ring')
})

// Random joins, crashes and graceful leaves on rings of a few machines (1 or 2
// vnodes each, r = 4), with Zave's invariants checked after every tick.
// A crash or leave happens only when Zave's operating assumption allows it
// (TestRing.mayRemove: no member loses its last live successor); otherwise
// the step is skipped. Schedules that break the assumption can leave a member
// with a list of dead machines only, which no protocol can repair from
// inside; docs/chord.md explains why the check is scoped this way.
const SCHEDULES = 5000

test('thousands of randomized small-ring schedules keep the invariants at every tick', async (t) => {
  // About 20 s of CPU; brittle's default 30 s is too tight on the shared 2-core box.
  t.timeout(180_000)
  const bad = new Map<number, string>()
  let removals = 0
  let skipped = 0
  for (let seed = 1; seed <= SCHEDULES; seed++) {
    const ring = new TestRing({ seed, successors: 4, vnodes: 1 + (seed % 2) })
    const rng = ring.prng
    const nodes = [ring.machine()]
    await nodes[0].create()
    ring.watch()
    let crashes = 0
    const steps = 4 + rng.int(6)
    for (let s = 0; s < steps; s++) {
      const live = ring.live()
      const op = rng.int(10)
      if (op < 6 || live.length < 4) {
        const n = ring.machine()
        n.join([live[rng.int(live.length)].address]).catch(() => {})
      } else if (op < 8 && crashes < 2 && live.filter((n) => n.vnodes.every((v) => v.member)).length >= 5) {
        const victim = live[rng.int(live.length)]
        if (ring.mayRemove(victim)) {
          ring.crash(victim)
          removals++
        } else skipped++
        crashes++
      } else {
        const leaver = live[rng.int(live.length)]
        if (ring.mayRemove(leaver)) {
          ring.leave(leaver)
          removals++
        } else skipped++
      }
      await ring.run(rng.int(1500))
    }
    if ((await ring.settle(60)) < 0) bad.set(seed, 'ended inconsistent')
    else if (ring.violations.length > 0) bad.set(seed, ring.violations[0])
  }
  t.comment(`${removals} crashes and leaves, ${skipped} refused by the operating assumption`)
  t.ok(removals > 10 * skipped, 'the assumption refuses few removals, so the schedules do exercise failures')
  for (const [seed, why] of bad) t.comment(`seed ${seed}: ${why}`)
  t.alike([...bad.keys()], [], 'every schedule ends consistent with no invariant broken at any tick')
})
