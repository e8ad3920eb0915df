// Sealed chunks on their way to the ValueStore: background uploads with
// bounded memory. Writers wait for room (waitForRoom) instead of holding
// every chunk of a large file; while the ring is unreachable, chunks spill
// to the spool on disk so writers go on offline; failed uploads retry with
// backoff until they are stored or the store closes, and what is left then
// stays in the spool for the next mount.

import { setMaxListeners } from 'node:events'
import type { BufferPool } from './buffer-pool'
import type { ChunkSpool } from './spool'
import { volumeError } from '../errors'
import { type BackoffOptions, backoffDelay, sleep } from '../../common/retry'
import { ago, type UploadFailure, UploadFailures } from './upload-failure'
import type { ValueStore } from '../value-store'

/** Longest wait between retries of an upload refused for a full store (ENOSPC). */
const FULL_RETRY_CAP_MS = 5000

export interface UploadQueueOptions {
  store: ValueStore
  spool: ChunkSpool
  /** Where sealed whole chunks come from: a pooled ciphertext goes back there once uploaded or spilled. */
  uploadBuffers: BufferPool
  maxPendingBytes: number
  uploadConcurrency: number
  backoff: BackoffOptions
  roomWaitMs: number
  log: (line: string) => void
  /** Counters shared with ChunkStore.stats. */
  stats: { uploaded: number; uploadedBytes: number; uploadErrors: number; spilled: number }
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

export class UploadQueue {
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
  private readonly failures: UploadFailures
  private closing = false
  private spilling: Promise<NodeJS.ErrnoException | null> | null = null

