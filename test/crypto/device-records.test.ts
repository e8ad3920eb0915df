// Records a device signs under its user's certificate (docs/devices.md):
// they verify for the user's key, refuse every broken link of the chain,
// keep the old format byte for byte when there is no certificate, and the
// recovery phrase round-trips the seed and refuses damage.

import c from 'compact-encoding'
import test from 'brittle'
import {
  createDeviceCertificate,
  createRecord,
  decodeRecord,
  encodeRecord,
  keyPairFromSeed,
  randomBytes,
  recordEncoding,
  recordKey,
  verifyRecord
} from '../../lib/crypto'
import { PHRASE_WORDS, phraseToSeed, seedToPhrase } from '../../lib/crypto/recovery-phrase'

const user = keyPairFromSeed(randomBytes(32))
const device = keyPairFromSeed(randomBytes(32))
const other = keyPairFromSeed(randomBytes(32))
const name = randomBytes(32)
const key = recordKey(user.publicKey, name)

test('a device-signed record verifies for its user and round-trips', (t) => {
  const certificate = createDeviceCertificate(user, device.publicKey, 'laptop', 1_700_000_000_000)
  const r = createRecord({ keyPair: device, certificate }, name, 3, Buffer.from('v'))
  t.alike(r.owner, user.publicKey, 'owned by the user: it sits at the same key as before devices')
  t.ok(verifyRecord(r, key))
  const back = decodeRecord(encodeRecord(r))
  t.ok(verifyRecord(back, key), 'still verifies after the wire')
  t.is(back.signer?.name, 'laptop')
  t.alike(encodeRecord(back), encodeRecord(r), 'canonical')
})

test('every broken link of the chain is refused', (t) => {
  const good = createDeviceCertificate(user, device.publicKey, 'laptop', 1)
  // A certificate the device made for itself with another key.
  const selfMade = createDeviceCertificate(other, device.publicKey, 'laptop', 1)
  const r1 = createRecord({ keyPair: device, certificate: selfMade }, name, 1, Buffer.from('x'))
  t.absent(verifyRecord({ ...r1, owner: user.publicKey }, key), 'a certificate not signed by the owner')
  // A certificate whose fields were changed after signing.
  const renamed = { ...good, name: 'desktop' }
  t.absent(verifyRecord(createRecord({ keyPair: device, certificate: renamed }, name, 1, Buffer.from('x')), key))
  // The record signed by another key than the certified device's.
  const wrongKey = createRecord({ keyPair: other, certificate: good }, name, 1, Buffer.from('x'))
  t.absent(verifyRecord(wrongKey, key), "a signature not by the certificate's device")
  // The device's signature replayed as the user's own (certificate stripped), and moved under another certificate.
  const r = createRecord({ keyPair: device, certificate: good }, name, 1, Buffer.from('x'))
  t.absent(verifyRecord({ ...r, signer: undefined }, key), 'stripped certificate')
  const other2 = createDeviceCertificate(user, other.publicKey, 'other', 1)
  t.absent(verifyRecord({ ...r, signer: other2 }, key), 'moved under another device')
  t.absent(verifyRecord({ ...r, value: Buffer.from('y') }, key), 'changed value')
})

test('a record without a certificate is encoded exactly as before devices', (t) => {
  const r = createRecord(user, name, 7, Buffer.from('old'))
  // Read with the first format's six fields: nothing is left after them.
  const bytes = encodeRecord(r)
  const state = c.state(0, bytes.byteLength, bytes)
  c.fixed32.decode(state)
  c.fixed32.decode(state)
  c.uint.decode(state)
  c.bool.decode(state)
  c.buffer.decode(state)
  c.fixed64.decode(state)
  t.is(state.start, state.end)
  t.absent(decodeRecord(encodeRecord(r)).signer)
  t.ok(verifyRecord(decodeRecord(c.encode(recordEncoding, r)), key))
})

test('recovery phrase: 26 words, round-trips, refuses damage', (t) => {
  for (let i = 0; i < 20; i++) {
    const seed = randomBytes(32)
    const phrase = seedToPhrase(seed)
    t.is(phrase.split(' ').length, PHRASE_WORDS)
    t.alike(phraseToSeed(phrase), seed)
  }
  const seed = randomBytes(32)
  const words = seedToPhrase(seed).split(' ')
  // Every single word replaced by its neighbour in the list: always refused.
  let refused = 0
  for (let i = 0; i < words.length; i++) {
    const w = words.slice()
    w[i] = w[i] === 'zoo' ? 'abandon' : words[i] === 'abandon' ? 'ability' : 'zoo'
    try {
      phraseToSeed(w.join(' '))
    } catch (err) {
      if ((err as Error).message.includes('damaged')) refused++
    }
  }
  t.is(refused, words.length, 'each of the 26 words changed: refused')
})
