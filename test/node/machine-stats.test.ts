import test from 'brittle'
import c from 'compact-encoding'
import { NodeStatsRequest, NodeStatsResponse } from '../../lib/node/machine-stats'
import { replicationStatus } from '../../lib/node/ring-machines'

test('NodeStats schemas round-trip, and a later flag bit is read and ignored', (t) => {
  t.alike(c.decode(NodeStatsRequest, c.encode(NodeStatsRequest, {})), {})
  const res = { member: true, keys: 123_456, bytes: 97 * 1024 * 1024 * 1024 }
  t.alike(c.decode(NodeStatsResponse, c.encode(NodeStatsResponse, res)), res)
  const withFlag = c.encode(NodeStatsResponse, res)
  withFlag[0] = 1
  t.alike(c.decode(NodeStatsResponse, withFlag), res, 'flags are read, not interpreted')
})

test('replication is measured against what the ring can hold', (t) => {
  const repair = { rounds: 4, underReplicated: 0, pushed: 1, pulled: 2, handedOff: 3, lastRoundAt: 1 }
  const one = replicationStatus({ target: 3, ringSize: 1, keysHeld: 7, repair })
  t.is(one.underTarget, 7, 'a ring of 1 with k=3: every key is under target')
  t.is(one.reason, 'ring of 1 machine cannot hold 3 copies')
  const two = replicationStatus({ target: 3, ringSize: 2, keysHeld: 0, repair: null })
  t.is(two.underTarget, 0)
  t.is(two.reason, 'ring of 2 machines cannot hold 3 copies', 'said even with nothing stored')
  const four = replicationStatus({ target: 3, ringSize: 4, keysHeld: 7, repair })
  t.is(four.underTarget, 0)
  t.is(four.reason, null)
  t.is(four.repaired, 6)
  const missing = replicationStatus({ target: 3, ringSize: 4, keysHeld: 7, repair: { ...repair, underReplicated: 2 } })
  t.is(missing.underTarget, 2, 'copies found missing by repair')
  t.ok(missing.reason?.includes('missing'))
})
