// A PeerStore node: the process-level assembly of the layers. It owns the
// transport (PeerNetwork), the Chord protocol node, the node store, the file
// RPC service, anti-entropy repair and the client that reads and writes on
// behalf of local users. `peerstore serve` runs one; `peerstore mount` runs
// one beside the volume; commands without a running node start one briefly.

import path from 'node:path'
import { type ChordConfig, ChordNode, idToBuffer, type NodeRef } from '../chord'
import { codedError } from '../common/errors'
import { ReadyResource } from '../common/resource'
import { settlesWithin } from '../common/retry'
import { keyPairFromSeed, loadOrCreateSeed } from '../crypto'
import { PeerNetwork } from '../net'
import { NodeStore } from '../storage'
import { NetChordTransport } from './chord-transport'
import { discoveryOf, formatHostPort, isNetworked, networkBootstrap, type NodeConfig } from './config'
import { NODE_VERSION, type NodeStatus } from './node-status'
import { FileService } from './file-service'
import { serveMachineStats } from './machine-stats'
import { ringHealth } from './ring-machines'
import { Repairer } from './repair'
import { RecordWatcher } from './record-watcher'
import { hasOtherMember, Isolation } from './isolation'
import { KnownPeers } from './known-peers'
import { Reachability } from './reachability'
import { RingClient } from './ring-client'
import { DeviceRevocations } from './device-revocations'
import { chordRouter, type Router } from './router'
import { WatchService } from './watch-service'

export interface RingNodeOptions {
  home: string
  config: NodeConfig
  /** Bind address of the DHT socket (default: 127.0.0.1 when every bootstrap is loopback). */
  host?: string
  port?: number
  /** Join as a client: route and read/write, but store nothing and own no range. */
  clientOnly?: boolean
  repairIntervalMs?: number
  chord?: Partial<ChordConfig>
  /** Record keys one peer may watch on this node (default MAX_WATCHES_PER_PEER). */
  maxWatchesPerPeer?: number
  /** How often record watches are made again with no event (default 15 s; tests shorten it). */
  watchRefreshMs?: number
  log?: (line: string) => void
}

export type { MountStatus, NodeStatus } from './node-status'

const DEFAULT_REPAIR_MS = 10_000
const HANDOFF_BOUND_MS = 5_000
/** Tries and spacing of merging into a peer's ring (see mergeThrough). */
const MERGE_TRIES = 5
const MERGE_RETRY_MS = 300
/** Gateways one lookup of a client-only node tries (see routeThroughGateway). */
const GATEWAY_TRIES = 2

/**
 * Events: 'peer-add' and 'peer-remove' (address), 'gateway' (client-only: a
 * peer to route through), 'members' (hasOtherMember changed: true when this
 * node is in a ring with another machine, false when the last one is gone).
 * Lifecycle: ReadyResource (a second ready() or close() returns the first
 * one's promise); destroy() is close() without the graceful leave.
 */
export class RingNode extends ReadyResource {
  readonly home: string
  readonly config: NodeConfig
  readonly clientOnly: boolean
  readonly network: PeerNetwork
  readonly chord: ChordNode
  readonly client: RingClient
  readonly store: NodeStore | null
  /** Cut off from a ring it has been part of (isolation.ts): record writes wait with their writers. */
  readonly isolation: Isolation
  /** Whether any peer is reachable; retries (remembered peers, the topic) while none is. */
  readonly reachability: Reachability
  /** Subscriptions this node makes to records held elsewhere (push to a mount). */
  readonly watcher: RecordWatcher
  /** Subscriptions other nodes hold to records stored here; null for a client-only node. */
  readonly watches: WatchService | null = null
  private readonly chordTransport: NetChordTransport
  private files: FileService | null = null
  private repair: Repairer | null = null
  private gateway: string | undefined
  private readonly log: (line: string) => void
  /** False when destroy() closes: no hand-off, no goodbye to the neighbours. */
  private graceful = true
  /** hasOtherMember as last announced by a 'members' event. */
  private announcedOtherMember = false

