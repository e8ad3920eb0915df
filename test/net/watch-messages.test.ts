import test from 'brittle'
import c from 'compact-encoding'
import { randomBytes } from '../../lib/crypto'
import { UnwatchRequest, UnwatchResponse, WatchEvent, WatchRequest, WatchResponse } from '../../lib/node/watch-messages'

// Every watch schema round-trips; truncated input and bad keys throw (PeerNetwork answers EBADMESSAGE).
const cases: [string, c.Encoder<unknown>, unknown[]][] = [
  ['WatchRequest', WatchRequest, [{ key: randomBytes(32) }]],
  ['WatchResponse', WatchResponse, [{ version: 0 }, { version: 2 ** 40 }]],
  ['UnwatchRequest', UnwatchRequest, [{ key: randomBytes(32) }]],
  ['UnwatchResponse', UnwatchResponse, [{ ok: true }, { ok: false }]],
  [
    'WatchEvent',
    WatchEvent,
    [
      { key: randomBytes(32), version: 1 },
      { key: randomBytes(32), version: 2 ** 50 }
    ]
  ]
]

test('watch messages round-trip and refuse truncated input', (t) => {
  for (const [name, enc, values] of cases) {
    for (const value of values) {
      const buf = c.encode(enc, value)
      t.alike(c.decode(enc, buf), value, `${name} round-trips`)
      t.exception(() => c.decode(enc, buf.subarray(0, buf.byteLength - 1)), undefined, `${name} truncated throws`)
    }
  }
  t.exception(() => c.encode(WatchRequest, { key: randomBytes(31) }), undefined, 'a short key is refused')
})

test('watch messages: a flags field a later version sets is read and ignored', (t) => {
  const key = randomBytes(32)
  const later = Buffer.concat([Buffer.from([1]), c.encode(WatchEvent, { key, version: 7 }).subarray(1)])
  t.alike(c.decode(WatchEvent, later), { key, version: 7 })
})
