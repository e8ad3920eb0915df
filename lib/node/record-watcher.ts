// The watcher's side of push (docs/ring-node.md, "Watch"): subscribes to a
// record key at each of the k machines responsible for it (WatchService
// there) and calls its listeners with the new version whenever one of them
// stores a newer one. Subscribing at all k, not only the owner, keeps events
// coming while ownership moves: a joiner that takes the key over sends the
// write on to the old owner, now a replica, and when the owner leaves its
// successor, already subscribed, takes over.
//
// Subscriptions die with connections on the holder's side, so they are made
// again (a Watch is idempotent there): soon after any peer connects or
// disconnects or the ring around this node changes (debounced), and every
// `refreshMs` anyway, which also catches ownership moves this node hears of
// from no event. Each Watch answers with the version held, so a write made
// while a subscription was down is reported at the re-subscription.
//
// Events are hints, not data: the listener reads and verifies the record
// itself, and a lost event is caught by the caller's own slower polling.

import type { NodeRef } from '../chord'
import type { PeerNetwork } from '../net'
import {
  UnwatchRequest,
  UnwatchResponse,
  WATCH_METHODS,
  WatchEvent,
  WatchRequest,
  WatchResponse
} from './watch-messages'
import { nodeKey } from './router'
import { safetyCatch } from '../common/resource'

/** A subscription to one record key, as the ValueStore hands it out. */
export interface RecordWatch {
  /** True while at least one responsible machine holds our subscription: events can come. */
  readonly live: boolean
  close(): void
}

export type RecordListener = (version: number) => void

export interface RecordWatcherOptions {
  network: PeerNetwork
  /** The machines responsible for a key (the ring client's lookup). */
  responsible: (key: Buffer) => Promise<NodeRef[]>
  /** Subscriptions are made again this often even with no event (default 15 s). */
  refreshMs?: number
  /** Wait after a peer or ring change before subscribing again, so that a burst of changes costs one round. */
  debounceMs?: number
  timeoutMs?: number
}

interface Entry {
  key: Buffer
  hex: string
  /** The highest version heard of; listeners hear only of higher ones. */
  version: number
  listeners: Set<RecordListener>
  /** Machines a Watch was sent to: their events are taken, even one that overtakes the answer. */
  asked: Set<string>
  /** Machines that accepted it and are still connected. */
  at: Set<string>
  syncing: Promise<void> | null
  again: boolean
}

const DEFAULT_REFRESH_MS = 15_000
const DEFAULT_DEBOUNCE_MS = 300
const DEFAULT_TIMEOUT_MS = 5_000

export class RecordWatcher {
  private readonly entries = new Map<string, Entry>()
  private readonly network: PeerNetwork
  private readonly responsible: (key: Buffer) => Promise<NodeRef[]>
  private readonly refreshMs: number
  private readonly debounceMs: number
  private readonly timeoutMs: number
  private timer: NodeJS.Timeout | null = null
  private debounce: NodeJS.Timeout | null = null
  private closed = false
  readonly stats = { events: 0, subscribes: 0 }

  constructor(opts: RecordWatcherOptions) {
    this.network = opts.network
    this.responsible = opts.responsible
    this.refreshMs = opts.refreshMs ?? DEFAULT_REFRESH_MS
    this.debounceMs = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
  }

  private readonly onPeerRemove = (pk: Buffer) => {
    // Its side dropped our subscriptions with the connection.
    const hex = pk.toString('hex')
    for (const e of this.entries.values()) e.at.delete(hex)
    this.schedule()
  }

  private readonly onPeerAdd = () => this.schedule()

  /** Takes watch events and follows peers until close(). */
  start(): void {
    this.network.respond(WATCH_METHODS.WatchEvent, WatchEvent, UnwatchResponse, async (ev, peer) => {
      this.onEvent(ev, peer.publicKey.toString('hex'))
      return { ok: true }
    })
    this.network.on('peer-remove', this.onPeerRemove)
    this.network.on('peer-add', this.onPeerAdd)
  }

