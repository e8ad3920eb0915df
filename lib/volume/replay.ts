// Replay after a crash: the ops of a crashed mount's journal wait, by inode,
// until the inode loads (whoever asks first); replay asks for each until none
// is left, stores everything, and only then lets the journal go. What cannot
// be applied or stored now (the store does not answer) is tried again with
// backoff while the mount works.

import type { SignedRecord } from '../crypto/record'
import type { VolumeContext } from './context'
import { volumeError } from './errors'
import { stateFromWire } from './inode'
import type { JournalOp } from './journal'
import { codeType, Inode } from './loaded-inode'
import { conflictName } from './merge'
import { backoffDelay, retry, settlesWithin, sleep } from '../common/retry'
import { runLimited } from '../common/semaphore'

/** Backoff of a replay that could not apply or store everything (the ring did not answer). */
const REPLAY_RETRY_MIN_MS = 1000
const REPLAY_RETRY_MAX_MS = 60_000
/** How long a mount waits to store what the journal replayed before it goes on (the flusher keeps trying). */
const REPLAY_FLUSH_MS = 10_000

type EntryOp = Extract<JournalOp, { o: 'e' }>

export class Replay {
  /**
   * Ops of a crashed mount's journal not applied yet, by the inode they change
   * (a directory for entry ops). loadInode applies an inode's ops when it
   * loads it, whoever asks first; replay asks for each until none is left.
   */
  private readonly pending = new Map<string, JournalOp[]>()
  /** The crashed mount's journal segments, held until every op in them is applied and stored. */
  private segments: number[] = []
  /** Aborted by stop(): the retries end (an attempt under way finishes first). */
  private readonly stopping = new AbortController()
  /** The retries in progress (close() waits for them). */
  running: Promise<void> | null = null

  constructor(private readonly ctx: VolumeContext) {}

  /** A crashed session's journal is not all applied and stored yet. */
  get waiting(): boolean {
    return this.segments.length > 0
  }

  /** Of its ops, how many wait for their inode to be readable. */
  get opsWaiting(): number {
    let ops = 0
    for (const list of this.pending.values()) ops += list.length
    return ops
  }

  pendingOf(hex: string): JournalOp[] | undefined {
    return this.pending.get(hex)
  }

  /** The inode has loaded: its ops apply now, unless another load took them first. */
  applyPending(inode: Inode, ops: JournalOp[]): void {
    if (this.pending.get(inode.hex) !== ops) return
    this.pending.delete(inode.hex)
    this.applyJournalOps(inode, ops)
  }

  stop(): void {
    this.stopping.abort()
  }

  /**
   * Reads a crashed mount's journal before any inode loads: its ops wait, by
   * inode, until loadInode applies them; its segments are held (never
   * discarded by the flusher) until every op is applied and stored.
   */
  async readJournal(): Promise<void> {
    const { segments, entries } = await this.ctx.journal.readAll()
    if (segments.length === 0) return
    this.ctx.journal.hold(segments)
    this.segments = segments
    for (const op of entries.flat()) {
      if (op.o === 'k') {
        this.ctx.chunks.adopt(Buffer.from(op.b, 'base64'))
        continue
      }
      // An open-but-unlinked file of the crashed mount: its name is not coming back.
      if (op.o === 'e' && op.n.startsWith('.fuse_hidden')) continue
      const target = op.o === 'e' ? op.d : op.id
      const list = this.pending.get(target)
      if (list) list.push(op)
      else this.pending.set(target, [op])
    }
  }

  /**
   * Applies one inode's journal ops in their order: its states and deletion
   * first (it ends in its last state), then, for a directory, its entries
   * (a rename is two entry ops, each applied to its directory).
   */
  private applyJournalOps(inode: Inode, ops: JournalOp[]): void {
    const { table } = this.ctx
    for (const op of ops) {
      if (op.o === 's') {
        const state = stateFromWire(op.w as Parameters<typeof stateFromWire>[0])
        if (inode.type === 'dir' && state.type === 'dir') state.entries = inode.state.entries
        else if (state.type === 'dir') state.entries = new Map()
        inode.state = state
        inode.data = null
        table.attachData(inode)
        table.touch(inode)
      } else if (op.o === 'x') {
        inode.deleted = true
        table.touch(inode)
      }
    }
    if (inode.type !== 'dir') return
    for (const op of ops) {
      if (op.o !== 'e') continue
      if (op.c === null) inode.entries.delete(op.n)
      else inode.entries.set(op.n, { id: Buffer.from(op.c, 'hex'), type: codeType(op.t) })
      table.touch(inode)
    }
  }

