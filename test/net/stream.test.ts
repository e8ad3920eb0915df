import { createHash } from 'node:crypto'
import test from 'brittle'
import c from 'compact-encoding'
import { FileKind, GetFileRequest, GetFileResponse, METHODS } from '../../lib/node/file-messages'
import { PIECE_BYTES, pullPieces, respondStream, STREAM_WINDOW, sendStream } from '../../scripts/lib/stream'
import { createFixture } from './helpers'
import { sleep } from '../helpers/wait'

const MiB = 1024 * 1024

/** Deterministic bytes, so that both ends can check content without holding it. */
function pattern(offset: number, length: number): Buffer {
  const b = Buffer.alloc(length)
  for (let i = 0; i < length; i++) b[i] = ((offset + i) * 2654435761) >>> 24
  return b
}

test('push: a 64 MiB value streams in ≤ 1 MiB pieces with ≤ window in flight and bounded buffering', async (t) => {
  const fx = await createFixture(t)
  const a = await fx.node()
  const b = await fx.node()
  const total = 64 * MiB
  let maxPiece = 0
  let pieces = 0
  respondStream(b, 'upload', c.string, c.string, async (name, stream) => {
    t.is(name, 'big.bin')
    const hash = createHash('sha256')
    for await (const piece of stream) {
      maxPiece = Math.max(maxPiece, piece.byteLength)
      pieces++
      hash.update(piece)
      if (pieces % 8 === 0) await sleep(5) // a slow disk: the sender must wait, not queue
    }
    return hash.digest('hex')
  })

  // Odd source chunk sizes: large ones are sliced, small ones coalesced into pieces.
  const sent = createHash('sha256')
  let produced = 0
  let acked = 0
  let maxUnacked = 0
  let maxInFlight = 0
  async function* source() {
    const sizes = [3 * MiB, 100 * 1024, 700 * 1024, MiB + 1]
    for (let i = 0; produced < total; i++) {
      const n = Math.min(sizes[i % sizes.length], total - produced)
      const chunk = pattern(produced, n)
      sent.update(chunk)
      produced += n
      maxUnacked = Math.max(maxUnacked, produced - acked)
      yield chunk
    }
  }
  const digest = await sendStream(a, b.publicKey, 'upload', 'big.bin', c.string, c.string, source(), {
    onProgress: (p) => {
      acked = p.ackedBytes
      maxInFlight = Math.max(maxInFlight, p.inFlight)
    }
  })
  t.is(digest, sent.digest('hex'), 'the receiver got every byte in order')
  t.is(acked, total)
  t.ok(maxPiece <= PIECE_BYTES, `largest piece ${maxPiece} bytes`)
  t.is(pieces, 64)
  t.ok(maxInFlight <= STREAM_WINDOW, `at most ${maxInFlight} pieces in flight`)
  // Produced but not yet acknowledged: the window, one piece being assembled and one source chunk.
  const bound = (STREAM_WINDOW + 1) * PIECE_BYTES + 3 * MiB
  t.ok(maxUnacked <= bound, `sender held at most ${(maxUnacked / MiB).toFixed(1)} MiB`)
})

test('push: the handler error stops the sender early and keeps its code', async (t) => {
  const fx = await createFixture(t)
  const a = await fx.node()
  const b = await fx.node()
  respondStream(b, 'upload', c.string, c.uint, async (_name, stream) => {
    let n = 0
    for await (const _ of stream) {
      if (++n === 3) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' })
    }
    return n
  })
  let produced = 0
  async function* source() {
    while (produced < 256 * MiB) {
      produced += MiB
      yield Buffer.alloc(MiB)
    }
  }
  try {
    await sendStream(a, b.publicKey, 'upload', 'x', c.string, c.uint, source())
    t.fail('should reject')
  } catch (err) {
    t.is((err as { code: string }).code, 'ENOSPC')
    t.is((err as Error).message, 'disk full')
  }
  t.ok(produced <= 16 * MiB, `stopped after ${produced / MiB} MiB`)

  t.is(await sendStream(a, b.publicKey, 'upload', 'empty', c.string, c.uint, []), 0, 'an empty stream works')
})

test('pull: GetFile of a 16 MiB value in ranged pieces, ≤ window requests at once', async (t) => {
  const fx = await createFixture(t)
  const a = await fx.node()
  const b = await fx.node()
  const value = pattern(0, 16 * MiB + 12345)
  const key = createHash('sha256').update(value).digest()
  let concurrent = 0
  let maxConcurrent = 0
  b.respond(METHODS.GetFile, GetFileRequest, GetFileResponse, async (req) => {
    concurrent++
    maxConcurrent = Math.max(maxConcurrent, concurrent)
    await sleep(2) // on purpose: a server that takes a moment, so requests overlap
    concurrent--
    if (!req.key.equals(key)) return { found: false, kind: FileKind.Immutable, totalSize: 0, bytes: Buffer.alloc(0) }
    // A server never answers with more than one piece, whatever range was asked.
    const start = Math.min(req.start ?? 0, value.byteLength)
    const end = Math.min(req.end ?? value.byteLength, start + PIECE_BYTES, value.byteLength)
    return { found: true, kind: FileKind.Immutable, totalSize: value.byteLength, bytes: value.subarray(start, end) }
  })
  const get = (start: number, end: number) =>
    a.request(b.publicKey, METHODS.GetFile, { key, start, end }, GetFileRequest, GetFileResponse)
  const first = await get(0, PIECE_BYTES)
  t.ok(first.found)
  const received = [first.bytes]
  let maxPiece = first.bytes.byteLength
  for await (const piece of pullPieces({
    start: first.bytes.byteLength,
    end: first.totalSize,
    fetch: async (s, e) => (await get(s, e)).bytes
  })) {
    maxPiece = Math.max(maxPiece, piece.byteLength)
    received.push(piece)
  }
  t.ok(Buffer.concat(received).equals(value), 'every byte, in order')
  t.ok(maxPiece <= PIECE_BYTES)
  t.ok(maxConcurrent <= STREAM_WINDOW, `at most ${maxConcurrent} GetFile requests at once`)
})

test('pull: a consumer that stops holds the producer to the window', async (t) => {
  let started = 0
  const gen = pullPieces({
    start: 0,
    end: 100 * MiB,
    fetch: async (s, e) => {
      started++
      return Buffer.alloc(e - s)
    }
  })
  await gen.next()
  // On purpose: time for the generator to run ahead, which it must not beyond the window.
  await sleep(20)
  t.ok(started <= STREAM_WINDOW, `${started} fetches started while the consumer holds one piece`)
  await gen.return(undefined)
})