  /** Calls `onChange` with each newer version of the record stored at `key`, until closed. */
  watch(key: Buffer, onChange: RecordListener): RecordWatch {
    const hex = key.toString('hex')
    let entry = this.entries.get(hex)
    if (!entry) {
      entry = {
        key: Buffer.from(key),
        hex,
        version: 0,
        listeners: new Set(),
        asked: new Set(),
        at: new Set(),
        syncing: null,
        again: false
      }
      this.entries.set(hex, entry)
    }
    const e = entry
    // A function per call, so that one caller's close() never removes another's identical listener.
    const listener: RecordListener = (v) => onChange(v)
    e.listeners.add(listener)
    if (!this.closed) {
      this.sync(e)
      this.startTimer()
    }
    let open = true
    return {
      get live() {
        return open && e.at.size > 0
      },
      close: () => {
        if (!open) return
        open = false
        e.listeners.delete(listener)
        if (e.listeners.size > 0 || this.entries.get(hex) !== e) return
        this.entries.delete(hex)
        this.unsubscribe(e, [...e.asked])
        if (this.entries.size === 0) this.stopTimer()
      }
    }
  }

  /** The machines responsible for watched keys may have changed (ring events): subscribe again soon. */
  schedule(): void {
    if (this.closed || this.debounce || this.entries.size === 0) return
    this.debounce = setTimeout(() => {
      this.debounce = null
      this.syncAll()
    }, this.debounceMs)
    this.debounce.unref()
  }

  close(): void {
    this.closed = true
    this.network.unrespond(WATCH_METHODS.WatchEvent)
    this.network.off('peer-remove', this.onPeerRemove)
    this.network.off('peer-add', this.onPeerAdd)
    this.stopTimer()
    if (this.debounce) clearTimeout(this.debounce)
    this.debounce = null
    for (const e of this.entries.values()) this.unsubscribe(e, [...e.asked])
    this.entries.clear()
  }

  private startTimer(): void {
    if (this.timer || this.closed) return
    this.timer = setInterval(() => this.syncAll(), this.refreshMs)
    // A node's life is held by its connections and callers, not by this timer.
    this.timer.unref()
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  private syncAll(): void {
    for (const e of this.entries.values()) this.sync(e)
  }

  /** One subscription round per key at a time; a request during one runs another after it. */
  private sync(e: Entry): void {
    if (e.syncing) {
      e.again = true
      return
    }
    e.syncing = this.syncOnce(e)
      .catch(() => {
        // No lookup (no member reachable yet): the next peer event or refresh tries again.
      })
      .finally(() => {
        e.syncing = null
        if (e.again && !this.closed && this.entries.get(e.hex) === e) {
          e.again = false
          this.sync(e)
        }
      })
  }

  private async syncOnce(e: Entry): Promise<void> {
    const targets = await this.responsible(e.key)
    const wanted = new Set(targets.map((t) => t.address))
    await Promise.all(targets.map((t) => this.subscribe(e, t)))
    // Machines no longer responsible: their writes of this key are copies we hear of from the new ones.
    const gone = [...e.asked].filter((a) => !wanted.has(a))
    for (const a of gone) e.at.delete(a)
    this.unsubscribe(e, gone)
  }

  private async subscribe(e: Entry, target: NodeRef): Promise<void> {
    e.asked.add(target.address)
    this.stats.subscribes++
    try {
      const res = await this.network.request(
        nodeKey(target),
        WATCH_METHODS.Watch,
        { key: e.key },
        WatchRequest,
        WatchResponse,
        {
          timeoutMs: this.timeoutMs
        }
      )
      if (this.closed || this.entries.get(e.hex) !== e) return
      e.at.add(target.address)
      this.advance(e, res.version)
    } catch {
      // Unreachable, refused (ELIMIT), or a node without Watch: no events from it; the caller polls.
      e.at.delete(target.address)
    }
  }

  private unsubscribe(e: Entry, addresses: string[]): void {
    const self = this.network.publicKey.toString('hex')
    for (const a of addresses) {
      e.asked.delete(a)
      // A holder we are not connected to dropped the subscription with the connection: no dial for it.
      if (a !== self && !this.network.isConnected(Buffer.from(a, 'hex'))) continue
      this.network
        .request(Buffer.from(a, 'hex'), WATCH_METHODS.Unwatch, { key: e.key }, UnwatchRequest, UnwatchResponse, {
          timeoutMs: this.timeoutMs
        })
        .catch(safetyCatch)
    }
  }

  private onEvent(ev: WatchEvent, from: string): void {
    const e = this.entries.get(ev.key.toString('hex'))
    // Only machines we subscribed at: another peer's claim of a high version would mute real events.
    if (!e?.asked.has(from)) return
    this.stats.events++
    this.advance(e, ev.version)
  }

  private advance(e: Entry, version: number): void {
    if (version <= e.version) return
    e.version = version
    for (const listener of e.listeners) {
      try {
        listener(version)
      } catch {
        // A listener's failure is its own; the others still hear of the change.
      }
    }
  }
}
