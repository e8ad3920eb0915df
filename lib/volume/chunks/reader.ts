// The read path of chunks: where a chunk's ciphertext is taken from (a
// pending upload, this machine's node store, the read cache, the spool, or
// the ring, in that order), which checks it needs before decryption, and the
// open itself: one fetch and one decryption for all concurrent readers of a
// chunk, and a few read-ahead opens for sequential readers.

import type { CryptoError, CryptoPool } from '../../crypto/crypto-pool'
import { AEAD_OVERHEAD } from '../../crypto/aead'
import { BufferPool } from './buffer-pool'
import { CHUNK_BYTES, chunkAd, copyRange, SEALED_CHUNK_BYTES } from './bytes'
import type { ChunkMemoryCache } from './memory-cache'
import type { ChunkReadCache } from './read-cache'
import type { ChunkSpool } from './spool'
import { volumeError } from '../errors'
import type { UploadQueue } from './upload-queue'
import type { ValueStore } from '../value-store'

/**
 * Read-ahead opens running at once: the whole window of a sequential reader
 * (file-data.ts READ_AHEAD_MAX). A cold read waits on the disk more than on
 * the crypto workers: 4 at once read 340-410 MB/s, 8 read 450-485 MB/s; with
 * reused buffers (no GC storms) 8 read 475-500 and 16 read 590-700 MB/s; 32
 * overrun the 32 MiB memory cache (opened chunks are evicted before they are
 * read: 350-365 MB/s). Measured on a one-node mount, caches dropped.
 */
const MAX_PREFETCHES = 16

/** Where a chunk's ciphertext came from, which decides what checks it needs before decryption. */
interface Fetched {
  bytes: Buffer
  /**
   * This process vouches for the bytes: written by it (spool, pending upload,
   * read cache filled after a hash check) or by this machine's node store,
   * which hash-checks every value it accepts. The AEAD tag, under a file key
   * no storage node sees, authenticates them; see docs/volume.md.
   */
  local: boolean
  /** The reader holds the only reference: it may be moved to a worker. */
  owned: boolean
  /** Where a corrupt local copy lives, to drop it and fall back to the store. */
  source: 'pending' | 'own' | 'cache' | 'spool' | 'store'
  /** The bytes are in a buffer of sealedBuffers, handed back once opened. */
  pooled: boolean
}

export interface ChunkReaderOptions {
  store: ValueStore
  crypto: CryptoPool
  uploads: UploadQueue
  spool: ChunkSpool
  /** Null when the store needs none (a local store). */
  readCache: ChunkReadCache | null
  memory: ChunkMemoryCache
  /** Whole-chunk plaintext buffers, which opened chunks are decrypted into. */
  chunkBuffers: BufferPool
  /** Counters shared with ChunkStore.stats. */
  stats: { fetched: number }
}

export class ChunkReader {
  /** Own chunks' ciphertext on its way to a worker to be opened: shared with it, then reused. */
  private readonly sealedBuffers = new BufferPool(SEALED_CHUNK_BYTES, MAX_PREFETCHES + 4, true)
  /** Opens under way, by key: concurrent readers of one chunk share one fetch and one decryption. */
  private opens = new Map<string, Promise<Buffer>>()
  private prefetches = 0

  constructor(private readonly opts: ChunkReaderOptions) {}

  /** Opens under way, for close() to give them a moment. */
  get inFlight(): Iterable<Promise<Buffer>> {
    return this.opens.values()
  }

  /**
   * The plaintext of one chunk, authenticated (AEAD, bound to file and
   * index), as a buffer of the caller's own. Bytes from another machine are
   * also checked against the key (sha256); this machine's own copies are not
   * (see Fetched.local).
   */
  async open(fileId: Buffer, fileKey: Buffer, index: number, key: Buffer): Promise<Buffer> {
    return this.withOpened(fileId, fileKey, index, key, (plain) => Buffer.from(plain))
  }

  /**
   * Copies bytes [offset, offset + target.length) of a chunk's plaintext into
   * target; bytes past its end read as zeros (a chunk may be shorter).
   */
  async read(
    fileId: Buffer,
    fileKey: Buffer,
    index: number,
    key: Buffer,
    target: Buffer,
    offset: number
  ): Promise<void> {
    await this.withOpened(fileId, fileKey, index, key, (plain) => copyRange(target, plain, plain.byteLength, offset))
  }

