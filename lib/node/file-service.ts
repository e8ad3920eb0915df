// The four file RPCs as one node serves them. A write goes to the key's
// owner (the first responsible machine a client reaches), which stores it,
// then copies it to the other k−1 responsible machines and acknowledges only
// when they hold it too. Every node verifies what it stores: immutable values
// by hash, records by signature and version (lib/storage does both).

import { decodeRecord, encodeRecord, type SignedRecord, verifyRecord } from '../crypto'
import type { EncodedRequest } from '../net/peer-network'
import {
  DeleteFileRequest,
  DeleteFileResponse,
  FileKind,
  GetFileRequest,
  GetFileResponse,
  METHODS,
  type OkResponse,
  PatchFileRequest,
  PatchFileResponse,
  type PeerNetwork,
  PostFileRequest,
  PostFileResponse
} from '../net'
import type { NodeStore } from '../storage'
import { REPAIR_POST_METHOD, RepairKind, RepairPostRequest, RepairPostResponse } from '../net/repair-messages'
import { fileKindOf, nodeKey, type Router } from './router'
import { codedError } from './errors'

/** Largest piece of a value one GetFile answers with; larger values are read in ranges. */
export const PIECE_BYTES = 1024 * 1024

export interface FileServiceOptions {
  network: PeerNetwork
  store: NodeStore
  router: Router
  replicas: number
  requestTimeoutMs?: number
  /** The newest version of a record among the other responsible machines. */
  latest?: (key: Buffer) => Promise<SignedRecord | null>
  /** A record write was accepted here (a new version is stored): push tells the key's watchers. */
  onRecordStored?: (key: Buffer) => void
  /** False while this machine is cut off from the rest of the ring (isolation.ts): compare-and-swaps are refused. */
  acceptsRecordWrites?: () => boolean
}

export class FileService {
  readonly network: PeerNetwork
  readonly store: NodeStore
  private readonly router: Router
  private readonly replicas: number
  private readonly timeoutMs: number
  private readonly latest: FileServiceOptions['latest']
  private readonly onRecordStored: (key: Buffer) => void
  private readonly acceptsRecordWrites: () => boolean

  constructor(opts: FileServiceOptions) {
    this.network = opts.network
    this.store = opts.store
    this.router = opts.router
    this.replicas = opts.replicas
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000
    this.latest = opts.latest
    this.onRecordStored = opts.onRecordStored ?? (() => {})
    this.acceptsRecordWrites = opts.acceptsRecordWrites ?? (() => true)
    const net = this.network
    net.respond(METHODS.GetFile, GetFileRequest, GetFileResponse, (req) => this.get(req))
    // directLocal: a write this node sends to itself keeps its Buffer (no copy, no second hash).
    net.respond(METHODS.PostFile, PostFileRequest, PostFileResponse, (req) => this.post(req), { directLocal: true })
    net.respond(METHODS.PatchFile, PatchFileRequest, PatchFileResponse, (req) => this.patch(req))
    net.respond(METHODS.DeleteFile, DeleteFileRequest, DeleteFileResponse, (req) => this.delete(req))
    net.respond(REPAIR_POST_METHOD, RepairPostRequest, RepairPostResponse, async (req) => {
      await this.storeRepaired(req)
      return { ok: true }
    })
  }

  async get(req: GetFileRequest): Promise<GetFileResponse> {
    const entry = await this.store.stat(req.key)
    if (!entry) return { found: false, kind: FileKind.Immutable, totalSize: 0, bytes: Buffer.alloc(0) }
    const start = Math.min(req.start ?? 0, entry.size)
    const end = Math.min(req.end ?? entry.size, entry.size, start + PIECE_BYTES)
    const bytes = (await this.store.read(req.key, start, end)) ?? Buffer.alloc(0)
    return { found: true, kind: fileKindOf(entry.kind), totalSize: entry.size, bytes }
  }

  async post(req: PostFileRequest): Promise<OkResponse> {
    if (!req.replicate) {
      await this.storeLocally(req.key, req.kind, req.bytes, true)
      return { ok: true }
    }
    // The local write and the copies to the replicas run at once: every replica
    // verifies the value itself, so nothing is gained by waiting for ours first.
    const results = await Promise.allSettled([
      this.storeLocally(req.key, req.kind, req.bytes, true),
      this.replicate(req.key, req.kind, req.bytes)
    ])
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
    return { ok: true }
  }

  /** Compare-and-swap at the owner, then the new record goes to the replicas. */
  async patch(req: PatchFileRequest): Promise<PatchFileResponse> {
    if (!this.acceptsRecordWrites()) {
      throw codedError(
        'EUNAVAILABLE',
        'this machine is cut off from the rest of the ring: the change waits with its writer'
      )
    }
    await this.catchUp(req.key, req.expectedVersion)
    try {
      await this.store.putRecord(req.key, req.record, req.expectedVersion)
    } catch (err) {
      const e = err as { code?: string; current?: { bytes?: Buffer } | SignedRecord }
      if (e.code === 'ECONFLICT') {
        const current = await this.store.getRecord(req.key)
        return { ok: false, current: current?.bytes }
      }
      throw err
    }
    // Before the copies to the replicas: a watcher's read asks the owner too and takes the newest version.
    this.onRecordStored(req.key)
    await this.replicate(req.key, FileKind.Record, req.record)
    return { ok: true }
  }

