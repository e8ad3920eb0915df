// Chunks between the Volume and the ValueStore: sealing (encrypt, hash),
// background upload with bounded memory, the write-back spool (ciphertext of
// chunks that a close() confirmed before their upload finished), the on-disk
// read cache (ciphertext only) and a small in-memory cache of opened chunks,
// because FUSE reads 128 KiB at a time out of 1 MiB chunks.

import { setMaxListeners } from 'node:events'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { type CryptoError, CryptoPool } from '../crypto/crypto-pool'
import { AEAD_OVERHEAD } from '../crypto/aead'
import { sha256 } from '../crypto/hash'
import { readFileOrNull, writeFileDurable } from './durable-file'
import { causeKey, VolumeError } from './errors'
import { BufferPool } from './buffer-pool'
import { type BackoffOptions, backoffDelay, sleep } from '../common/retry'
import type { ValueStore } from './value-store'

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

/** Why uploads are failing now: for the status line, `peerstore status` and the per-file xattr. */
export interface UploadFailure {
  /** The store's code (ENOSPC, EREPLICAS, EUNAVAILABLE, ETIMEDOUT…). */
  code: string
  message: string
  /** When uploads started failing (ms): the first failure since the last success. */
  since: number
}

/**
 * Free space the on-disk read cache always leaves on its disk, for the
 * journal, the spool and (on a member) the node store: a tenth of the disk,
 * at least 16 MiB, at most 1 GiB.
 */
export function readCacheReserve(totalBytes: number): number {
  return Math.min(1024 * 1024 * 1024, Math.max(16 * 1024 * 1024, Math.floor(totalBytes / 10)))
}

/**
 * Read-ahead opens running at once: the whole window of a sequential reader
 * (file-data.ts READ_AHEAD_MAX). A cold read waits on the disk more than on
 * the crypto workers: 4 at once read 340-410 MB/s, 8 read 450-485 MB/s; with
 * reused buffers (no GC storms) 8 read 475-500 and 16 read 590-700 MB/s; 32
 * overrun the 32 MiB memory cache (opened chunks are evicted before they are
 * read: 350-365 MB/s). Measured on a one-node mount, caches dropped.
 */
const MAX_PREFETCHES = 16

/** Longest wait between retries of an upload refused for a full store (ENOSPC). */
const FULL_RETRY_CAP_MS = 5000

/** A whole chunk's plaintext (file-data.ts DEFAULT_CHUNK_SIZE); other sizes get plain buffers. */
const CHUNK_BYTES = 1024 * 1024
/** A whole chunk sealed: with nonce and tag. */
const SEALED_CHUNK_BYTES = CHUNK_BYTES + AEAD_OVERHEAD

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
  /** ChunkStore holds the only reference: it may be moved to a worker. */
  owned: boolean
  /** Where a corrupt local copy lives, to drop it and fall back to the store. */
  source: 'pending' | 'own' | 'cache' | 'spool' | 'store'
  /** The bytes are in a buffer of ChunkStore.sealedBuffers, handed back once opened. */
  pooled: boolean
}

interface PendingUpload {
  /** Null once spilled: only in the spool then (see spill()). */
  ciphertext: Buffer | null
  size: number
  /** An upload call holds the ciphertext now: it must not be spilled (a pooled buffer would be reused under it). */
  uploading: boolean
  /** In memory of ChunkStore.uploadBuffers: reused once uploaded, so readers get a copy. */
  pooled: boolean
  /** Resolves once stored; rejects (ECLOSED) when the store closes first, the chunk left in the spool. */
  done: Promise<void>
  /** The last failure of its upload ("CODE: message"), until it succeeds. */
  error: string | null
  /** In the spool on disk (or being written there): survives SIGKILL. */
  spooled: boolean
  spooling: Promise<void> | null
}