  /** Runs `use` on the opened plaintext, which stays the memory cache's: `use` must not keep it. */
  private async withOpened<T>(
    fileId: Buffer,
    fileKey: Buffer,
    index: number,
    key: Buffer,
    use: (plain: Buffer) => T
  ): Promise<T> {
    const hex = key.toString('hex')
    const cached = this.opts.memory.get(hex)
    if (cached) return use(cached)
    this.opts.memory.pin(hex)
    try {
      return use(await this.opening(hex, key, fileKey, chunkAd(fileId, index)))
    } finally {
      this.opts.memory.unpin(hex)
    }
  }

  /** The open of a chunk under way (one fetch and one decryption for all its readers), or a new one. */
  private opening(hex: string, key: Buffer, fileKey: Buffer, ad: Buffer): Promise<Buffer> {
    let p = this.opens.get(hex)
    if (!p) {
      p = this.load(hex, key, fileKey, ad)
        .then((plaintext) => {
          this.opts.memory.remember(hex, plaintext)
          return plaintext
        })
        .finally(() => this.opens.delete(hex))
      this.opens.set(hex, p)
    }
    return p
  }

  /** Starts opening a chunk a sequential reader will want soon (a few at a time). */
  prefetch(fileId: Buffer, fileKey: Buffer, index: number, key: Buffer): void {
    const hex = key.toString('hex')
    if (this.prefetches >= MAX_PREFETCHES) return
    if (this.opts.memory.has(hex) || this.opens.has(hex)) return
    this.prefetches++
    this.opening(hex, key, fileKey, chunkAd(fileId, index))
      .catch(() => {})
      .finally(() => this.prefetches--)
  }

  /** Fetches and decrypts; a local copy that fails authentication is dropped and the store asked. */
  private async load(hex: string, key: Buffer, fileKey: Buffer, ad: Buffer): Promise<Buffer> {
    let storeOnly = false
    for (let attempt = 0; ; attempt++) {
      const fetched = await this.fetch(hex, key, storeOnly)
      const size = fetched.bytes.byteLength - AEAD_OVERHEAD
      const into = size > 0 && size <= CHUNK_BYTES ? this.opts.chunkBuffers.take(CHUNK_BYTES) : null
      let plaintext: Buffer
      try {
        plaintext = await this.opts.crypto.open(fetched.bytes, fileKey, ad, {
          transfer: fetched.owned,
          hash: fetched.local ? null : key,
          into
        })
      } catch (err) {
        if (into) this.opts.chunkBuffers.give(into)
        if (fetched.pooled) this.sealedBuffers.give(fetched.bytes)
        const code = (err as CryptoError).code
        // A dead worker took the bytes with it: fetch them again (crypto now runs here).
        if (code === 'EWORKER' && attempt < 2) continue
        if (fetched.local && !storeOnly && (code === 'EBADMSG' || code === 'EHASH')) {
          // A torn or corrupt local copy: forget it and read the chunk from the ring.
          if (fetched.source === 'cache') void this.opts.readCache?.drop(hex)
          storeOnly = true
          continue
        }
        if (code === 'EHASH') throw volumeError('EIO', `chunk ${hex} failed its hash check`)
        if (code === 'EBADMSG') throw volumeError('EIO', `chunk ${hex} does not decrypt for its file`)
        throw err
      }
      if (fetched.pooled) this.sealedBuffers.give(fetched.bytes)
      // Checked (hash and AEAD) before it enters the read cache, whose copies count as local from then on.
      if (fetched.source === 'store' && this.opts.readCache) await this.opts.readCache.add(hex, fetched.bytes)
      return plaintext
    }
  }

  private async fetch(hex: string, key: Buffer, storeOnly: boolean): Promise<Fetched> {
    if (!storeOnly) {
      const pending = this.opts.uploads.readable(hex)
      if (pending) return { bytes: pending.bytes, local: true, owned: pending.copy, source: 'pending', pooled: false }
      // A ring member's own copy: no network, and no point in a second copy in the read cache.
      const own = await this.opts.store.getLocal?.(key, (size) => this.sealedBuffers.take(size))
      if (own) {
        this.opts.stats.fetched++
        return { bytes: own, local: true, owned: false, source: 'own', pooled: true }
      }
      const cached = this.opts.readCache && (await this.opts.readCache.read(hex))
      if (cached) return { bytes: cached, local: true, owned: true, source: 'cache', pooled: false }
      const spooled = await this.opts.spool.read(hex)
      if (spooled) return { bytes: spooled, local: true, owned: true, source: 'spool', pooled: false }
    }
    let bytes: Buffer
    try {
      bytes = await this.opts.store.getImmutable(key)
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') throw volumeError('EIO', `chunk ${hex} is missing`)
      throw err
    }
    this.opts.stats.fetched++
    // Not owned: the read cache still needs the bytes after decryption.
    return { bytes, local: false, owned: false, source: 'store', pooled: false }
  }
}
