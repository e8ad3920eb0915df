// Chunk crypto off the JS thread (lib/crypto/crypto-pool.ts) and the read
// path's checks in ChunkStore: what the workers produce equals what this
// thread would, tampering and wrong keys are refused, a dead worker does not
// fail writes, a corrupt local copy falls back to the store, and sequential
// writes that overlap with sealing read back whole.

import { recordCopyStoreFor } from '../../lib/app/record-copy-store'
import path from 'node:path'
import test from 'brittle'
import { randomBytes, sha256 } from '../../lib/crypto'
import { decrypt } from '../../lib/crypto/aead'
import { CryptoPool } from '../../lib/crypto/crypto-pool'
import { ChunkStore, chunkAd } from '../../lib/volume/chunks/chunk-store'
import { LocalValueStore } from '../../lib/volume/local-value-store'
import { Volume } from '../../lib/volume/volume'
import { tempDir } from '../helpers/temp-dir'

const MiB = 1024 * 1024

test('pool: seal and open on workers agree with this thread; tampering and bad hashes are refused', async (t) => {
  const pool = new CryptoPool({ size: 2 })
  t.teardown(() => pool.close())
  const key = randomBytes(32)
  const ad = chunkAd(randomBytes(32), 7)
  const plain = Buffer.from(new SharedArrayBuffer(MiB))
  plain.fill(0x5a)
  const { ciphertext, hash } = await pool.seal(plain, key, ad)
  t.alike(hash, sha256(ciphertext), 'hash is sha256 of the ciphertext')
  t.alike(decrypt(ciphertext, key, ad), plain, 'this thread opens what a worker sealed')
  t.is(plain[0], 0x5a, 'the shared plaintext is left as it was')

  t.alike(await pool.open(Buffer.from(ciphertext), key, ad, { hash }), plain, 'opened with the hash check')
  const owned = Buffer.from(ciphertext)
  t.alike(await pool.open(owned, key, ad, { transfer: true }), plain, 'opened by transfer')
  t.is(owned.byteLength, 0, 'a transferred input is gone from this thread')

  // Into given-up memory (moved to the worker and back) and into shared memory.
  const moved = Buffer.from(new ArrayBuffer(MiB + 64))
  const intoMoved = await pool.seal(plain, key, ad, moved)
  t.is(moved.byteLength, 0, 'the given-up buffer moved to the worker')
  t.is(intoMoved.ciphertext.buffer.byteLength, MiB + 64, 'the ciphertext came back in that memory')
  t.alike(decrypt(intoMoved.ciphertext, key, ad), plain, 'and opens')
  const sharedOut = Buffer.from(new SharedArrayBuffer(MiB))
  const opened = await pool.open(intoMoved.ciphertext, key, ad, { into: sharedOut })
  t.is(opened.buffer, sharedOut.buffer, 'opened into the shared buffer')
  t.alike(opened, plain)

  const tampered = Buffer.from(ciphertext)
  tampered[100] ^= 1
  await t.exception(pool.open(tampered, key, ad), /authentication/, 'tampered ciphertext refused')
  await t.exception(pool.open(Buffer.from(ciphertext), key, chunkAd(randomBytes(32), 7)), /authentication/, 'wrong AD')
  await t.exception(pool.open(Buffer.from(ciphertext), key, ad, { hash: randomBytes(32) }), /key/, 'wrong hash')
})