/** Associated data binding a chunk to its file and position, so chunks cannot be swapped. */
export function chunkAd(fileId: Buffer, index: number): Buffer {
  const ad = Buffer.alloc(fileId.byteLength + 8)
  fileId.copy(ad)
  ad.writeBigUInt64BE(BigInt(index), fileId.byteLength)
  return ad
}

/** Copies chunk bytes [offset, offset + target.length) into target; bytes past `len` are zeros. */
export function copyRange(target: Buffer, src: Buffer, len: number, offset: number): void {
  const avail = Math.max(0, Math.min(len, offset + target.byteLength) - offset)
  if (avail > 0) src.copy(target, 0, offset, offset + avail)
  if (avail < target.byteLength) target.fill(0, avail)
}

export class ChunkStore {
  readonly store: ValueStore
  private readonly spoolDir: string
  private readonly readCacheDir: string
  private readonly maxPendingBytes: number
  private readonly uploadConcurrency: number
  private readonly readCacheBytes: number
  private readonly memoryCacheBytes: number

  private pending = new Map<string, PendingUpload>()
  private pendingBytes = 0
  /** Of pendingBytes, what is held in memory (the rest was spilled to the spool): what writers wait on. */
  private memoryBytes = 0
  private queue: string[] = []
  private activeUploads = 0
  private roomWaiters: (() => void)[] = []
  private uploadResolvers = new Map<string, { resolve: () => void; reject: (err: Error) => void }>()
  /** Uploads under way, for close() to give them a moment. */
  private uploading = new Set<Promise<void>>()
  /** Aborted by close(): cuts the backoff sleeps of failing uploads short. */
  private readonly stopping = new AbortController()
  private readonly backoff: BackoffOptions
  private readonly roomWaitMs: number
  private readonly closeWaitMs: number
  private readonly log: (line: string) => void
  private failure: UploadFailure | null = null
  /** Failure causes already logged since the last successful upload. */
  private loggedCauses = new Set<string>()
  /** Opens under way, by key: concurrent readers of one chunk share one fetch and one decryption. */
  private opens = new Map<string, Promise<Buffer>>()
  private prefetches = 0
  private readonly crypto: CryptoPool
  /** Own chunks' ciphertext on its way to a worker to be opened: shared with it, then reused. */
  private readonly sealedBuffers = new BufferPool(SEALED_CHUNK_BYTES, MAX_PREFETCHES + 4, true)
  /** What workers seal, until it is uploaded: moved to the worker and back, then reused. */
  private readonly uploadBuffers = new BufferPool(SEALED_CHUNK_BYTES, 16, false)
  /**
   * Whole-chunk plaintext buffers: opened chunks (the memory cache) and
   * FileData's write buffers. An opened chunk's buffer never leaves this
   * class (readers get copies, see read()), so it is reused once evicted.
   */
  readonly chunkBuffers: BufferPool
  /** Readers copying out of an opened chunk, by key: its buffer is not reused under them. */
  private pins = new Map<string, number>()
  /** Evicted buffers of pinned chunks, reused when the last reader is done. */
  private retired = new Map<string, Buffer[]>()
  private memoryCache = new Map<string, Buffer>()
  private memoryCacheSize = 0
  private readCache = new Map<string, number>()
  private readCacheSize = 0
  private closing = false
  private closed = false
  private spilling: Promise<NodeJS.ErrnoException | null> | null = null
  /** Counters for the status line and tests. */
  stats = { uploaded: 0, uploadedBytes: 0, fetched: 0, uploadErrors: 0, spilled: 0 }