  /**
   * An inode the store has no live record of, with ops in the crashed
   * mount's journal. A state op means the journal knows it whole: it is
   * created from that (never stored, or deleted elsewhere while it changed
   * here: its flush then meets the tombstone and writes it back). Without
   * one, what the ops did is settled here, or they wait (null):
   * - a tombstone: a deletion is done; names added to a directory deleted
   *   elsewhere are linked into the root under a conflict name, so they are
   *   not lost;
   * - no record at all: a deletion is done (nothing was stored); entry ops
   *   wait, since a directory the journal changed was stored before, and a
   *   store that does not find it now (an offline member asking itself) is
   *   not the last word.
   */
  fromJournal(id: Buffer, ops: JournalOp[], rec: SignedRecord | null): Inode | null {
    const { table, root } = this.ctx
    const hex = id.toString('hex')
    let last: JournalOp | null = null
    for (const op of ops) if (op.o === 's') last = op
    if (last?.o === 's') {
      const state = stateFromWire(last.w as Parameters<typeof stateFromWire>[0])
      if (state.type === 'dir') state.entries = new Map()
      const fresh = new Inode(id, state)
      table.attachData(fresh)
      return fresh
    }
    const entryOps = ops.filter((op): op is EntryOp => op.o === 'e')
    // Deleted by the crashed mount: whatever else its ops did to it is moot.
    const deletedHere = ops.some((op) => op.o === 'x')
    if (!rec && !deletedHere && entryOps.length > 0) return null
    if (rec?.deleted && !deletedHere && entryOps.length > 0 && root && root.hex !== hex) {
      const last = new Map<string, EntryOp>()
      for (const op of entryOps) last.set(op.n, op)
      for (const op of last.values()) {
        if (op.c === null) continue
        const child = { id: Buffer.from(op.c, 'hex'), type: codeType(op.t) }
        if ([...root.entries.values()].some((e) => e.id.equals(child.id))) continue
        const name = conflictName(op.n, (n) => root.entries.has(n))
        root.entries.set(name, child)
        this.ctx.journal.append([{ o: 'e', d: root.hex, n: name, c: op.c, t: op.t }])
        table.touch(root)
        this.ctx.notice(`'${op.n}' was added to a folder deleted on another computer: kept as /${name}`)
      }
    }
    this.pending.delete(hex)
    return null
  }

  /**
   * After a crash: every inode the journal changed is loaded (which applies
   * its ops), then everything is flushed, and only then is the journal
   * discarded. What cannot be applied or stored now (the store does not
   * answer) stays in the journal and is tried again with backoff; the mount
   * works meanwhile.
   */
  async run(): Promise<void> {
    if (this.segments.length === 0) return
    this.ctx.notice(`replaying ${this.opsWaiting} changes of the last session (it did not end cleanly)…`)
    try {
      await this.once()
    } catch (err) {
      this.ctx.onError(new Error(`replay of the last session's changes: ${(err as Error).message}; trying again`))
    }
    if (this.segments.length > 0) this.schedule()
  }

  private async once(): Promise<void> {
    const { table, journal, flusher, onError } = this.ctx
    const ids = [...this.pending.keys()]
    await runLimited(ids, 8, async (hex) => {
      await table.getInode(Buffer.from(hex, 'hex')).catch(() => {})
    })
    if (this.pending.size > 0) {
      throw volumeError('EAGAIN', `${this.pending.size} changed inodes could not be read yet`)
    }
    // Bounded (main): a store that cannot take it now must not hold the mount up; the segments stay held and replay retries.
    if (!(await settlesWithin(flusher.flush(), REPLAY_FLUSH_MS, onError))) {
      throw volumeError('EAGAIN', 'the replayed changes are not stored yet')
    }
    const segments = this.segments
    this.segments = []
    journal.release(segments)
    await journal.discard(segments)
  }

  private schedule(): void {
    if (this.ctx.closed || this.running || this.stopping.signal.aborted) return
    this.running = this.retryUntilStored().finally(() => {
      this.running = null
    })
  }

  /**
   * run() has tried once: wait REPLAY_RETRY_MIN_MS, then try again with the
   * delay doubling up to REPLAY_RETRY_MAX_MS (jittered), until everything is
   * stored or close() stops it. Each failure is said once (backgroundError).
   */
  private async retryUntilStored(): Promise<void> {
    const signal = this.stopping.signal
    if (!(await sleep(backoffDelay(0, { baseMs: REPLAY_RETRY_MIN_MS }), signal, { unref: true }))) return
    try {
      await retry(() => this.once(), {
        baseMs: 2 * REPLAY_RETRY_MIN_MS,
        capMs: REPLAY_RETRY_MAX_MS,
        signal,
        unref: true,
        onRetry: (err) => this.ctx.backgroundError(err as Error)
      })
    } catch (err) {
      // Stopped by close(): this failure was said already (onRetry); the journal keeps the ops for the next mount.
      if (!signal.aborted) this.ctx.backgroundError(err as Error)
    }
  }
}