  constructor(private readonly opts: UploadQueueOptions) {
    this.failures = new UploadFailures(opts.log)
    // One abort listener per retrying upload (up to uploadConcurrency): more than the default 10.
    setMaxListeners(0, this.stopping.signal)
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

  isPending(hex: string): boolean {
    return this.pending.has(hex)
  }

  /** Why uploads are failing, or null while they succeed (or none is pending). */
  get failure(): UploadFailure | null {
    return this.failures.current
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
   * The ciphertext of a pending chunk still in memory, for a reader, or null.
   * A pooled ciphertext is reused once uploaded, maybe while a worker still
   * reads it: the reader gets a copy then (`copy`, its own to move).
   */
  readable(hex: string): { bytes: Buffer; copy: boolean } | null {
    const p = this.pending.get(hex)
    if (!p?.ciphertext) return null
    return { bytes: p.pooled ? Buffer.from(p.ciphertext) : p.ciphertext, copy: p.pooled }
  }

  enqueue(hex: string, ciphertext: Buffer, spooled: boolean, pooled = false): void {
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
    const until = Date.now() + this.opts.roomWaitMs
    for (;;) {
      if (this.closing) return
      const failure = this.failures.current
      if (failure?.code === 'ENOSPC') throw volumeError('ENOSPC', `the store is full: ${failure.message}`)
      if (this.memoryBytes <= this.opts.maxPendingBytes) return
      if (failure) {
        const spillError = await this.spill()
        if (this.memoryBytes <= this.opts.maxPendingBytes) return
        if (spillError?.code === 'ENOSPC') {
          throw volumeError('ENOSPC', `the store is unreachable and the local disk is full: ${spillError.message}`)
        }
        if (Date.now() >= until) {
          throw volumeError('EIO', `uploads are failing since ${ago(failure.since)}: ${failure.message}`)
        }
      }
      // Woken by an upload that made room, or after a second to look at the failures again.
      // Not retry()/waitFor(): a wake-up is an event (an upload finished), the second
      // only a fallback, and roomWaitMs above is this wait's deadline.
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
        if (this.memoryBytes <= this.opts.maxPendingBytes / 2) break
        const bytes = p.ciphertext
        if (!bytes || p.uploading) continue
        try {
          if (!p.spooling && !p.spooled) p.spooling = this.opts.spool.write(hex, bytes, false)
          p.spooled = true
          await p.spooling
        } catch (err) {
          return err as NodeJS.ErrnoException
        }
        // An upload may have started meanwhile (it holds the bytes), or finished.
        if (p.uploading || this.pending.get(hex) !== p || p.ciphertext !== bytes) continue
        p.ciphertext = null
        this.memoryBytes -= p.size
        if (p.pooled) this.opts.uploadBuffers.give(bytes)
        this.opts.stats.spilled++
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

  /**
   * Starts uploads up to uploadConcurrency. A pump, not the common Semaphore:
   * once close() begins it starts nothing more, and `uploading` (what close()
   * waits for) holds only the uploads under way, not the queue.
   */
  private pump(): void {
    while (this.activeUploads < this.opts.uploadConcurrency && this.queue.length > 0 && !this.closing) {
      const hex = this.queue.shift()!
      this.activeUploads++
      const run: Promise<void> = this.upload(hex)
        .catch((err) => this.opts.log(`upload of a chunk stopped: ${(err as Error)?.stack ?? err}`))
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
        const bytes = entry.ciphertext ?? (await this.opts.spool.readSpilled(hex))
        // The key is sha256 of the ciphertext, computed when it was sealed (or checked when adopted).
        if (this.opts.store.putImmutableKnown) await this.opts.store.putImmutableKnown(Buffer.from(hex, 'hex'), bytes)
        else await this.opts.store.putImmutable(bytes)
        entry.uploading = false
        break
      } catch (err) {
        // A loop with sleep(), not retry(): the cap of each wait depends on the
        // failure of the moment (a full disk retries sooner).
        entry.uploading = false
        this.opts.stats.uploadErrors++
        this.noteFailure(entry, err)
        // A full disk is freed by someone at this machine, and writers get ENOSPC until a retry gets through: retry it sooner.
        const full = this.failures.current?.code === 'ENOSPC'
        const backoff = full ? { ...this.opts.backoff, capMs: FULL_RETRY_CAP_MS } : this.opts.backoff
        if (!(await sleep(backoffDelay(attempt, backoff), this.stopping.signal, { unref: true }))) return
      }
    }
    this.failures.noteSuccess()
    entry.error = null
    this.opts.stats.uploaded++
    this.opts.stats.uploadedBytes += entry.size
    this.pending.delete(hex)
    this.pendingBytes -= entry.size
    if (entry.ciphertext) this.memoryBytes -= entry.size
    if (entry.spooling) await entry.spooling.catch(() => {})
    if (entry.spooled) await this.opts.spool.remove(hex)
    // Stored and spooled: nothing reads the ciphertext any more (a reader of a pending chunk copies it).
    if (entry.pooled && entry.ciphertext) this.opts.uploadBuffers.give(entry.ciphertext)
    this.uploadResolvers.get(hex)?.resolve()
    this.uploadResolvers.delete(hex)
    if (this.memoryBytes <= this.opts.maxPendingBytes) this.wakeRoomWaiters()
  }

  /** Records why an upload failed; each cause is logged once until uploads succeed again. */
  private noteFailure(entry: PendingUpload, err: unknown): void {
    const situation = () => `${this.pending.size} chunks, ${(this.pendingBytes / 1048576).toFixed(1)} MiB wait`
    const { error, logged } = this.failures.note(err, this.closing, situation)
    entry.error = error
    // A full store fails writers at once (waitForRoom): tell those waiting now.
    if (logged && this.failures.current?.code === 'ENOSPC') this.wakeRoomWaiters()
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
        p.spooling = this.opts.spool.write(hex, p.ciphertext, false)
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

  /** Uploads under way, for close() to give them a moment. */
  get inFlight(): Iterable<Promise<void>> {
    return this.uploading
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
   * After stop(): leaves what is not stored yet to the next mount. Every
   * pending chunk goes to the spool (durably), and waiters for a chunk left
   * behind get ECLOSED.
   */
  async leaveToSpool(): Promise<void> {
    const left = await this.spoolRemaining()
    if (this.pending.size > 0) {
      const f = this.failures.current
      const reason = f ? ` (${f.code}: ${f.message})` : ''
      this.opts.log(
        `${this.pending.size} chunks (${(this.pendingBytes / 1048576).toFixed(1)} MiB) not uploaded yet${reason}: ` +
          `kept in the spool for the next mount${left > 0 ? `; ${left} could not be written there` : ''}`
      )
    }
    for (const [hex, waiter] of this.uploadResolvers) {
      if (this.pending.has(hex)) waiter.reject(volumeError('ECLOSED', 'closed before the chunk was uploaded'))
    }
    this.uploadResolvers.clear()
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
          p.spooling = this.opts.spool.write(hex, p.ciphertext, true)
          await p.spooling
        }
      } catch (err) {
        failed++
        if (failed === 1) this.opts.log(`could not keep a chunk in the spool: ${(err as Error).message}`)
      }
    }
    return failed
  }
}
