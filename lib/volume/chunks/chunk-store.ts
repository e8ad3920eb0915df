// Chunks between the Volume and the ValueStore: sealing (encrypt, hash),
// background upload with bounded memory, the write-back spool (ciphertext of
// chunks that a close() confirmed before their upload finished), the on-disk
// read cache (ciphertext only) and a small in-memory cache of opened chunks,
// because FUSE reads 128 KiB at a time out of 1 MiB chunks.
//
// ChunkStore is the face of that path for the Volume and FileData; each job
// lives in a module of its own: upload-queue.ts (with the spool,
// spool.ts, and upload-failure.ts), reader.ts (where a chunk is
// read from and the checks it needs), read-cache.ts and
// memory-cache.ts.

import path from 'node:path'
import { AEAD_OVERHEAD } from '../../crypto/aead'
import { CryptoPool } from '../../crypto/crypto-pool'
import { sha256 } from '../../crypto/hash'
import { BufferPool } from './buffer-pool'
import { CHUNK_BYTES, chunkAd, SEALED_CHUNK_BYTES } from './bytes'
import { ChunkMemoryCache } from './memory-cache'
import { ChunkReadCache } from './read-cache'
import { ChunkReader } from './reader'
import { ChunkSpool } from './spool'
import { type BackoffOptions, sleep } from '../../common/retry'
import type { UploadFailure } from './upload-failure'
import { UploadQueue } from './upload-queue'
import type { ValueStore } from '../value-store'
import { ReadyResource } from '../../common/resource'

// What the Volume, the CLI and tests take from here.
export { chunkAd } from './bytes'
export { ago, type UploadFailure } from './upload-failure'

export interface ChunkStoreOptions {
  store: ValueStore
  /** <home>/cache: holds spool/ and chunks/ (ciphertext only). */
  cacheDir: string
  /** Ciphertext bytes sealed but not yet uploaded before writers wait. */
  maxPendingBytes?: number
  uploadConcurrency?: number
  /** Budget of the on-disk read cache; 0 turns it off (a local store needs none). */
  readCacheBytes?: number
  /** Budget of opened (plaintext) chunks kept in memory. */
  memoryCacheBytes?: number
  /** Worker threads for seal/open crypto (default min(2, CPUs)); 0 keeps it on this thread. */
  cryptoThreads?: number
  /** Retry schedule of failed uploads (retry.ts). */
  backoff?: BackoffOptions
  /** How long a writer waits for room while uploads fail before it gets EIO (default 20 s, under FUSE's 60 s). */
  roomWaitMs?: number
  /** How long close() lets uploads under way finish before it leaves them to the next mount (default 1 s). */
  closeWaitMs?: number
  /** Where upload failures are reported, once per cause (default stderr, prefixed `peerstore: `). */
  log?: (line: string) => void
}

export class ChunkStore extends ReadyResource {
  readonly store: ValueStore
  /**
   * Whole-chunk plaintext buffers: opened chunks (the memory cache) and
   * FileData's write buffers. An opened chunk's buffer never leaves this
   * class (readers get copies, see read()), so it is reused once evicted.
   */
  readonly chunkBuffers: BufferPool
  /** Counters for the status line and tests. */
  stats = { uploaded: 0, uploadedBytes: 0, fetched: 0, uploadErrors: 0, spilled: 0 }

  private readonly crypto: CryptoPool
  /** What workers seal, until it is uploaded: moved to the worker and back, then reused. */
  private readonly uploadBuffers = new BufferPool(SEALED_CHUNK_BYTES, 16, false)
  private readonly readCache: ChunkReadCache | null
  private readonly memory: ChunkMemoryCache
  private readonly spool: ChunkSpool
  private readonly uploads: UploadQueue
  private readonly reader: ChunkReader
  private readonly closeWaitMs: number

  constructor(opts: ChunkStoreOptions) {
    super()
    this.store = opts.store
    const readCacheBytes = opts.readCacheBytes ?? 256 * 1024 * 1024
    this.crypto = new CryptoPool({ size: opts.cryptoThreads })
    this.closeWaitMs = opts.closeWaitMs ?? 1000
    // Enough free ones for a read-ahead window and a writer's few: in a steady
    // read or write each buffer taken is matched by one given back.
    this.chunkBuffers = new BufferPool(CHUNK_BYTES, 16, true)
    this.readCache = readCacheBytes > 0 ? new ChunkReadCache(path.join(opts.cacheDir, 'chunks'), readCacheBytes) : null
    this.memory = new ChunkMemoryCache(opts.memoryCacheBytes ?? 32 * 1024 * 1024, this.chunkBuffers)
    this.spool = new ChunkSpool(path.join(opts.cacheDir, 'spool'), this.readCache)
    this.uploads = new UploadQueue({
      store: this.store,
      spool: this.spool,
      uploadBuffers: this.uploadBuffers,
      maxPendingBytes: opts.maxPendingBytes ?? 64 * 1024 * 1024,
      uploadConcurrency: opts.uploadConcurrency ?? 16,
      backoff: opts.backoff ?? {},
      roomWaitMs: opts.roomWaitMs ?? 20_000,
      log: opts.log ?? ((line) => process.stderr.write(`peerstore: ${line}\n`)),
      stats: this.stats
    })
    this.reader = new ChunkReader({
      store: this.store,
      crypto: this.crypto,
      uploads: this.uploads,
      spool: this.spool,
      readCache: this.readCache,
      memory: this.memory,
      chunkBuffers: this.chunkBuffers,
      stats: this.stats
    })
  }