  constructor(opts: ChunkStoreOptions) {
    this.store = opts.store
    this.spoolDir = path.join(opts.cacheDir, 'spool')
    this.readCacheDir = path.join(opts.cacheDir, 'chunks')
    this.maxPendingBytes = opts.maxPendingBytes ?? 64 * 1024 * 1024
    this.uploadConcurrency = opts.uploadConcurrency ?? 16
    this.readCacheBytes = opts.readCacheBytes ?? 256 * 1024 * 1024
    this.memoryCacheBytes = opts.memoryCacheBytes ?? 32 * 1024 * 1024
    this.crypto = new CryptoPool({ size: opts.cryptoThreads })
    this.backoff = opts.backoff ?? {}
    this.roomWaitMs = opts.roomWaitMs ?? 20_000
    this.closeWaitMs = opts.closeWaitMs ?? 1000
    // One abort listener per retrying upload (up to uploadConcurrency): more than the default 10.
    setMaxListeners(0, this.stopping.signal)
    this.log = opts.log ?? ((line) => process.stderr.write(`peerstore: ${line}\n`))
    // Enough free ones for a read-ahead window and a writer's few: in a steady
    // read or write each buffer taken is matched by one given back.
    this.chunkBuffers = new BufferPool(CHUNK_BYTES, 16, true)
  }

  async ready(): Promise<void> {
    await fsp.mkdir(this.spoolDir, { recursive: true, mode: 0o700 })
    if (this.readCacheBytes > 0) {
      await fsp.mkdir(this.readCacheDir, { recursive: true, mode: 0o700 })
      const names = await fsp.readdir(this.readCacheDir)
      for (const name of names) {
        const st = await fsp.stat(path.join(this.readCacheDir, name)).catch(() => null)
        if (!st) continue
        this.readCache.set(name, st.size)
        this.readCacheSize += st.size
      }
    }
    // Chunks a previous mount confirmed to a close() but never uploaded.
    for (const name of await fsp.readdir(this.spoolDir)) {
      if (!/^[0-9a-f]{64}$/.test(name)) {
        await fsp.rm(path.join(this.spoolDir, name), { force: true })
        continue
      }
      const bytes = await readFileOrNull(path.join(this.spoolDir, name))
      if (!bytes) continue
      if (sha256(bytes).toString('hex') !== name) {
        await fsp.rm(path.join(this.spoolDir, name), { force: true })
        continue
      }
      this.enqueue(name, bytes, true)
    }
  }

  get pendingCount(): number {
    return this.pending.size
  }

  get pendingByteCount(): number {
    return this.pendingBytes
  }

  /** Of the pending bytes, those held in memory (the rest waits in the spool). */
  get pendingMemoryBytes(): number {
    return this.memoryBytes
  }

  isPending(key: Buffer): boolean {
    return this.pending.has(key.toString('hex'))
  }

  /** Why uploads are failing, or null while they succeed (or none is pending). */
  get uploadFailure(): UploadFailure | null {
    return this.failure
  }

  /** The last upload error of the first failing pending chunk among `keys` (a file's), or null. */
  failureOf(keys: Iterable<Buffer | null>): string | null {
    for (const k of keys) {
      const e = k && this.pending.get(k.toString('hex'))?.error
      if (e) return e
    }
    return null
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
    if (opts.keepPlaintext !== false) this.remember(hex, plaintext)
    this.enqueue(hex, ciphertext, false, ciphertext.buffer.byteLength === SEALED_CHUNK_BYTES)
    return hash
  }

  /** Adds an already sealed chunk (from the journal) to the upload queue. */
  adopt(ciphertext: Buffer): Buffer {
    const key = sha256(ciphertext)
    this.enqueue(key.toString('hex'), ciphertext, false)
    return key
  }

  private enqueue(hex: string, ciphertext: Buffer, spooled: boolean, pooled = false): void {
    if (this.pending.has(hex)) return
    const done = new Promise<void>((resolve, reject) => this.uploadResolvers.set(hex, { resolve, reject }))
    // Awaited only by whoever waits for this chunk: a close with nobody waiting is no unhandled rejection.
    done.catch(() => {})
    const size = ciphertext.byteLength
    this.pending.set(hex, { ciphertext, size, uploading: false, pooled, done, error: null, spooled, spooling: null })
    this.pendingBytes += size
    this.memoryBytes += size
    this.queue.push(hex)
    this.pump()
  }

