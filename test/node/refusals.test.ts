import test from 'brittle'
import {
  createChunkClaim,
  createRecord,
  encodeRecord,
  keyPairFromSeed,
  randomBytes,
  recordKey,
  sha256
} from '../../lib/crypto'
import {
  FileKind,
  METHODS,
  PatchFileRequest,
  PatchFileResponse,
  PostFileRequest,
  PostFileResponse
} from '../../lib/node/file-messages'
import { createTestRing, ringConsistent } from '../helpers/ring'
import { waitFor } from '../helpers/wait'

test('storage nodes refuse a bad chunk key, a forged record and a rollback; CAS conflicts carry the current record', async (t) => {
  t.timeout(120_000)
  const ring = await createTestRing(t, { replicas: 2 })
  const a = await ring.add()
  const b = await ring.add()
  await waitFor('a 2-node ring', () => ringConsistent(ring.nodes) && a.network.isConnected(b.publicKey), 60_000)

  const alice = keyPairFromSeed(randomBytes(32))
  const mallory = keyPairFromSeed(randomBytes(32))
  // Chunks travel with their uploader's signed claim (docs/trust-model.md).
  const post = (key: Buffer, kind: FileKind, bytes: Buffer, claimed = true) =>
    a.network.request(
      b.publicKey,
      METHODS.PostFile,
      {
        key,
        kind,
        bytes,
        replicate: false,
        claim: kind === FileKind.Immutable && claimed ? createChunkClaim(alice, key) : undefined
      },
      PostFileRequest,
      PostFileResponse
    )

  const chunk = randomBytes(1000)
  await t.exception(post(randomBytes(32), FileKind.Immutable, chunk), /sha256/, 'chunk whose key is not its hash')
  await t.exception(post(sha256(chunk), FileKind.Immutable, chunk, false), /claim/, 'a chunk without a claim')
  await t.execution(post(sha256(chunk), FileKind.Immutable, chunk), 'a correct chunk is stored')

  const name = randomBytes(32)
  const key = recordKey(alice.publicKey, name)
  const v2 = createRecord(alice, name, 2, Buffer.from('two'))
  await t.execution(post(key, FileKind.Record, encodeRecord(v2)))
  const forged = { ...createRecord(mallory, name, 3, Buffer.from('evil')), owner: alice.publicKey }
  await t.exception(post(key, FileKind.Record, encodeRecord(forged)), /signature|EBADSIG/i, 'forged record refused')
  const stale = createRecord(alice, name, 1, Buffer.from('one'))
  const stored = await b.store!.getRecord(key)
  await post(key, FileKind.Record, encodeRecord(stale)).catch(() => {})
  t.is(
    (await b.store!.getRecord(key))?.record.version,
    stored?.record.version,
    'a lower version never replaces a higher one'
  )

  // Through the client: compare-and-swap at the owner.
  const name2 = randomBytes(32)
  const key2 = recordKey(alice.publicKey, name2)
  await a.client.putRecord(createRecord(alice, name2, 1, Buffer.from('v1')), 0, key2)
  const conflict = await a.client.putRecord(createRecord(alice, name2, 2, Buffer.from('v2')), 0, key2).catch((e) => e)
  t.is(conflict.code, 'ECONFLICT')
  t.is(conflict.current?.version, 1, 'the conflict carries the current record')
  await t.execution(a.client.putRecord(createRecord(alice, name2, 2, Buffer.from('v2')), 1, key2))
  t.is((await b.client.getRecord(key2))?.value.toString(), 'v2', 'the new version is read through the other node')

  const patch = await a.network
    .request(
      b.publicKey,
      METHODS.PatchFile,
      {
        key: key2,
        expectedVersion: 2,
        record: encodeRecord({ ...createRecord(mallory, name2, 3, Buffer.from('x')), owner: alice.publicKey })
      },
      PatchFileRequest,
      PatchFileResponse
    )
    .catch((e) => e)
  t.ok(patch instanceof Error, 'a forged PatchFile is refused')
})