  constructor(opts: RingNodeOptions) {
    super()
    this.home = opts.home
    this.config = opts.config
    this.clientOnly = opts.clientOnly ?? false
    this.log = opts.log ?? (() => {})
    const keyPair = keyPairFromSeed(loadOrCreateSeed(path.join(this.home, 'node.seed')))
    this.network = new PeerNetwork({
      keyPair,
      networkKey: opts.config.networkKey,
      bootstrap: networkBootstrap(opts.config),
      host: opts.host,
      port: opts.port
    })
    const transport = new NetChordTransport(this.network)
    transport.start()
    this.chordTransport = transport
    this.chord = new ChordNode({
      rpcTimeoutMs: 5000,
      successors: Math.max(8, opts.config.replicas + 2),
      ...opts.chord,
      publicKey: keyPair.publicKey,
      transport
    })
    const router: Router = this.clientOnly
      ? { responsible: (key, k) => this.routeThroughGateway(key, k) }
      : chordRouter(this.chord)
    this.client = new RingClient(this.network, router, opts.config.replicas)
    this.store = this.clientOnly ? null : new NodeStore(path.join(this.home, 'node-store'))
    this.isolation = new Isolation(this.home, () => this.hasOtherMember, isNetworked(opts.config))
    this.reachability = new Reachability({
      network: this.network,
      known: new KnownPeers(this.home),
      networked: isNetworked(opts.config),
      log: this.log
    })
    // Waiting for the ring (lib/app/ring-join.ts) listens for this instead of polling the successor lists.
    this.chord.on('successors-changed', () => this.announceMembers())
    this.watcher = new RecordWatcher({
      network: this.network,
      responsible: (key) => this.client.responsible(key),
      refreshMs: opts.watchRefreshMs
    })
    this.watcher.start()
    if (this.store) {
      const self = this.network.publicKey.toString('hex')
      const watches = new WatchService({ network: this.network, store: this.store, maxPerPeer: opts.maxWatchesPerPeer })
      this.watches = watches
      watches.start()
      const files = new FileService({
        network: this.network,
        store: this.store,
        router,
        replicas: opts.config.replicas,
        latest: (key) => this.client.getRecord(key, { exclude: self }),
        acceptsRecordWrites: () => !this.isolation.isolated,
        revocations: new DeviceRevocations((key) => this.client.getRecord(key)),
        onRecordStored: (key) => watches.noteStored(key),
        log: this.log
      })
      this.files = files
      files.start()
      this.repair = new Repairer({
        chord: this.chord,
        network: this.network,
        store: this.store,
        files,
        client: this.client,
        replicas: opts.config.replicas,
        intervalMs: opts.repairIntervalMs ?? DEFAULT_REPAIR_MS,
        log: this.log
      })
      this.repair.syncKeys.start()
      serveMachineStats(this.network, this.store, () => this.chord.isMember)
      this.chord.beforeLeave = (handoffs) => this.handOff(handoffs.map((h) => h.successor))
      this.chord.on('range-changed', () => {
        this.repair?.trigger()
        this.watcher.schedule()
      })
      this.chord.on('successors-changed', () => {
        this.repair?.trigger()
        this.watcher.schedule()
      })
    }
    this.network.on('peer-add', (pk: Buffer) => this.onPeer(pk.toString('hex')))
    this.network.on('peer-remove', (pk: Buffer) => {
      const address = pk.toString('hex')
      this.client.noteDeparture(address)
      // A client-only node routes through its gateway: when that one goes, route through another peer.
      if (this.gateway === address) this.gateway = this.network.peers()[0]?.toString('hex')
      this.emit('peer-remove', address)
    })
  }

  get publicKey(): Buffer {
    return this.network.publicKey
  }

  /** True while another machine is among the successors of this node's virtual nodes: it is in a ring with others. */
  get hasOtherMember(): boolean {
    return hasOtherMember(this.chord)
  }