  /**
   * Resolves when writers may seal more: bounds memory whatever the file
   * size. A full store fails the writer at once with ENOSPC. While uploads
   * fail for another reason (the ring unreachable) pending chunks are spilled
   * to the spool on disk, so writers go on (offline) as long as the local
   * disk has room; a spool that cannot take them fails the writer after
   * roomWaitMs, before FUSE gives up on it. While closing it never waits:
   * close() spools what is left.
   */
  async waitForRoom(): Promise<void> {
    const until = Date.now() + this.roomWaitMs
    for (;;) {
      if (this.closing) return
      const failure = this.failure
      if (failure?.code === 'ENOSPC') throw new VolumeError('ENOSPC', `the store is full: ${failure.message}`)
      if (this.memoryBytes <= this.maxPendingBytes) return
      if (failure) {
        const spillError = await this.spill()
        if (this.memoryBytes <= this.maxPendingBytes) return
        if (spillError?.code === 'ENOSPC') {
          throw new VolumeError('ENOSPC', `the store is unreachable and the local disk is full: ${spillError.message}`)
        }
        if (Date.now() >= until) {
          throw new VolumeError('EIO', `uploads are failing since ${ago(failure.since)}: ${failure.message}`)
        }
      }
      // Woken by an upload that made room, or after a second to look at the failures again.
      await new Promise<void>((resolve) => {
        this.roomWaiters.push(resolve)
        setTimeout(resolve, 1000).unref()
      })
    }
  }

  /**
   * Moves the ciphertext of pending chunks that no upload holds right now to
   * the spool and drops it from memory, until memory is back under budget.
   * Resolves with the error of a spool write that failed (the chunk stays in
   * memory then), or null.
   */
  private async spill(): Promise<NodeJS.ErrnoException | null> {
    if (this.spilling) return this.spilling
    this.spilling = (async () => {
      for (const [hex, p] of this.pending) {
        if (this.memoryBytes <= this.maxPendingBytes / 2) break
        const bytes = p.ciphertext
        if (!bytes || p.uploading) continue
        try {
          if (!p.spooling && !p.spooled) p.spooling = this.writeSpool(hex, bytes, false)
          p.spooled = true
          await p.spooling
        } catch (err) {
          return err as NodeJS.ErrnoException
        }
        // An upload may have started meanwhile (it holds the bytes), or finished.
        if (p.uploading || this.pending.get(hex) !== p || p.ciphertext !== bytes) continue
        p.ciphertext = null
        this.memoryBytes -= p.size
        if (p.pooled) this.uploadBuffers.give(bytes)
        this.stats.spilled++
      }
      return null
    })().finally(() => {
      this.spilling = null
    })
    return this.spilling
  }

  private wakeRoomWaiters(): void {
    const waiters = this.roomWaiters
    this.roomWaiters = []
    for (const w of waiters) w()
  }

  private pump(): void {
    while (this.activeUploads < this.uploadConcurrency && this.queue.length > 0 && !this.closing) {
      const hex = this.queue.shift()!
      this.activeUploads++
      const run: Promise<void> = this.upload(hex)
        .catch((err) => this.log(`upload of a chunk stopped: ${(err as Error)?.stack ?? err}`))
        .finally(() => {
          this.uploading.delete(run)
          this.activeUploads--
          this.pump()
        })
      this.uploading.add(run)
    }
  }