  /**
   * An owner that became owner recently (a join, a failure) may hold an older
   * version than the replicas: it takes the newest one from them before it
   * judges a compare-and-swap, so it never accepts a write based on a
   * version the ring has already moved past.
   */
  private async catchUp(key: Buffer, expectedVersion: number): Promise<void> {
    if (!this.latest) return
    const mine = await this.store.stat(key)
    if (mine && mine.version >= expectedVersion) return
    const latest = await this.latest(key).catch(() => null)
    if (latest && latest.version > (mine?.version ?? 0)) {
      await this.storeLocally(key, FileKind.Record, encodeRecord(latest))
    }
  }

  /**
   * Deletes on this node only; the client sends DeleteFile to every
   * responsible machine itself. A record is deleted by a signed tombstone,
   * which then wins over every older version. An immutable value (empty
   * proof) may be deleted by any member of the network: members already
   * decide what they keep, and contents are encrypted (docs/ring-node.md).
   * It leaves a tombstone, even where nothing was stored: repair carries it
   * to the holders that missed the delete, and it keeps older copies out.
   */
  async delete(req: DeleteFileRequest): Promise<OkResponse> {
    if (req.proof.byteLength === 0) {
      const entry = await this.store.stat(req.key)
      if (entry?.kind === 'record') throw codedError('EKIND', 'a record is deleted with a signed tombstone')
      await this.store.putTombstone(req.key, Date.now(), { fresh: true })
      return { ok: true }
    }
    let tombstone: SignedRecord
    try {
      tombstone = decodeRecord(req.proof)
    } catch {
      throw codedError('EBADRECORD', 'the delete proof is not a signed record')
    }
    if (!tombstone.deleted) throw codedError('EBADRECORD', 'the delete proof is not a tombstone')
    if (!verifyRecord(tombstone, req.key)) throw codedError('EBADSIG', 'the tombstone is not signed by the owner')
    await this.storeLocally(req.key, FileKind.Record, req.proof)
    return { ok: true }
  }

  /**
   * A copy from repair or hand-off. An immutable value written before a
   * tombstone held here is not taken back, and a tombstone deletes a value
   * written before it (the NodeStore compares the times). A client that
   * writes the value again goes through PostFile, which wins over the
   * tombstone.
   */
  async storeRepaired(copy: RepairPostRequest): Promise<void> {
    if (copy.kind === RepairKind.Tombstone) {
      await this.store.putTombstone(copy.key, copy.version)
    } else if (copy.kind === RepairKind.Immutable) {
      await this.store.putImmutable(copy.key, copy.bytes, { writtenAt: copy.version })
    } else {
      await this.storeLocally(copy.key, FileKind.Record, copy.bytes)
    }
  }

  /** `fresh`: a client's write of an immutable value, dated now, which clears a tombstone. */
  async storeLocally(key: Buffer, kind: FileKind, bytes: Buffer, fresh = false): Promise<void> {
    if (kind === FileKind.Immutable) {
      await this.store.putImmutable(key, bytes, { writtenAt: fresh ? Date.now() : 0, fresh })
      return
    }
    try {
      await this.store.putRecord(key, bytes)
      this.onRecordStored(key)
    } catch (err) {
      // A replica that already holds this version (or a newer one) has nothing to do.
      if ((err as { code?: string }).code !== 'ESTALE') throw err
    }
  }

  /**
   * Copies a value this node just stored to the other responsible machines.
   * Resolves when the first k live machines responsible for the key hold it;
   * a machine that cannot be reached is not live, so the next machine on the
   * ring takes its place (and repair catches it up if it comes back). So the
   * ack means k live copies, or every live machine of a smaller ring.
   */
  async replicate(key: Buffer, kind: FileKind, bytes: Buffer): Promise<void> {
    const self = this.network.publicKey.toString('hex')
    const done = new Set<string>([self])
    const unreachable = new Set<string>()
    let lastError: unknown = null
    // Encoded once for every replica and retry: one 1 MiB copy, not one per replica.
    let copy: EncodedRequest<PostFileRequest> | null = null
    for (let attempt = 0; attempt < 4; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 250 * attempt))
      const candidates = await this.router.responsible(key, this.replicas + unreachable.size)
      const live = candidates.filter((n) => !unreachable.has(n.address)).slice(0, this.replicas)
      const targets = live.filter((n) => !done.has(n.address))
      if (targets.length === 0) return
      copy ??= this.network.encodeRequest(METHODS.PostFile, { key, kind, bytes, replicate: false }, PostFileRequest)
      const body = copy
      const results = await Promise.allSettled(
        targets.map((n) => this.network.send(nodeKey(n), body, PostFileResponse, { timeoutMs: this.timeoutMs }))
      )
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') {
          done.add(targets[i].address)
          return
        }
        lastError = r.reason
        const code = (r.reason as { code?: string }).code
        if (code === 'EPEERUNREACHABLE' || code === 'ETIMEDOUT' || code === 'ECHANNELCLOSED') {
          unreachable.add(targets[i].address)
        }
      })
      if (results.every((r) => r.status === 'fulfilled')) return
    }
    throw codedError('EREPLICAS', `could not reach every replica: ${(lastError as Error)?.message ?? 'unknown error'}`)
  }
}
