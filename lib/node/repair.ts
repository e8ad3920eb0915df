// Anti-entropy: every round, for each key range this machine owns (each
// member virtual node's (predecessor, vnode]), the owner compares the keys it
// holds with each of its k−1 replica machines (SyncKeys), pushes what they
// lack and pulls what it lacks. That one exchange covers every case:
//   - a replica crashed: the next machine in the successor list is now a
//     replica and receives the range;
//   - the owner crashed: its successor owns the range now, already holds a
//     replica, and pulls anything it missed from the others;
//   - a node joined: it owns part of its successor's range and pulls it.
// Keys a machine holds outside every range it owns are handed to the machines
// responsible for them now by a sweep after the exchanges (see docs/ring-node.md).
// Tombstones of deleted immutable values are keys like any other here: they
// are synced, pushed and handed off, and the NodeStore decides whether a
// tombstone or a value wins (lib/storage/index-entry.ts, `shouldSend`). Each
// copy carries its owners' signed claims and deletes; a holder merges them
// (per owner the later wins), so a copy can remove only what its signers
// own (docs/trust-model.md). The replica's side of the exchange, and who may
// ask it, is sync-keys-responder.ts.

import { type ChordNode, distinctMachines, idFromBuffer, idToBuffer, inHalfOpen, type NodeRef } from '../chord'
import { encodeRecord } from '../crypto'
import type { PeerNetwork } from '../net'
import {
  type KeyVersion,
  REPAIR_GET_METHOD,
  REPAIR_POST_METHOD,
  RepairGetRequest,
  RepairGetResponse,
  RepairKind,
  type RepairPostRequest,
  RepairPostRequest as RepairPostEncoding,
  RepairPostResponse,
  SYNC_BATCH,
  SYNC_KEYS_METHOD,
  SyncKeysRequest,
  SyncKeysResponse
} from './repair-messages'
import type { NodeStore, ScanItem } from '../storage'
import type { FileService } from './file-service'
import type { RingClient } from './ring-client'
import { nodeKey } from './router'
import { keyVersion, SyncKeysResponder } from './sync-keys-responder'

const SYNC_TIMEOUT_MS = 5_000
/** Stray keys handed off per round, so a round stays short after a big join. */
const SWEEP_PER_ROUND = 2_000
/**
 * Copies repair has in flight at once (each to one machine, or in the sweep
 * one key to its k machines). Small values are bound by round trips, so a few
 * in flight overlap them; each RepairPost is still one value under
 * MAX_MESSAGE_BYTES, and 8 stay well within the 32 requests a peer runs at
 * once per connection (MAX_CONCURRENT_HANDLERS_PER_PEER).
 */
const COPY_CONCURRENCY = 8

export interface RepairStats {
  rounds: number
  /** Keys found missing or stale on a replica in the last complete round. */
  underReplicated: number
  pushed: number
  pulled: number
  /** Keys moved to the machines now responsible for them and dropped here. */
  handedOff: number
  lastRoundAt: number
}

export interface RepairOptions {
  chord: ChordNode
  network: PeerNetwork
  store: NodeStore
  files: FileService
  client: RingClient
  replicas: number
  intervalMs: number
  log?: (line: string) => void
}

export class Repairer {
  readonly stats: RepairStats = { rounds: 0, underReplicated: 0, pushed: 0, pulled: 0, handedOff: 0, lastRoundAt: 0 }
  private timer: NodeJS.Timeout | null = null
  /** Keys found outside our ranges in the last sweep (hex). */
  private strays = new Set<string>()
  private running: Promise<void> | null = null
  private again = false
  private closed = false

  /** This machine as a replica that owners sync their ranges with. */
  readonly syncKeys: SyncKeysResponder

  constructor(private readonly opts: RepairOptions) {
    this.syncKeys = new SyncKeysResponder(opts)
  }

  start(): void {
    this.schedule(this.opts.intervalMs)
  }

  /** Runs a round soon, e.g. when the ring around us changed. */
  trigger(): void {
    this.schedule(100)
  }