  /**
   * Uploads one chunk, retrying with backoff (retry.ts) until it is stored
   * or the store closes; it stays pending meanwhile (readable here, and in
   * the spool if a close() confirmed it), and close() spools it for the next
   * mount.
   */
  private async upload(hex: string): Promise<void> {
    const entry = this.pending.get(hex)
    if (!entry) return
    for (let attempt = 0; ; attempt++) {
      if (this.closing) return
      entry.uploading = true
      try {
        // A spilled chunk is read back from the spool (it was written there before memory let go of it).
        const bytes = entry.ciphertext ?? (await fsp.readFile(path.join(this.spoolDir, hex)))
        // The key is sha256 of the ciphertext, computed when it was sealed (or checked when adopted).
        if (this.store.putImmutableKnown) await this.store.putImmutableKnown(Buffer.from(hex, 'hex'), bytes)
        else await this.store.putImmutable(bytes)
        entry.uploading = false
        break
      } catch (err) {
        entry.uploading = false
        this.stats.uploadErrors++
        this.noteFailure(entry, err)
        // A full disk is freed by someone at this machine, and writers get ENOSPC until a retry gets through: retry it sooner.
        const backoff = this.failure?.code === 'ENOSPC' ? { ...this.backoff, capMs: FULL_RETRY_CAP_MS } : this.backoff
        if (!(await sleep(backoffDelay(attempt, backoff), this.stopping.signal, { unref: true }))) return
      }
    }
    this.noteSuccess()
    entry.error = null
    this.stats.uploaded++
    this.stats.uploadedBytes += entry.size
    this.pending.delete(hex)
    this.pendingBytes -= entry.size
    if (entry.ciphertext) this.memoryBytes -= entry.size
    if (entry.spooling) await entry.spooling.catch(() => {})
    if (entry.spooled) await fsp.rm(path.join(this.spoolDir, hex), { force: true })
    // Stored and spooled: nothing reads the ciphertext any more (a reader of a pending chunk copies it).
    if (entry.pooled && entry.ciphertext) this.uploadBuffers.give(entry.ciphertext)
    this.uploadResolvers.get(hex)?.resolve()
    this.uploadResolvers.delete(hex)
    if (this.memoryBytes <= this.maxPendingBytes) this.wakeRoomWaiters()
  }

  /** Records why an upload failed; logs each cause once until uploads succeed again. */
  private noteFailure(entry: PendingUpload, err: unknown): void {
    const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'EIO'
    const message = String((err as Error)?.message ?? err)
    entry.error = `${code}: ${message}`
    this.failure = { code, message, since: this.failure?.since ?? Date.now() }
    const cause = causeKey(err)
    if (this.loggedCauses.has(cause) || this.closing) return
    this.loggedCauses.add(cause)
    this.log(
      `uploads failing (${this.pending.size} chunks, ${(this.pendingBytes / 1048576).toFixed(1)} MiB wait, ` +
        `kept on this machine and retried with backoff): ${code}: ${message}`
    )
    // A full store fails writers at once (waitForRoom): tell those waiting now.
    if (code === 'ENOSPC') this.wakeRoomWaiters()
  }

  private noteSuccess(): void {
    if (!this.failure) return
    if (this.loggedCauses.size > 0) this.log(`uploads resumed after failing for ${ago(this.failure.since)}`)
    this.failure = null
    this.loggedCauses.clear()
  }

  /** Resolves once every given chunk is durable in the ValueStore. */
  async whenUploaded(keys: Iterable<Buffer | null>): Promise<void> {
    const waits: Promise<void>[] = []
    for (const k of keys) {
      if (!k) continue
      const p = this.pending.get(k.toString('hex'))
      if (p) waits.push(p.done)
    }
    await Promise.all(waits)
  }

  async whenAllUploaded(): Promise<void> {
    await Promise.all([...this.pending.values()].map((p) => p.done))
  }

  /**
   * Starts writing still-pending chunks among `keys` that are bigger than
   * `inlineLimit` to the spool, so that they survive a crash of this process.
   */
  async spoolLarge(keys: Iterable<Buffer | null>, inlineLimit: number): Promise<void> {
    const writes: Promise<void>[] = []
    for (const k of keys) {
      if (!k) continue
      const hex = k.toString('hex')
      const p = this.pending.get(hex)
      if (!p || p.size <= inlineLimit) continue
      // Already there: loaded from the spool by ready(), or spilled.
      if (!p.spooling && !p.spooled && p.ciphertext) {
        // Written, not fsynced: the spool is there for a crash of this process; the
        // upload (to the durable store) follows within moments.
        p.spooling = this.writeSpool(hex, p.ciphertext, false)
        p.spooled = true
      }
      if (p.spooling) writes.push(p.spooling)
    }
    await Promise.all(writes)
  }

