// Property tests of the ring arithmetic, on ids biased towards the edges
// (0, 2^256 − 1, neighbours of the interval ends) where modular bugs hide.

import test from 'brittle'
import { idFromBuffer, idToBuffer, RING_MASK, RING_SIZE, virtualNodeId } from '../../lib/chord/id'
import { addPow2, distance, inHalfOpen, inOpen } from '../../lib/chord/interval'
import type { NodeRef } from '../../lib/chord/messages'
import { listProblem, mergeLists, reconcile } from '../../lib/chord/successor-list'
import { Prng } from '../../lib/sim/prng'

const CASES = 20_000

/** Random ids, a third of them at or next to the special points. */
function idGen(rng: Prng, near: bigint[] = []) {
  return (): bigint => {
    const pick = rng.int(6)
    if (pick === 0) return [0n, 1n, RING_MASK, RING_MASK - 1n, RING_SIZE >> 1n][rng.int(5)]
    if (pick === 1 && near.length > 0) {
      const base = near[rng.int(near.length)]
      return (base + BigInt(rng.int(5)) - 2n + RING_SIZE) & RING_MASK
    }
    return rng.id256()
  }
}

/** The textbook definition, by cases, to check the modular one against. */
function openRef(x: bigint, a: bigint, b: bigint): boolean {
  if (a < b) return a < x && x < b
  if (a > b) return x > a || x < b
  return x !== a
}

test('inOpen and inHalfOpen agree with the case-by-case definition', (t) => {
  const rng = new Prng(7)
  let bad = 0
  for (let i = 0; i < CASES; i++) {
    const a = rng.id256()
    const b = rng.int(4) === 0 ? a : rng.id256()
    const x = idGen(rng, [a, b])()
    if (inOpen(x, a, b) !== openRef(x, a, b)) bad++
    const half = a === b ? true : openRef(x, a, b) || x === b
    if (inHalfOpen(x, a, b) !== half) bad++
  }
  t.is(bad, 0, `${CASES} random cases`)
})

test('(a, b] and (b, a] partition the ring when a ≠ b', (t) => {
  const rng = new Prng(8)
  let bad = 0
  for (let i = 0; i < CASES; i++) {
    const a = rng.id256()
    const b = idGen(rng, [a])()
    if (a === b) continue
    const x = idGen(rng, [a, b])()
    if (inHalfOpen(x, a, b) === inHalfOpen(x, b, a)) bad++
    if (inOpen(x, a, b) && (x === a || x === b)) bad++
  }
  t.is(bad, 0)
})

test('distance is clockwise and the two ways round sum to the ring', (t) => {
  const rng = new Prng(9)
  let bad = 0
  for (let i = 0; i < CASES; i++) {
    const gen = idGen(rng)
    const a = gen()
    const b = gen()
    const d = distance(a, b)
    if (d < 0n || d > RING_MASK) bad++
    if (((a + d) & RING_MASK) !== b) bad++
    if (a !== b && d + distance(b, a) !== RING_SIZE) bad++
    if (a === b && d !== 0n) bad++
  }
  t.is(bad, 0)
  t.is(addPow2(RING_MASK, 0), 0n, 'the last id wraps to 0')
  t.is(addPow2(0n, 255), RING_SIZE >> 1n)
})

test('ids round-trip through 32-byte buffers; vnode ids derive from the public key', async (t) => {
  const rng = new Prng(10)
  for (let i = 0; i < 200; i++) {
    const x = idGen(rng)()
    const buf = idToBuffer(x)
    if (buf.length !== 32 || idFromBuffer(buf) !== x) return t.fail(`round trip of ${x}`)
  }
  await t.exception.all(() => idToBuffer(RING_SIZE))
  await t.exception.all(() => idFromBuffer(Buffer.alloc(31)))
  const pk = rng.bytes(32)
  t.is(virtualNodeId(pk, 0), virtualNodeId(pk, 0), 'deterministic')
  t.not(virtualNodeId(pk, 0), virtualNodeId(pk, 1), 'each index its own point')
  t.not(virtualNodeId(pk, 1), virtualNodeId(rng.bytes(32), 1), 'each key its own points')
})

test('reconcile keeps lists ordered from self, without self or duplicates, at most r long', (t) => {
  const rng = new Prng(11)
  let bad = 0
  for (let i = 0; i < 5000; i++) {
    // A random ring of 1..12 nodes; self is one of them or a joining id.
    const ring = Array.from({ length: 1 + rng.int(12) }, () => idGen(rng)()).sort((x, y) => (x < y ? -1 : 1))
    const self = rng.int(2) === 0 ? ring[rng.int(ring.length)] : rng.id256()
    const r = 1 + rng.int(8)
    const ref = (id: bigint): NodeRef => ({ id, address: id.toString(16) })
    const headIndex = rng.int(ring.length)
    const head = ref(ring[headIndex])
    // head's own list: the ring after head, wrapping, as long as head would keep it.
    const tail: NodeRef[] = []
    for (let j = 1; j < ring.length && tail.length < r; j++) tail.push(ref(ring[(headIndex + j) % ring.length]))
    const list = reconcile(self, head, tail, r)
    if (listProblem(self, list)) bad++
    if (list.length > r) bad++
    if (head.id !== self && list[0]?.id !== head.id) bad++
    const merged = mergeLists(self, list, tail, r)
    if (listProblem(self, merged) || merged.length > r) bad++
  }
  t.is(bad, 0)
  t.alike(reconcile(5n, { id: 5n, address: 'x' }, [], 3), [], 'self as head gives an empty list')
})