  /** Emits 'members' (with hasOtherMember) each time another machine appears among the successors or the last one goes. */
  private announceMembers(): void {
    const now = this.hasOtherMember
    if (now === this.announcedOtherMember) return
    this.announcedOtherMember = now
    this.emit('members', now)
  }

  protected override async _open(): Promise<void> {
    try {
      await this.openParts()
    } catch (err) {
      // ReadyResource runs no _close after a failed open: free what the open half-made (the store's lock, the socket) here.
      await this.shutdown(true).catch(() => {})
      throw err
    }
  }

  private async openParts(): Promise<void> {
    await this.store?.ready()
    await this.network.ready()
    this.reachability.start()
    if (!this.clientOnly) {
      // Start as a ring of one at once; peers found later are merged in (onPeer).
      await this.chord.create()
      this.repair?.start()
      this.log(`node ${this.publicKey.toString('hex').slice(0, 16)} ready`)
    }
    for (const pk of this.network.peers()) this.onPeer(pk.toString('hex'))
  }

  private onPeer(address: string): void {
    this.client.noteArrival(address)
    this.emit('peer-add', address)
    if (this.clientOnly) {
      this.gateway ??= address
      this.emit('gateway', address)
      return
    }
    if (!this.chord.isMember || this.closing) return
    if (!this.hasOtherMember) {
      this.log(`joining the ring through ${address.slice(0, 8)}`)
      this.mergeThrough(address, 1)
    } else {
      this.chord.addPeer(address)
    }
  }

  /**
   * Merges this node's ring into the one `address` is in. A first try can
   * fail for a passing reason (another merge of ours under way, the peer's
   * ring still naming our previous run's ids); waiting for the next heal
   * round (5 s) made joins take 5-6 s, so it is tried again soon, a few times,
   * while the peer is connected and no other machine is in our ring yet.
   */
  private mergeThrough(address: string, attempt: number): void {
    this.chord
      .join([address])
      .then(() => this.repair?.trigger())
      .catch((err) => {
        if (this.closing || this.hasOtherMember || attempt >= MERGE_TRIES) {
          if (!this.hasOtherMember) this.log(`join through ${address.slice(0, 8)} failed: ${err.message}`)
          return
        }
        setTimeout(() => {
          const connected = this.network.peers().some((pk) => pk.toString('hex') === address)
          if (!this.closing && !this.hasOtherMember && connected && this.chord.isMember) {
            this.mergeThrough(address, attempt + 1)
          }
        }, MERGE_RETRY_MS * attempt).unref()
      })
  }

  /**
   * Client-only: a lookup starts at the gateway, a connected peer. The first
   * peer to connect is not always a ring member: another client-only node
   * (a second mount, a second client in one process) answers every lookup
   * with nothing, and a member may be leaving or too slow to answer. Taking
   * the first peer for good, a client never read again while its gateway
   * stayed connected. Now a lookup the gateway cannot route moves the gateway
   * on to the next connected peer and is tried there (GATEWAY_TRIES in all);
   * the next lookup starts where the last one succeeded.
   */
  private async routeThroughGateway(key: Buffer, k: number): Promise<NodeRef[]> {
    for (let tries = 1; ; tries++) {
      const via = this.gateway
      // No peer: the lookup fails at once, as there is nothing to route through.
      if (!via) return this.chord.responsibleNodes(key, k, { confirm: true })
      try {
        return await this.chord.responsibleNodes(key, k, { via, confirm: true })
      } catch (err) {
        if (this.gateway === via) this.gateway = this.nextPeer(via)
        if (tries >= GATEWAY_TRIES || this.gateway === via) throw err
      }
    }
  }

  /** The connected peer after `address` in connection order, wrapping (the first when it is gone). */
  private nextPeer(address: string): string | undefined {
    const peers = this.network.peers().map((pk) => pk.toString('hex'))
    return peers[(peers.indexOf(address) + 1) % peers.length]
  }