  /**
   * For a journal entry about to be written: the ciphertext of every pending
   * chunk among `keys` that is not in the spool (to go into the entry), and
   * the spool writes still under way (to await before the entry counts as
   * durable). Synchronous, so the caller can snapshot state in the same tick.
   */
  durability(keys: Iterable<Buffer | null>): { inline: Buffer[]; waits: Promise<void>[] } {
    const inline: Buffer[] = []
    const waits: Promise<void>[] = []
    for (const k of keys) {
      if (!k) continue
      const p = this.pending.get(k.toString('hex'))
      if (!p) continue
      if (p.spooling) waits.push(p.spooling)
      else if (!p.spooled && p.ciphertext) inline.push(p.ciphertext)
    }
    return { inline, waits }
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

  /** Runs `use` on the opened plaintext, which stays this class's: `use` must not keep it. */
  private async withOpened<T>(
    fileId: Buffer,
    fileKey: Buffer,
    index: number,
    key: Buffer,
    use: (plain: Buffer) => T
  ): Promise<T> {
    const hex = key.toString('hex')
    const cached = this.memoryCache.get(hex)
    if (cached) {
      this.memoryCache.delete(hex)
      this.memoryCache.set(hex, cached)
      return use(cached)
    }
    this.pins.set(hex, (this.pins.get(hex) ?? 0) + 1)
    try {
      return use(await this.opening(hex, key, fileKey, chunkAd(fileId, index)))
    } finally {
      this.unpin(hex)
    }
  }

  /** The open of a chunk under way (one fetch and one decryption for all its readers), or a new one. */
  private opening(hex: string, key: Buffer, fileKey: Buffer, ad: Buffer): Promise<Buffer> {
    let p = this.opens.get(hex)
    if (!p) {
      p = this.load(hex, key, fileKey, ad)
        .then((plaintext) => {
          this.remember(hex, plaintext)
          return plaintext
        })
        .finally(() => this.opens.delete(hex))
      this.opens.set(hex, p)
    }
    return p
  }

  private unpin(hex: string): void {
    const n = (this.pins.get(hex) ?? 1) - 1
    if (n > 0) {
      this.pins.set(hex, n)
      return
    }
    this.pins.delete(hex)
    for (const buf of this.retired.get(hex) ?? []) this.chunkBuffers.give(buf)
    this.retired.delete(hex)
  }

  /** A buffer evicted from the memory cache: reused at once unless a reader is copying out of it. */
  private retire(hex: string, buf: Buffer): void {
    if (!this.pins.has(hex)) {
      this.chunkBuffers.give(buf)
      return
    }
    const list = this.retired.get(hex)
    if (list) list.push(buf)
    else this.retired.set(hex, [buf])
  }

  /** Starts opening a chunk a sequential reader will want soon (a few at a time). */
  prefetch(fileId: Buffer, fileKey: Buffer, index: number, key: Buffer): void {
    const hex = key.toString('hex')
    if (this.prefetches >= MAX_PREFETCHES) return
    if (this.memoryCache.has(hex) || this.opens.has(hex)) return
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
      const into = size > 0 && size <= CHUNK_BYTES ? this.chunkBuffers.take(CHUNK_BYTES) : null
      let plaintext: Buffer
      try {
        plaintext = await this.crypto.open(fetched.bytes, fileKey, ad, {
          transfer: fetched.owned,
          hash: fetched.local ? null : key,
          into
        })
      } catch (err) {
        if (into) this.chunkBuffers.give(into)
        if (fetched.pooled) this.sealedBuffers.give(fetched.bytes)
        const code = (err as CryptoError).code
        // A dead worker took the bytes with it: fetch them again (crypto now runs here).
        if (code === 'EWORKER' && attempt < 2) continue
        if (fetched.local && !storeOnly && (code === 'EBADMSG' || code === 'EHASH')) {
          // A torn or corrupt local copy: forget it and read the chunk from the ring.
          if (fetched.source === 'cache') this.dropFromReadCache(hex)
          storeOnly = true
          continue
        }
        if (code === 'EHASH') throw new VolumeError('EIO', `chunk ${hex} failed its hash check`)
        if (code === 'EBADMSG') throw new VolumeError('EIO', `chunk ${hex} does not decrypt for its file`)
        throw err
      }
      if (fetched.pooled) this.sealedBuffers.give(fetched.bytes)
      // Checked (hash and AEAD) before it enters the read cache, whose copies count as local from then on.
      if (fetched.source === 'store' && this.readCacheBytes > 0) await this.addToReadCache(hex, fetched.bytes)
      return plaintext
    }
  }

