// The holder's side of push (docs/ring-node.md, "Watch"): peers subscribe to
// record keys here, and every record write this node accepts for a watched
// key (a client's PatchFile, the owner's copy to a replica, a repair copy, a
// tombstone) sends each subscriber a WatchEvent with the key and the new
// version. A subscription lives as long as the subscriber's connection: it is
// dropped when the peer's last connection closes, and the watcher subscribes
// again when it reconnects (lib/node/record-watcher.ts). Each peer may hold a
// bounded number of them, so a peer cannot grow this table without limit.

import type { PeerNetwork } from '../net'
import {
  UnwatchRequest,
  UnwatchResponse,
  WATCH_METHODS,
  WatchEvent,
  WatchRequest,
  WatchResponse
} from './watch-messages'
import type { NodeStore } from '../storage'
import { codedError } from './errors'

/**
 * Record keys one peer may watch here. A mount watches one (its user's sync
 * beacon) at each of the k responsible machines, so this leaves room for
 * many users per machine while bounding the table at 64 peers × 256 keys.
 */
export const MAX_WATCHES_PER_PEER = 256

export interface WatchServiceOptions {
  network: PeerNetwork
  store: NodeStore
  maxPerPeer?: number
}

export class WatchService {
  /** Record key (hex) → watching peers (hex). */
  private readonly byKey = new Map<string, Set<string>>()
  /** Peer (hex) → the keys (hex) it watches here. */
  private readonly byPeer = new Map<string, Set<string>>()
  private readonly network: PeerNetwork
  private readonly store: NodeStore
  private readonly maxPerPeer: number
  readonly stats = { events: 0 }

  constructor(opts: WatchServiceOptions) {
    this.network = opts.network
    this.store = opts.store
    this.maxPerPeer = opts.maxPerPeer ?? MAX_WATCHES_PER_PEER
  }

  // The subscriber's last connection closed: it subscribes again when it is back.
  private readonly onPeerRemove = (pk: Buffer) => this.dropPeer(pk.toString('hex'))

  /** Serves Watch and Unwatch until close(). */
  start(): void {
    const net = this.network
    net.respond(WATCH_METHODS.Watch, WatchRequest, WatchResponse, (req, peer) => this.watch(req.key, peer.publicKey))
    net.respond(WATCH_METHODS.Unwatch, UnwatchRequest, UnwatchResponse, async (req, peer) => {
      this.unwatch(req.key.toString('hex'), peer.publicKey.toString('hex'))
      return { ok: true }
    })
    net.on('peer-remove', this.onPeerRemove)
  }

  close(): void {
    this.network.unrespond(WATCH_METHODS.Watch)
    this.network.unrespond(WATCH_METHODS.Unwatch)
    this.network.off('peer-remove', this.onPeerRemove)
    this.byKey.clear()
    this.byPeer.clear()
  }

  /** Watches held here, for tests and status. */
  count(peerHex?: string): number {
    if (peerHex !== undefined) return this.byPeer.get(peerHex)?.size ?? 0
    let n = 0
    for (const keys of this.byPeer.values()) n += keys.size
    return n
  }

  /** Whether the peer watches this key here (tests). */
  has(key: Buffer, peerKey: Buffer): boolean {
    return this.byKey.get(key.toString('hex'))?.has(peerKey.toString('hex')) ?? false
  }

  private async watch(key: Buffer, peerKey: Buffer): Promise<WatchResponse> {
    const keyHex = key.toString('hex')
    const peerHex = peerKey.toString('hex')
    let keys = this.byPeer.get(peerHex)
    if (!keys?.has(keyHex) && (keys?.size ?? 0) >= this.maxPerPeer) {
      throw codedError('ELIMIT', `a peer may watch at most ${this.maxPerPeer} keys on one machine`)
    }
    if (!keys) {
      keys = new Set()
      this.byPeer.set(peerHex, keys)
    }
    keys.add(keyHex)
    let peers = this.byKey.get(keyHex)
    if (!peers) {
      peers = new Set()
      this.byKey.set(keyHex, peers)
    }
    peers.add(peerHex)
    const version = await this.versionOf(key)
    // Its connection may have closed while we looked (peer-remove already ran): nothing would clear it then.
    if (!peerKey.equals(this.network.publicKey) && !this.network.isConnected(peerKey)) this.unwatch(keyHex, peerHex)
    return { version }
  }

  private unwatch(keyHex: string, peerHex: string): void {
    const keys = this.byPeer.get(peerHex)
    keys?.delete(keyHex)
    if (keys?.size === 0) this.byPeer.delete(peerHex)
    const peers = this.byKey.get(keyHex)
    peers?.delete(peerHex)
    if (peers?.size === 0) this.byKey.delete(keyHex)
  }

  private dropPeer(peerHex: string): void {
    for (const keyHex of this.byPeer.get(peerHex) ?? []) this.unwatch(keyHex, peerHex)
  }

  private async versionOf(key: Buffer): Promise<number> {
    const entry = await this.store.stat(key).catch(() => null)
    return entry?.kind === 'record' ? entry.version : 0
  }

  /** A record write was accepted here: tell whoever watches the key (FileService calls this). */
  noteStored(key: Buffer): void {
    const keyHex = key.toString('hex')
    if (!this.byKey.has(keyHex)) return
    this.versionOf(key).then((version) => {
      for (const peerHex of this.byKey.get(keyHex) ?? []) {
        this.stats.events++
        try {
          // Not connected any more: peer-remove drops the watch; the watcher subscribes again when back.
          this.network.event(Buffer.from(peerHex, 'hex'), WATCH_METHODS.WatchEvent, { key, version }, WatchEvent)
        } catch {
          // An event that cannot be encoded or sent is lost like one on a breaking connection: the watcher polls.
        }
      }
    }, noop)
  }
}

function noop(): void {}