  /** Client-only: resolves once a ring member is connected to route through. */
  async waitForGateway(timeoutMs: number): Promise<void> {
    if (!this.clientOnly || this.gateway) return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('gateway', onGateway)
        reject(codedError('EUNAVAILABLE', 'no node of this network is reachable'))
      }, timeoutMs)
      const onGateway = () => {
        clearTimeout(timer)
        resolve()
      }
      this.once('gateway', onGateway)
    })
  }

  /** Graceful leave: the keys of each range go to the successor that takes the range over. */
  private async handOff(successors: (NodeRef | null)[]): Promise<void> {
    if (!this.store || !this.files) return
    if (successors.every((s) => s === null)) return
    // Successors are already replicas; one last round makes sure they hold everything.
    // Bounded, so that Ctrl-C never hangs on a peer that vanished at the same time.
    if (this.repair) await settlesWithin(this.repair.runRound({ connectedOnly: true }), HANDOFF_BOUND_MS)
  }

  async status(): Promise<NodeStatus> {
    const v0 = this.chord.vnodes[0]
    const stats = this.store ? await this.store.stats() : { keys: 0, bytes: 0 }
    const addr = this.network.address()
    const hex = (n: NodeRef) => `${idToBuffer(n.id).toString('hex')}@${n.address}`
    const { machines, ringSize, replication } = await ringHealth(this.chord, this.network, {
      ownStore: this.store ? stats : null,
      target: this.config.replicas,
      repair: this.repair?.stats ?? null
    })
    return {
      version: NODE_VERSION,
      nodeKey: this.publicKey.toString('hex'),
      id: idToBuffer(this.chord.id).toString('hex'),
      address: addr ? formatHostPort(addr) : null,
      // In the network means connected to a peer: a restarted bootstrap takes an announce and knows nobody,
      // and remembered peers are reached with no bootstrap at all (reachability.ts).
      online: this.network.lone ? this.network.online : this.network.peers().length > 0,
      aloneSince: this.reachability.aloneSince,
      discovery: { mode: discoveryOf(this.config), bootstrap: this.network.bootstrap },
      // Tells "nobody else of the network is up" from "the DHT itself does not answer" (no internet, a wrong list).
      dhtAnswers: this.network.lone ? null : this.network.online,
      member: this.chord.isMember,
      clientOnly: this.clientOnly,
      predecessor: v0.predecessor ? hex(v0.predecessor) : null,
      successors: v0.successors.map(hex),
      virtualNodes: this.chord.vnodes.length,
      ringMachines: new Set([
        this.chord.address,
        ...this.chord.vnodes.flatMap((v) => v.successors.map((n) => n.address))
      ]).size,
      fingers: new Set(this.chord.vnodes.flatMap((v) => [...v.fingers.values()].map((f) => f.address))).size,
      peers: this.network.peers().length,
      keys: stats.keys,
      bytes: stats.bytes,
      replicas: this.config.replicas,
      underReplicated: replication.underTarget,
      repairRounds: replication.repairRounds,
      ringSize,
      machines,
      replication
    }
  }

  /** Runs one anti-entropy round now (tests and `status --repair`). */
  async repairNow(): Promise<void> {
    await this.repair?.runRound()
  }

  /** close() hands keys off, tells the neighbours and closes everything. */
  protected override _close(): Promise<void> {
    return this.shutdown(this.graceful)
  }

  /** Stops without telling anyone (tests of crash handling in one process); shares close()'s promise. */
  destroy(): Promise<void> {
    if (!this.closing) this.graceful = false
    return this.close()
  }

  private async shutdown(graceful: boolean): Promise<void> {
    const t0 = Date.now()
    if (graceful && this.chord.isMember) await this.chord.leave().catch(() => {})
    this.log(`left the ring in ${Date.now() - t0} ms`)
    this.reachability.close()
    this.watcher.close()
    this.chord.close()
    this.chordTransport.close()
    this.watches?.close()
    this.files?.close()
    await this.repair?.close()
    this.log(`repair closed ${Date.now() - t0} ms`)
    await this.network.close()
    this.log(`network closed ${Date.now() - t0} ms`)
    await this.store?.close()
    this.log('node closed')
  }
}
