import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import {
  createRecord,
  decodeRecord,
  decrypt,
  encodeRecord,
  encrypt,
  keyPairFromSeed,
  loadOrCreateSeed,
  randomBytes,
  recordKey,
  verifyRecord
} from '../../lib/crypto'
import { tempDir } from '../helpers/temp-dir'

test('aead round-trips and detects tampering, wrong key and wrong associated data', (t) => {
  const key = randomBytes(32)
  const ad = Buffer.from('file-1/chunk-0')
  const sealed = encrypt(Buffer.from('hello world'), key, ad)
  t.is(decrypt(sealed, key, ad).toString(), 'hello world')
  const tampered = Buffer.from(sealed)
  tampered[tampered.length - 1] ^= 1
  t.exception(() => decrypt(tampered, key, ad), /authentication/)
  t.exception(() => decrypt(sealed, randomBytes(32), ad), /authentication/)
  t.exception(() => decrypt(sealed, key, Buffer.from('file-1/chunk-1')), /authentication/)
  t.unlike(encrypt(Buffer.from('x'), key), encrypt(Buffer.from('x'), key), 'fresh nonce per message')
})

test('records verify, refuse forgeries and belong at their key', (t) => {
  const alice = keyPairFromSeed(randomBytes(32))
  const mallory = keyPairFromSeed(randomBytes(32))
  const name = randomBytes(32)
  const rec = createRecord(alice, name, 7, Buffer.from('v7'))
  const key = recordKey(alice.publicKey, name)
  t.ok(verifyRecord(rec, key))
  const decoded = decodeRecord(encodeRecord(rec))
  t.alike(decoded, rec)
  t.ok(verifyRecord(decoded, key))

  t.absent(verifyRecord({ ...rec, version: 8 }, key), 'version is signed')
  t.absent(verifyRecord({ ...rec, value: Buffer.from('evil') }, key), 'value is signed')
  t.absent(verifyRecord({ ...rec, deleted: true }, key), 'tombstone flag is signed')
  const forged = createRecord(mallory, name, 9, Buffer.from('mine'))
  t.absent(verifyRecord({ ...forged, owner: alice.publicKey }, key), 'another key cannot sign for alice')
  t.absent(verifyRecord(forged, key), 'mallory record does not belong at alice key')
  t.absent(verifyRecord(rec, randomBytes(32)), 'wrong key')
})

test('seed file is created once with mode 0600 and reused', (t) => {
  const dir = tempDir(t, 'keys')
  const file = path.join(dir, 'sub', 'identity.seed')
  const a = loadOrCreateSeed(file)
  const b = loadOrCreateSeed(file)
  t.alike(a, b)
  t.is(fs.statSync(file).mode & 0o777, 0o600)
  fs.writeFileSync(file, 'short')
  t.exception(() => loadOrCreateSeed(file), /32-byte/)
})