  private schedule(ms: number): void {
    if (this.closed) return
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = null
      // A round that throws is logged and the next one still comes: nothing here may end the process.
      this.runRound()
        .catch((err) => this.opts.log?.(`repair: round failed: ${(err as Error)?.message ?? err}`))
        .finally(() => this.schedule(this.opts.intervalMs))
    }, ms)
    this.timer.unref()
  }

  /**
   * One full round; concurrent calls share it, and a call during a round
   * queues one more. `connectedOnly` skips replicas we have no connection to
   * (a leaving node has no time to dial peers that may be gone).
   */
  runRound(opts: { connectedOnly?: boolean } = {}): Promise<void> {
    if (this.running) {
      this.again = true
      return this.running
    }
    this.running = this.round(opts.connectedOnly ?? false).finally(() => {
      this.running = null
      if (this.again && !this.closed) {
        this.again = false
        this.trigger()
      }
    })
    return this.running
  }

  private async round(connectedOnly: boolean): Promise<void> {
    const { chord, replicas, network } = this.opts
    let under = 0
    const movedBefore = this.stats.pushed + this.stats.pulled + this.stats.handedOff
    await this.opts.store
      .dropExpiredTombstones()
      .catch((err) => this.opts.log?.(`repair: dropping expired tombstones: ${err.message}`))
    for (const v of chord.vnodes) {
      if (this.closed || !v.member || !v.predecessor) continue
      // The next k−1 machines after v: its successor list may hold several
      // vnodes of one machine, so read on along the ring until k machines.
      const holders = await chord.responsibleNodes(v.id, replicas).catch(() => null)
      const others = holders
        ? holders.filter((n) => n.address !== chord.address).slice(0, replicas - 1)
        : distinctMachines(
            v.successors.filter((s) => s.address !== chord.address),
            replicas - 1
          )
      const from = idToBuffer(v.predecessor.id)
      const to = idToBuffer(v.id)
      for (const replica of others) {
        if (connectedOnly && !network.isConnected(nodeKey(replica))) continue
        try {
          under += await this.syncRange(replica, from, to)
        } catch (err) {
          this.opts.log?.(`repair: ${replica.address.slice(0, 8)} unreachable: ${(err as Error).message}`)
        }
      }
    }
    if (!connectedOnly && !this.closed) await this.sweep().catch((err) => this.opts.log?.(`sweep: ${err.message}`))
    const moved = this.stats.pushed + this.stats.pulled + this.stats.handedOff - movedBefore
    if (moved > 0) {
      this.opts.log?.(`repair: ${under} keys were under target; moved ${moved} values (pushed, pulled or handed off)`)
    }
    this.stats.rounds++
    this.stats.underReplicated = under
    this.stats.lastRoundAt = Date.now()
  }

  /**
   * Hand-off of keys this machine holds but is no longer responsible for
   * (joins moved their ranges to other machines): each goes to every machine
   * responsible for it now, and the local copy is dropped once all of them
   * hold it. One lookup serves every key up to the owner it returns.
   */
  private async sweep(): Promise<void> {
    const { chord, store, replicas } = this.opts
    // A key is dropped only when it was a stray in the previous sweep too, so
    // a view of the ring that is still settling never makes us let go early.
    const strays = new Set<string>()
    const previous = this.strays
    this.strays = strays
    // Keys come in ascending order: the owner found for key f also owns every
    // key up to its id (or, when its id wrapped below f, every key after f).
    let owner: { first: bigint; id: bigint; nodes: NodeRef[] } | null = null
    let handled = 0
    const whole = Buffer.alloc(32)
    // Several keys in flight; every one still waits for all its copies before ours goes.
    const pool = new Pool(COPY_CONCURRENCY, (err) => this.opts.log?.(`sweep: ${(err as Error).message}`))
    try {
      for await (const item of store.scan(whole, whole)) {
        if (this.closed || handled >= SWEEP_PER_ROUND) break
        const id = idFromBuffer(item.key)
        if (this.ownsKey(id)) continue
        const cached = owner && (owner.id < owner.first || id <= owner.id)
        if (!owner || !cached) {
          const nodes = await chord.responsibleNodes(item.key, replicas)
          if (nodes.length === 0) break
          owner = { first: id, id: nodes[0].id, nodes }
        }
        if (owner.nodes.some((n) => n.address === chord.address)) continue
        handled++
        const nodes = owner.nodes
        const hex = item.key.toString('hex')
        strays.add(hex)
        await pool.add(() => this.handOff(item, nodes, previous.has(hex)))
      }
    } finally {
      await pool.drain()
    }
  }

  /**
   * Copies one stray to every machine responsible for it; drops ours once all
   * of them hold it, if it was a stray in the previous sweep too.
   */
  private async handOff(item: ScanItem, nodes: NodeRef[], strayBefore: boolean): Promise<void> {
    const copy = await this.opts.files.copyOf(item.key, item.kind)
    if (!copy) {
      // Nothing to hand over (an unsigned tombstone from before claims): it just goes.
      if (strayBefore) await this.opts.store.delete(item.key)
      return
    }
    const copies = await Promise.allSettled(nodes.map((n) => this.pushCopy(n, copy, SYNC_TIMEOUT_MS)))
    if (strayBefore && nodes.length > 0 && copies.every((r) => r.status === 'fulfilled')) {
      await this.opts.store.delete(item.key)
      this.stats.handedOff++
    }
  }

  /** True when key falls in (predecessor, vnode] of one of our member virtual nodes. */
  private ownsKey(id: bigint): boolean {
    for (const v of this.opts.chord.vnodes) {
      if (v.member && v.predecessor && inHalfOpen(id, v.predecessor.id, v.id)) return true
    }
    return false
  }

  /** Syncs (from, to] with one replica in batches; returns how many keys it lacked. */
  private async syncRange(replica: NodeRef, from: Buffer, to: Buffer): Promise<number> {
    let lacked = 0
    let batch: KeyVersion[] = []
    let batchFrom = from
    const flush = async (batchTo: Buffer) => {
      lacked += await this.syncBatch(replica, batchFrom, batchTo, batch)
      batch = []
      batchFrom = batchTo
    }
    for await (const item of this.opts.store.scan(from, to)) {
      const kv = await keyVersion(this.opts.store, item)
      if (!kv) continue
      batch.push(kv)
      if (batch.length >= SYNC_BATCH) await flush(item.key)
    }
    if (!batchFrom.equals(to) || batch.length > 0) await flush(to)
    return lacked
  }

  private async syncBatch(replica: NodeRef, from: Buffer, to: Buffer, keys: KeyVersion[]): Promise<number> {
    const { network, store, files, client } = this.opts
    const res = await network.request(
      nodeKey(replica),
      SYNC_KEYS_METHOD,
      { from, to, keys },
      SyncKeysRequest,
      SyncKeysResponse,
      { timeoutMs: SYNC_TIMEOUT_MS }
    )
    // A few copies in flight; the first failure (the replica went away) ends the batch.
    const pool = new Pool(COPY_CONCURRENCY)
    const push = async (kv: KeyVersion) => {
      // What we hold now, which may have changed since the scan.
      const entry = await store.entry(kv.key)
      const copy = entry && (await files.copyOf(kv.key, entry.kind))
      if (!copy) return
      await this.pushCopy(replica, copy)
      this.stats.pushed++
    }
    const pull = async (kv: KeyVersion) => {
      // From the replica that listed it: its copy carries the claims and
      // deletes a GetFile does not (and a tombstone is nothing but those).
      const res = await network
        .request(nodeKey(replica), REPAIR_GET_METHOD, { key: kv.key }, RepairGetRequest, RepairGetResponse, {
          timeoutMs: SYNC_TIMEOUT_MS
        })
        .catch(() => null)
      let copy = res?.copy ?? null
      if (!copy && kv.record) {
        // A machine predating RepairGet, or one that dropped it meanwhile: any holder's verified record.
        const value = await client.getRecord(kv.key).catch(() => null)
        if (value) copy = { key: kv.key, kind: RepairKind.Record, bytes: encodeRecord(value), version: 0 }
      }
      if (!copy?.key.equals(kv.key)) return
      await files.storeRepaired(copy)
      this.stats.pulled++
    }
    for (const i of res.missing) {
      const kv = keys[i]
      if (kv) await pool.add(() => push(kv))
    }
    for (const kv of res.extra) await pool.add(() => pull(kv))
    await pool.drain()
    return res.missing.length
  }

  /** Sends one copy to a machine (RepairPost, not a client write). */
  private pushCopy(target: NodeRef, copy: RepairPostRequest, timeoutMs?: number): Promise<unknown> {
    return this.opts.network.request(
      nodeKey(target),
      REPAIR_POST_METHOD,
      copy,
      RepairPostEncoding,
      RepairPostResponse,
      {
        timeoutMs
      }
    )
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.running?.catch(() => {})
  }
}

/**
 * Runs at most `limit` tasks at once: add() waits for a free slot, drain()
 * for all. With `onError`, a task's failure is reported and the others go
 * on; without, the first failure is thrown by the next add() or drain(),
 * once the tasks in flight have settled.
 */
class Pool {
  private readonly running = new Set<Promise<void>>()
  private failure: { err: unknown } | null = null

  constructor(
    private readonly limit: number,
    private readonly onError?: (err: unknown) => void
  ) {}

  async add(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.limit) await Promise.race(this.running)
    if (this.failure) await this.drain()
    const p: Promise<void> = task()
      .catch((err) => {
        if (this.onError) this.onError(err)
        else this.failure ??= { err }
      })
      .finally(() => this.running.delete(p))
    this.running.add(p)
  }

  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running)
    if (this.failure) throw this.failure.err
  }
}