test('pool: a dead worker does not fail a seal; after close() crypto runs on this thread', async (t) => {
  const pool = new CryptoPool({ size: 1 })
  const key = randomBytes(32)
  const ad = chunkAd(randomBytes(32), 0)
  const plain = randomBytes(MiB)
  const sealing = pool.seal(plain, key, ad)
  // Kill the worker under the job: the seal is redone here from the untouched input.
  const slots = (pool as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots
  await slots[0].worker.terminate()
  const { ciphertext } = await sealing
  t.alike(decrypt(ciphertext, key, ad), plain)
  await pool.close()
  const again = await pool.seal(plain, key, ad)
  t.alike(await pool.open(again.ciphertext, key, ad), plain, 'works after close, on this thread')
})

test('chunk store: a corrupt local copy is dropped and the chunk read from the store', async (t) => {
  const root = tempDir(t, 'chunk-crypto')
  const store = new LocalValueStore(path.join(root, 'store'))
  await store.ready()
  const cacheDir = path.join(root, 'cache')
  const fileId = randomBytes(32)
  const fileKey = randomBytes(32)
  const plain = randomBytes(MiB)

  const writer = new ChunkStore({ store, cacheDir, readCacheBytes: 0 })
  await writer.ready()
  const key = await writer.seal(fileId, fileKey, 3, plain)
  await writer.whenUploaded([key])
  await writer.close()

  // A fresh ChunkStore (nothing in memory) whose store serves a corrupt "own" copy.
  let localReads = 0
  const corrupt = Object.assign(Object.create(store), {
    getLocal: async (k: Buffer) => {
      localReads++
      const bytes = await store.getImmutable(k)
      bytes[50] ^= 1
      return bytes
    }
  })
  const reader = new ChunkStore({ store: corrupt, cacheDir, readCacheBytes: 0 })
  await reader.ready()
  t.teardown(() => reader.close())
  t.alike(await reader.open(fileId, fileKey, 3, key), plain, 'read back from the store')
  t.is(localReads, 1)
  // Another reader (the first keeps the opened plaintext in memory by key).
  const other = new ChunkStore({ store, cacheDir, readCacheBytes: 0 })
  await other.ready()
  t.teardown(() => other.close())
  await t.exception(other.open(fileId, fileKey, 4, key), /does not decrypt/, 'wrong index: EIO')
})

test('volume: sequential writes overlapping with sealing, rewrites and truncates read back whole', async (t) => {
  const root = tempDir(t, 'chunk-seq')
  const store = new LocalValueStore(path.join(root, 'store'))
  await store.ready()
  const home = path.join(root, 'home')
  const cs = 256 * 1024
  const v = new Volume({
    home,
    store,
    recordCopy: recordCopyStoreFor(home),
    readCacheBytes: 0,
    chunkSize: cs,
    flushIntervalMs: 60_000
  })
  await v.ready()
  const data = randomBytes(20 * cs + 1234)
  const inode = await v.create('/seq', 0o644)
  for (let at = 0; at < data.byteLength; at += 128 * 1024) {
    await v.write(inode, data.subarray(at, Math.min(at + 128 * 1024, data.byteLength)), at)
    // Read back what was just written while later chunks may still be sealing.
    const back = Buffer.alloc(Math.min(128 * 1024, data.byteLength - at))
    await v.read(inode, back, back.byteLength, at)
    t.ok(back.equals(data.subarray(at, at + back.byteLength)) || t.fail(`read at ${at}`))
  }
  // Rewrite inside a chunk that was just sealed, then cut the file inside another.
  const patch = randomBytes(1000)
  await v.write(inode, patch, 3 * cs + 10)
  patch.copy(data, 3 * cs + 10)
  await v.truncate(inode, 7 * cs + 99)
  await v.closeFile(inode)
  const expected = data.subarray(0, 7 * cs + 99)
  const out = Buffer.alloc(expected.byteLength)
  await v.read(inode, out, out.byteLength, 0)
  t.alike(out, expected, 'content after rewrite and truncate')
  await v.close()

  const v2 = new Volume({
    home,
    store,
    recordCopy: recordCopyStoreFor(home),
    readCacheBytes: 0,
    chunkSize: cs,
    flushIntervalMs: 60_000
  })
  await v2.ready()
  const again = await v2.resolve('/seq')
  const out2 = Buffer.alloc(expected.byteLength)
  await v2.read(again, out2, out2.byteLength, 0)
  t.alike(out2, expected, 'same after reopen')
  await v2.close()
})

test('chunk store: reads under constant eviction get their own chunk; open() hands out a copy', async (t) => {
  const root = tempDir(t, 'chunk-pool')
  const store = new LocalValueStore(path.join(root, 'store'))
  await store.ready()
  const fileId = randomBytes(32)
  const fileKey = randomBytes(32)
  const writer = new ChunkStore({ store, cacheDir: path.join(root, 'w'), readCacheBytes: 0 })
  await writer.ready()
  const plains: Buffer[] = []
  const keys: Buffer[] = []
  for (let i = 0; i < 12; i++) {
    plains.push(randomBytes(MiB - i * 1000))
    keys.push(await writer.seal(fileId, fileKey, i, Buffer.from(plains[i])))
  }
  await writer.whenAllUploaded()
  await writer.close()

  // A memory cache of one chunk: every open evicts, and evicted buffers are reused at once.
  const reader = new ChunkStore({ store, cacheDir: path.join(root, 'r'), readCacheBytes: 0, memoryCacheBytes: MiB })
  await reader.ready()
  t.teardown(() => reader.close())
  const kept = await reader.open(fileId, fileKey, 0, keys[0])
  let bad = 0
  const reads = []
  for (let n = 0; n < 300; n++) {
    const i = (n * 7) % 12
    const offset = (n * 4099) % MiB
    const target = Buffer.alloc(128 * 1024, 0xee)
    reads.push(
      reader.read(fileId, fileKey, i, keys[i], target, offset).then(() => {
        const expected = Buffer.alloc(target.byteLength)
        plains[i].subarray(offset, offset + target.byteLength).copy(expected)
        if (!target.equals(expected)) bad++
      })
    )
    if (n % 16 === 0) await Promise.all(reads.splice(0))
  }
  await Promise.all(reads)
  t.is(bad, 0, 'every read copied its own chunk (zeros past a short chunk)')
  t.alike(kept, plains[0], 'a buffer from open() is not reused under its holder')
})