  protected override async _open(): Promise<void> {
    await this.spool.ready()
    await this.readCache?.ready()
    // Chunks a previous mount confirmed to a close() but never uploaded.
    for await (const { hex, bytes } of this.spool.leftovers()) this.uploads.enqueue(hex, bytes, true)
  }

  get pendingCount(): number {
    return this.uploads.pendingCount
  }

  get pendingByteCount(): number {
    return this.uploads.pendingByteCount
  }

  /** Of the pending bytes, those held in memory (the rest waits in the spool). */
  get pendingMemoryBytes(): number {
    return this.uploads.pendingMemoryBytes
  }

  isPending(key: Buffer): boolean {
    return this.uploads.isPending(key.toString('hex'))
  }

  /** Why uploads are failing, or null while they succeed (or none is pending). */
  get uploadFailure(): UploadFailure | null {
    return this.uploads.failure
  }

  /** The last upload error of the first failing pending chunk among `keys` (a file's), or null. */
  failureOf(keys: Iterable<Buffer | null>): string | null {
    return this.uploads.failureOf(keys)
  }

  /**
   * Encrypts one chunk (on a crypto worker), starts its upload and resolves
   * with its key (sha256 of the ciphertext). The plaintext must not change
   * until then; a SharedArrayBuffer-backed one reaches the worker without a
   * copy. With keepPlaintext (the default) the caller hands it over for good:
   * it becomes the in-memory cached copy.
   */
  async seal(
    fileId: Buffer,
    fileKey: Buffer,
    index: number,
    plaintext: Buffer,
    opts: { keepPlaintext?: boolean } = {}
  ): Promise<Buffer> {
    // Given up to the seal: on success the ciphertext occupies it; on failure it is simply dropped.
    const into = plaintext.byteLength + AEAD_OVERHEAD <= SEALED_CHUNK_BYTES ? this.uploadBuffers.take() : null
    const { ciphertext, hash } = await this.crypto.seal(plaintext, fileKey, chunkAd(fileId, index), into)
    const hex = hash.toString('hex')
    if (opts.keepPlaintext !== false) this.memory.remember(hex, plaintext)
    this.uploads.enqueue(hex, ciphertext, false, ciphertext.buffer.byteLength === SEALED_CHUNK_BYTES)
    return hash
  }

  /** Adds an already sealed chunk (from the journal) to the upload queue. */
  adopt(ciphertext: Buffer): Buffer {
    const key = sha256(ciphertext)
    this.uploads.enqueue(key.toString('hex'), ciphertext, false)
    return key
  }

  /** Resolves when writers may seal more (see UploadQueue.waitForRoom). */
  waitForRoom(): Promise<void> {
    return this.uploads.waitForRoom()
  }

  /** Resolves once every given chunk is durable in the ValueStore. */
  whenUploaded(keys: Iterable<Buffer | null>): Promise<void> {
    return this.uploads.whenUploaded(keys)
  }

  whenAllUploaded(): Promise<void> {
    return this.uploads.whenAllUploaded()
  }

  /**
   * Starts writing still-pending chunks among `keys` that are bigger than
   * `inlineLimit` to the spool, so that they survive a crash of this process.
   */
  spoolLarge(keys: Iterable<Buffer | null>, inlineLimit: number): Promise<void> {
    return this.uploads.spoolLarge(keys, inlineLimit)
  }

  /** For a journal entry about to be written (see UploadQueue.durability). */
  durability(keys: Iterable<Buffer | null>): { inline: Buffer[]; waits: Promise<void>[] } {
    return this.uploads.durability(keys)
  }

  /** The plaintext of one chunk, authenticated, as a buffer of the caller's own (see ChunkReader.open). */
  open(fileId: Buffer, fileKey: Buffer, index: number, key: Buffer): Promise<Buffer> {
    return this.reader.open(fileId, fileKey, index, key)
  }

  /**
   * Copies bytes [offset, offset + target.length) of a chunk's plaintext into
   * target; bytes past its end read as zeros (a chunk may be shorter).
   */
  read(fileId: Buffer, fileKey: Buffer, index: number, key: Buffer, target: Buffer, offset: number): Promise<void> {
    return this.reader.read(fileId, fileKey, index, key, target, offset)
  }

  /** Starts opening a chunk a sequential reader will want soon (a few at a time). */
  prefetch(fileId: Buffer, fileKey: Buffer, index: number, key: Buffer): void {
    this.reader.prefetch(fileId, fileKey, index, key)
  }

  /**
   * Stops starting and retrying uploads (what close() begins with): writers
   * no longer wait for room, so a Volume closing with the ring down can seal
   * its last data into the spool.
   */
  stop(): void {
    this.uploads.stop()
  }

  /**
   * Stops uploading and leaves what is not stored yet to the next mount:
   * bounded whatever the ring does (a moment for uploads under way, then
   * every pending chunk is in the spool, which the next mount's ready()
   * uploads). Waiters for a chunk left behind get ECLOSED. A close with the
   * ring up stores everything first: Volume.close() syncs before this.
   */
  protected override async _close(): Promise<void> {
    this.stop()
    await Promise.race([
      Promise.allSettled([...this.uploads.inFlight, ...this.reader.inFlight]),
      sleep(this.closeWaitMs)
    ])
    await this.uploads.leaveToSpool()
    await this.crypto.close()
    this.memory.clear()
  }
}
