// A few worker threads that seal and open chunks (XChaCha20-Poly1305 and
// sha256 on ~1 MiB), so that this thread (FUSE callbacks, LMDB, the ring)
// overlaps with crypto instead of doing ~1.2 ms of it per MiB itself.
//
// - Workers start on first use (a CLI verb that reads a directory needs none)
//   and are referenced only while they have work: an idle pool never keeps
//   the process alive, a busy one does not let it exit under a pending job.
// - Small inputs run on this thread: a message round trip costs more than
//   the crypto of a few KiB.
// - Inputs are never transferred unless the caller says it owns them; a
//   SharedArrayBuffer-backed input is shared, not copied. Outputs come back
//   by transfer.
// - A worker that dies fails its jobs with code 'EWORKER' (their transferred
//   input is gone, so the caller must fetch again); later jobs run on this
//   thread. close() ends the workers.

import os from 'node:os'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import {
  type CryptoError,
  cryptoError,
  type CryptoJob,
  type CryptoResult,
  openHere,
  ownsWholeBuffer,
  type SealResult,
  sealHere
} from './crypto-jobs'

export type { CryptoError, SealResult } from './crypto-jobs'

export interface OpenOptions {
  /** The caller owns `sealed` and never reads it again: move it to the worker instead of copying. */
  transfer?: boolean
  /** Check sha256(sealed) against this first (bytes from a store this process does not vouch for). */
  hash?: Buffer | null
  /**
   * Write the plaintext into the start of this buffer and resolve with a view
   * of it, instead of allocating a fresh one. A worker writes shared memory
   * (SharedArrayBuffer) in place; any other buffer is filled on this thread.
   */
  into?: Buffer | null
}

export interface CryptoPoolOptions {
  /** Worker threads; default CPUs − 1 within [1, 2], or PEERSTORE_CRYPTO_THREADS. 0 runs everything on this thread. */
  size?: number
  /** Inputs smaller than this run on this thread. */
  offloadMin?: number
}

interface Slot {
  worker: Worker
  jobs: Map<number, { resolve: (r: CryptoResult) => void; reject: (e: Error) => void }>
}

export class CryptoPool {
  private readonly size: number
  private readonly offloadMin: number
  private slots: Slot[] | null = null
  private nextId = 1
  private closed = false
  private broken = false

  constructor(opts: CryptoPoolOptions = {}) {
    // One core stays for this thread, which serves FUSE and the store and is
    // the bottleneck; at ~1.5 GB/s per worker, 1–2 workers outrun FUSE.
    // PEERSTORE_CRYPTO_THREADS overrides it (0: all on this thread), for measurements.
    const fromEnv = process.env.PEERSTORE_CRYPTO_THREADS
    this.size = opts.size ?? (fromEnv ? Number(fromEnv) : Math.max(1, Math.min(2, os.availableParallelism() - 1)))
    this.offloadMin = opts.offloadMin ?? 64 * 1024
  }

  /**
   * Seals into a fresh buffer, or into `into`: a buffer the caller gives up
   * (the whole of a plain ArrayBuffer, moved to the worker and back) whose
   * memory the resolved ciphertext then occupies.
   */
  async seal(plaintext: Buffer, key: Buffer, ad: Buffer, into: Buffer | null = null): Promise<SealResult> {
    const slot = this.pick(plaintext.byteLength)
    if (!slot || (into && !ownsWholeBuffer(into))) return sealHere(plaintext, key, ad, into)
    try {
      const res = await this.send(slot, { id: 0, op: 'seal', data: plaintext, key, ad, into }, false, into)
      if (!res.ok) throw cryptoError(res.code, res.message)
      return { ciphertext: asBuffer(res.out), hash: asBuffer(res.hash!) }
    } catch (err) {
      // Sealing never gives its input away: redo it here rather than fail a write (a moved `into` is gone).
      if ((err as CryptoError).code === 'EWORKER') return sealHere(plaintext, key, ad)
      throw err
    }
  }

  async open(sealed: Buffer, key: Buffer, ad: Buffer, opts: OpenOptions = {}): Promise<Buffer> {
    const into = opts.into ?? null
    const slot = this.pick(sealed.byteLength)
    // As for seal: output memory a worker cannot write is filled here.
    if (!slot || (into && !(into.buffer instanceof SharedArrayBuffer))) {
      return openHere(sealed, key, ad, opts.hash ?? null, into)
    }
    const transfer = opts.transfer === true && ownsWholeBuffer(sealed)
    const job: CryptoJob = { id: 0, op: 'open', data: sealed, key, ad, hash: opts.hash ?? null, into }
    const res = await this.send(slot, job, transfer)
    if (!res.ok) throw cryptoError(res.code, res.message)
    return into ? into.subarray(0, res.out.byteLength) : asBuffer(res.out)
  }

  /** Ends the workers; jobs still running fail with EWORKER, later ones run on this thread. */
  async close(): Promise<void> {
    this.closed = true
    const slots = this.slots ?? []
    this.slots = null
    await Promise.all(slots.map((s) => s.worker.terminate()))
  }

  private pick(bytes: number): Slot | null {
    if (bytes < this.offloadMin || this.size === 0 || this.closed || this.broken) return null
    if (!this.slots) this.slots = Array.from({ length: this.size }, () => this.spawn())
    let best = this.slots[0]
    for (const s of this.slots) if (s.jobs.size < best.jobs.size) best = s
    return best
  }

  private spawn(): Slot {
    const worker = new Worker(path.join(__dirname, 'crypto-worker.js'))
    worker.unref()
    const slot: Slot = { worker, jobs: new Map() }
    worker.on('message', (res: CryptoResult) => {
      const job = slot.jobs.get(res.id)
      if (!job) return
      slot.jobs.delete(res.id)
      if (slot.jobs.size === 0) worker.unref()
      job.resolve(res)
    })
    const fail = (err: Error) => {
      // A dead worker takes its jobs' inputs with it; from now on crypto runs here.
      this.broken = true
      for (const job of slot.jobs.values()) job.reject(cryptoError('EWORKER', `crypto worker: ${err.message}`))
      slot.jobs.clear()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)))
    return slot
  }

  private send(slot: Slot, job: CryptoJob, transfer: boolean, moveOut: Buffer | null = null): Promise<CryptoResult> {
    const id = this.nextId++
    job.id = id
    return new Promise((resolve, reject) => {
      slot.jobs.set(id, { resolve, reject })
      if (slot.jobs.size === 1) slot.worker.ref()
      try {
        try {
          const moved = transfer ? [job.data.buffer as ArrayBuffer] : []
          if (moveOut) moved.push(moveOut.buffer as ArrayBuffer)
          slot.worker.postMessage(job, moved)
        } catch (err) {
          // Some ArrayBuffers cannot move (external memory, e.g. a store's map): copy instead.
          if (!transfer) throw err
          slot.worker.postMessage(job)
        }
      } catch (err) {
        slot.jobs.delete(id)
        reject(cryptoError('EWORKER', (err as Error).message))
      }
    })
  }
}

/** A worker's output arrives as a Uint8Array; view it as a Buffer without copying. */
function asBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength)
}
