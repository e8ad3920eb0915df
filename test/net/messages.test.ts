import test from 'brittle'
import c from 'compact-encoding'
import { createRecord, encodeRecord, keyPairFromSeed, randomBytes, recordKey } from '../../lib/crypto'
import {
  DeleteFileRequest,
  DeleteFileResponse,
  DeleteProofKind,
  FileKind,
  GetFileRequest,
  GetFileResponse,
  PatchFileRequest,
  PatchFileResponse,
  PostFileRequest,
  PostFileResponse
} from '../../lib/node/file-messages'

// Every schema, with sample values that exercise each optional field both ways.
const cases: [string, c.Encoder<unknown>, unknown[]][] = [
  [
    'GetFileRequest',
    GetFileRequest,
    [
      { key: randomBytes(32) },
      { key: randomBytes(32), start: 0 },
      { key: randomBytes(32), end: 1024 },
      { key: randomBytes(32), start: 2 ** 40, end: 2 ** 40 + 1024 * 1024 }
    ]
  ],
  [
    'GetFileResponse',
    GetFileResponse,
    [
      { found: false, kind: FileKind.Immutable, totalSize: 0, bytes: Buffer.alloc(0) },
      { found: true, kind: FileKind.Record, totalSize: 5 * 2 ** 30, bytes: randomBytes(4096) }
    ]
  ],
  [
    'PostFileRequest',
    PostFileRequest,
    [
      { key: randomBytes(32), kind: FileKind.Immutable, bytes: randomBytes(1000), replicate: true },
      { key: randomBytes(32), kind: FileKind.Record, bytes: Buffer.alloc(0), replicate: false },
      {
        key: randomBytes(32),
        kind: FileKind.Immutable,
        bytes: randomBytes(10),
        replicate: false,
        claim: { owner: randomBytes(32), time: 1_764_100_000_000, deleted: false, signature: randomBytes(64) }
      }
    ]
  ],
  ['PostFileResponse', PostFileResponse, [{ ok: true }, { ok: false }]],
  [
    'DeleteFileRequest',
    DeleteFileRequest,
    [
      { key: randomBytes(32), proofKind: DeleteProofKind.RecordTombstone, proof: randomBytes(200) },
      { key: randomBytes(32), proofKind: DeleteProofKind.ChunkDelete, proof: randomBytes(106) }
    ]
  ],
  ['DeleteFileResponse', DeleteFileResponse, [{ ok: true }]],
  ['PatchFileRequest', PatchFileRequest, [{ key: randomBytes(32), expectedVersion: 7, record: randomBytes(300) }]],
  ['PatchFileResponse', PatchFileResponse, [{ ok: true }, { ok: false, current: randomBytes(120) }]]
]

for (const [name, enc, samples] of cases) {
  test(`${name} round-trips, and truncated input throws`, (t) => {
    for (const sample of samples) {
      const buf = c.encode(enc, sample)
      t.alike(c.decode(enc, buf), sample)
      for (let cut = 0; cut < buf.byteLength; cut++) {
        let threw = false
        try {
          c.decode(enc, buf.subarray(0, cut))
        } catch {
          threw = true
        }
        if (!threw) {
          t.fail(`${name}: decoding ${cut} of ${buf.byteLength} bytes did not throw`)
          return
        }
      }
    }
    t.pass('every truncation throws')
  })
}

test('a tombstone and a signed record travel inside DeleteFile and PatchFile', (t) => {
  const owner = keyPairFromSeed(randomBytes(32))
  const name = randomBytes(32)
  const record = createRecord(owner, name, 3, Buffer.from('metadata'))
  const tombstone = createRecord(owner, name, 4, Buffer.alloc(0), true)
  const key = recordKey(owner.publicKey, name)
  const patch = c.decode(
    PatchFileRequest,
    c.encode(PatchFileRequest, { key, expectedVersion: 2, record: encodeRecord(record) })
  )
  t.alike(patch.record, encodeRecord(record))
  const del = c.decode(DeleteFileRequest, c.encode(DeleteFileRequest, { key, proof: encodeRecord(tombstone) }))
  t.alike(del.proof, encodeRecord(tombstone))
})

test('invalid values are refused on both ends', (t) => {
  t.exception(() => c.encode(GetFileRequest, { key: randomBytes(31) }), /size|32 bytes/)
  const badKind = c.encode(PostFileRequest, {
    key: randomBytes(32),
    kind: FileKind.Immutable,
    bytes: Buffer.alloc(1),
    replicate: true
  })
  badKind[33] = 9 // after the flags byte and the key
  t.exception(() => c.decode(PostFileRequest, badKind), /unknown file kind/)
  const backwards = c.encode(GetFileRequest, { key: randomBytes(32), start: 10, end: 5 })
  t.exception(() => c.decode(GetFileRequest, backwards), /range/)
  t.exception(() => c.decode(GetFileResponse, randomBytes(3)))
})
