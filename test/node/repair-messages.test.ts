import test from 'brittle'
import c from 'compact-encoding'
import { randomBytes } from '../../lib/crypto'
import { RepairKind, RepairPostRequest, SyncKeysRequest, SyncKeysResponse } from '../../lib/node/repair-messages'

test('repair schemas round-trip tombstones, values and records', (t) => {
  const now = 1_764_100_000_000
  const keys = [
    { key: randomBytes(32), tombstone: false, record: false, version: 0, digest: 0 },
    { key: randomBytes(32), tombstone: false, record: false, version: now, digest: 2 ** 48 - 1 },
    { key: randomBytes(32), tombstone: true, record: false, version: now + 1, digest: 12345 },
    { key: randomBytes(32), tombstone: false, record: true, version: 2 ** 53 - 1, digest: 1 }
  ]
  const req = { from: randomBytes(32), to: randomBytes(32), keys }
  t.alike(c.decode(SyncKeysRequest, c.encode(SyncKeysRequest, req)), req, 'SyncKeysRequest')
  const res = { missing: [0, 3], extra: keys.slice(1, 3) }
  t.alike(c.decode(SyncKeysResponse, c.encode(SyncKeysResponse, res)), res, 'SyncKeysResponse')

  const claim = { owner: randomBytes(32), time: now, deleted: false, signature: randomBytes(64) }
  const del = { ...claim, time: now + 5, deleted: true }
  for (const post of [
    {
      key: randomBytes(32),
      kind: RepairKind.Immutable,
      bytes: randomBytes(100),
      version: now,
      claims: [claim],
      unclaimed: true
    },
    {
      key: randomBytes(32),
      kind: RepairKind.Record,
      bytes: randomBytes(300),
      version: 0,
      claims: [],
      unclaimed: false
    },
    {
      key: randomBytes(32),
      kind: RepairKind.Tombstone,
      bytes: Buffer.alloc(0),
      version: now,
      claims: [claim, del],
      unclaimed: false
    }
  ]) {
    t.alike(c.decode(RepairPostRequest, c.encode(RepairPostRequest, post)), post, `RepairPost ${RepairKind[post.kind]}`)
  }
  const bad = c.encode(RepairPostRequest, {
    key: randomBytes(32),
    kind: RepairKind.Immutable,
    bytes: Buffer.alloc(0),
    version: 0
  })
  bad[33] = 7 // after the flags byte and the key
  t.exception(() => c.decode(RepairPostRequest, bad), /unknown repair kind/, 'an unknown kind is refused')
})