  private async fetch(hex: string, key: Buffer, storeOnly: boolean): Promise<Fetched> {
    if (!storeOnly) {
      const p = this.pending.get(hex)
      if (p?.ciphertext) {
        // A pooled ciphertext is reused once uploaded, maybe while a worker still reads it: copy it.
        const bytes = p.pooled ? Buffer.from(p.ciphertext) : p.ciphertext
        return { bytes, local: true, owned: p.pooled, source: 'pending', pooled: false }
      }
      // A ring member's own copy: no network, and no point in a second copy in the read cache.
      const own = await this.store.getLocal?.(key, (size) => this.sealedBuffers.take(size))
      if (own) {
        this.stats.fetched++
        return { bytes: own, local: true, owned: false, source: 'own', pooled: true }
      }
      if (this.readCache.has(hex)) {
        const bytes = await readFileOrNull(path.join(this.readCacheDir, hex))
        if (bytes) return { bytes, local: true, owned: true, source: 'cache', pooled: false }
        this.dropFromReadCache(hex)
      }
      const spooled = await readFileOrNull(path.join(this.spoolDir, hex))
      if (spooled) return { bytes: spooled, local: true, owned: true, source: 'spool', pooled: false }
    }
    let bytes: Buffer
    try {
      bytes = await this.store.getImmutable(key)
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') throw new VolumeError('EIO', `chunk ${hex} is missing`)
      throw err
    }
    this.stats.fetched++
    // Not owned: the read cache still needs the bytes after decryption.
    return { bytes, local: false, owned: false, source: 'store', pooled: false }
  }

  /**
   * Keeps a checked chunk in the read cache, within its budget and within
   * the free space of its disk: it always leaves readCacheReserve() free for
   * the journal, the spool and the node store, evicting its oldest entries
   * (or not caching at all) when the disk fills.
   */
  private async addToReadCache(hex: string, bytes: Buffer): Promise<void> {
    const disk = await fsp.statfs(this.readCacheDir).catch(() => null)
    let budget = this.readCacheBytes
    if (disk) {
      const free = disk.bavail * disk.bsize
      budget = Math.min(budget, this.readCacheSize + free - readCacheReserve(disk.blocks * disk.bsize))
    }
    if (bytes.byteLength > budget) {
      await this.shrinkReadCache(Math.max(0, budget))
      return
    }
    await this.shrinkReadCache(budget - bytes.byteLength)
    try {
      // A cache needs no fsync: a torn file fails its hash check and is refetched.
      await fsp.writeFile(path.join(this.readCacheDir, hex), bytes, { mode: 0o600 })
    } catch {
      await fsp.rm(path.join(this.readCacheDir, hex), { force: true }).catch(() => {})
      return
    }
    this.readCache.set(hex, bytes.byteLength)
    this.readCacheSize += bytes.byteLength
  }

  /** Evicts the oldest read-cache entries until it holds at most `bytes`; resolves once their files are gone. */
  private async shrinkReadCache(bytes: number): Promise<void> {
    const removals: Promise<void>[] = []
    for (const [old] of this.readCache) {
      if (this.readCacheSize <= bytes) break
      removals.push(this.dropFromReadCache(old))
    }
    await Promise.all(removals)
  }

