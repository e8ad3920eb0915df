// The store's one write path: a write transaction acknowledged only once its
// commit is on disk, a failed commit turned into ENOSPC or EIO, and new
// values refused while the disk under the store is full.

import fs from 'node:fs'
import type { RootDatabase } from 'lmdb'
import { StoreError } from './errors'

/** Outcome of a write transaction body; errors are returned, not thrown, so one
 * caller's refusal never aborts other writes batched into the same transaction. */
export type TxnOutcome = { ok: true; changed: boolean } | { ok: false; error: StoreError }

export interface WriteOptions {
  /** The write removes something: once it changed the store, writes are tried again on a full disk. */
  frees?: boolean
}

export const FREES: WriteOptions = { frees: true }

/**
 * A failed commit with less free space than this under the store is a full
 * disk (LMDB reports it as EIO): a few of the largest values, so that a write
 * that needs more than what is left counts too.
 */
const DISK_FULL_BYTES = 16 * 1024 * 1024

export class DurableWrites {
  /** Why the last commit failed for a full disk; null while there is room. */
  private full: string | null = null
  /** A commit failed since the store was opened (close() cannot wait for lmdb-js then). */
  commitFailed = false

  constructor(private readonly dir: string) {}

  /** Runs `body` in a write transaction and resolves once the commit is on disk. */
  async write(root: RootDatabase, body: () => TxnOutcome, opts: WriteOptions = {}): Promise<boolean> {
    let outcome: TxnOutcome
    try {
      outcome = await root.transaction(body)
      // Acknowledge only what is durable. `flushed` covers every commit so far,
      // ours included, and waiting even when nothing changed means an
      // idempotent retry never acks a concurrent write that is not yet synced.
      await root.flushed
    } catch (err) {
      // lmdb-js also rejects the promise of the batch the transaction ran in,
      // which no caller holds: `committed` still points at it here.
      root.committed.then(undefined, () => {})
      throw await this.commitFailure(err)
    }
    if (!outcome.ok) throw outcome.error
    // A delete made room inside LMDB's file, which statfs does not show: try writes again.
    if (opts.frees && outcome.changed) this.full = null
    return outcome.changed
  }

  /**
   * After a commit failed for a full disk, a write that adds a value is
   * refused without reaching LMDB until the disk has room again: each
   * attempt would fail the same way, after LMDB has written what it could
   * (and printed its own errors). Deletes still go through: they make room.
   */
  async refuseWhileFull(size: number): Promise<void> {
    if (this.full === null) return
    const free = await this.freeBytes()
    if (free !== null && free < DISK_FULL_BYTES + size) {
      throw new StoreError('ENOSPC', `the disk under ${this.dir} is full (${free} bytes free): ${this.full}`)
    }
    this.full = null
  }

  private freeBytes(): Promise<number | null> {
    return fs.promises
      .statfs(this.dir)
      .then((s) => s.bavail * s.bsize)
      .catch(() => null)
  }

  /**
   * A commit LMDB could not write. lmdb-js rejects the transaction with
   * "Commit failed" and keeps the cause in a second promise (`commitError`)
   * that nobody else awaits: left alone, it ends the process as an unhandled
   * rejection. A full disk shows as EIO from the write thread, so the free
   * space decides: ENOSPC when (almost) none is left. The transaction is
   * rolled back; every earlier commit stays readable, and writes work again
   * once space is freed (test/storage/disk-full.test.ts).
   */
  private async commitFailure(err: unknown): Promise<unknown> {
    if (err instanceof StoreError) return err
    const pending = (err as { commitError?: Promise<unknown> })?.commitError
    if (!pending && !/commit failed/i.test(String(err))) return err
    this.commitFailed = true
    const cause = pending
      ? await pending.then(
          () => null,
          (e: unknown) => e
        )
      : null
    const free = await this.freeBytes()
    const why = (cause as Error | null)?.message ?? (err as Error)?.message ?? String(err)
    if (free !== null && free < DISK_FULL_BYTES) {
      this.full = why
      return new StoreError('ENOSPC', `the disk under ${this.dir} is full (${free} bytes free): ${why}`)
    }
    return new StoreError('EIO', `the store could not commit a write: ${why}`)
  }
}
