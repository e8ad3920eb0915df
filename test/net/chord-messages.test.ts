import test from 'brittle'
import c from 'compact-encoding'
import type { ChordRequest, ChordResponse, NodeRef } from '../../lib/chord'
import { RING_MASK } from '../../lib/chord'
import { chordRequestEncoding, chordResponseEncoding } from '../../lib/chord/wire'

const a: NodeRef = { id: 0n, address: 'aa'.repeat(32) }
const b: NodeRef = { id: RING_MASK, address: 'bb'.repeat(32) }

const requests: ChordRequest[] = [
  { type: 'state', to: 5n, notify: null },
  { type: 'state', to: RING_MASK, notify: a },
  { type: 'lookup', key: 123456789n, exclude: [] },
  { type: 'lookup', key: 1n, exclude: [a.address, b.address] },
  { type: 'leave', to: 7n, leaving: a, predecessor: b, successors: [a, b] },
  { type: 'leave', to: 7n, leaving: a, predecessor: null, successors: [] },
  { type: 'hint', to: 9n, node: b }
]

const responses: ChordResponse[] = [
  { type: 'state', predecessor: null, successors: [] },
  { type: 'state', predecessor: a, successors: [b, a] },
  { type: 'lookup', done: true, nodes: [a] },
  { type: 'lookup', done: false, nodes: [] },
  { type: 'ack' }
]

test('every chord request and response round-trips, ids at both ends of the ring', (t) => {
  for (const req of requests)
    t.alike(c.decode(chordRequestEncoding, c.encode(chordRequestEncoding, req)), req, req.type)
  for (const res of responses) {
    t.alike(c.decode(chordResponseEncoding, c.encode(chordResponseEncoding, res)), res, res.type)
  }
})

test('truncated or unknown chord messages throw instead of decoding garbage', async (t) => {
  for (const req of requests) {
    const bytes = c.encode(chordRequestEncoding, req)
    await t.exception.all(
      () => c.decode(chordRequestEncoding, bytes.subarray(0, bytes.length - 1)),
      undefined,
      req.type
    )
  }
  await t.exception(() => c.decode(chordRequestEncoding, Buffer.from([99])), /unknown chord request/)
  await t.exception(() => c.decode(chordResponseEncoding, Buffer.from([99])), /unknown chord response/)
  const tooLong = { type: 'lookup' as const, key: 1n, exclude: Array.from({ length: 65 }, () => a.address) }
  await t.exception(() => c.decode(chordRequestEncoding, c.encode(chordRequestEncoding, tooLong)), /too long/)
})

test('an address that is not a 32-byte public key in hex is refused on decode', async (t) => {
  for (const address of ['m42', 'AA'.repeat(32), 'aa'.repeat(31), 'aa'.repeat(33), `${'aa'.repeat(31)}zz`]) {
    const req: ChordRequest = { type: 'hint', to: 9n, node: { id: 1n, address } }
    await t.exception(() => c.decode(chordRequestEncoding, c.encode(chordRequestEncoding, req)), /public key/, address)
    const res: ChordResponse = { type: 'lookup', done: true, nodes: [{ id: 1n, address }] }
    await t.exception(
      () => c.decode(chordResponseEncoding, c.encode(chordResponseEncoding, res)),
      /public key/,
      address
    )
  }
})