  private dropFromReadCache(hex: string): Promise<void> {
    const size = this.readCache.get(hex)
    if (size === undefined) return Promise.resolve()
    this.readCache.delete(hex)
    this.readCacheSize -= size
    return new Promise((resolve) => fs.rm(path.join(this.readCacheDir, hex), { force: true }, () => resolve()))
  }

  private remember(hex: string, plaintext: Buffer): void {
    if (plaintext.byteLength > this.memoryCacheBytes) return
    const old = this.memoryCache.get(hex)
    if (old) {
      this.memoryCacheSize -= old.byteLength
      if (old !== plaintext) this.retire(hex, old)
    }
    this.memoryCache.set(hex, plaintext)
    this.memoryCacheSize += plaintext.byteLength
    for (const [k, v] of this.memoryCache) {
      if (this.memoryCacheSize <= this.memoryCacheBytes) break
      this.memoryCache.delete(k)
      this.memoryCacheSize -= v.byteLength
      this.retire(k, v)
    }
  }

  /**
   * Writes a chunk's ciphertext to the spool. On a full disk the read cache
   * gives way (it is only a cache) and the write is tried once more.
   */
  private async writeSpool(hex: string, bytes: Buffer, durable: boolean): Promise<void> {
    const file = path.join(this.spoolDir, hex)
    const write = () =>
      durable ? writeFileDurable(file, bytes, { syncDir: false }) : fsp.writeFile(file, bytes, { mode: 0o600 })
    try {
      await write()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC' || this.readCacheSize === 0) throw err
      await this.shrinkReadCache(0)
      await write()
    }
  }

  /**
   * Stops starting and retrying uploads (what close() begins with): writers
   * no longer wait for room, so a Volume closing with the ring down can seal
   * its last data into the spool.
   */
  stop(): void {
    this.closing = true
    this.stopping.abort()
    this.wakeRoomWaiters()
  }

  /**
   * Stops uploading and leaves what is not stored yet to the next mount:
   * bounded whatever the ring does (a moment for uploads under way, then
   * every pending chunk is in the spool, which the next mount's ready()
   * uploads). Waiters for a chunk left behind get ECLOSED. A close with the
   * ring up stores everything first: Volume.close() syncs before this.
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.stop()
    await Promise.race([Promise.allSettled([...this.uploading, ...this.opens.values()]), sleep(this.closeWaitMs)])
    const left = await this.spoolRemaining()
    if (this.pending.size > 0) {
      const reason = this.failure ? ` (${this.failure.code}: ${this.failure.message})` : ''
      this.log(
        `${this.pending.size} chunks (${(this.pendingBytes / 1048576).toFixed(1)} MiB) not uploaded yet${reason}: ` +
          `kept in the spool for the next mount${left > 0 ? `; ${left} could not be written there` : ''}`
      )
    }
    for (const [hex, waiter] of this.uploadResolvers) {
      if (this.pending.has(hex)) waiter.reject(new VolumeError('ECLOSED', 'closed before the chunk was uploaded'))
    }
    this.uploadResolvers.clear()
    await this.crypto.close()
    this.memoryCache.clear()
    this.memoryCacheSize = 0
  }

  /** Every pending chunk to the spool (durably), for the next mount; resolves with how many could not be written. */
  private async spoolRemaining(): Promise<number> {
    let failed = 0
    for (const [hex, p] of this.pending) {
      try {
        if (p.spooling) await p.spooling
        else if (p.spooled || !p.ciphertext) continue
        else {
          p.spooled = true
          p.spooling = this.writeSpool(hex, p.ciphertext, true)
          await p.spooling
        }
      } catch (err) {
        failed++
        if (failed === 1) this.log(`could not keep a chunk in the spool: ${(err as Error).message}`)
      }
    }
    return failed
  }
}

/** "12 s" or "3 min" since `t`, for log and status lines. */
export function ago(t: number): string {
  const s = Math.max(0, Math.round((Date.now() - t) / 1000))
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`
}
