// The four file RPCs as one node serves them. A write goes to the key's
// owner (the first responsible machine a client reaches), which stores it,
// then copies it to the other k−1 responsible machines and acknowledges only
// when they hold it too. Every node verifies what it stores: immutable values
// by hash and their uploaders' signed claims, records by signature and
// version (lib/storage does both). Who may delete what: docs/trust-model.md.

import c from 'compact-encoding'
import {
  type ChunkClaim,
  chunkClaimEncoding,
  decodeRecord,
  encodeRecord,
  type SignedRecord,
  verifyRecord
} from '../crypto'
import type { PeerNetwork } from '../net/peer-network'
import {
  DeleteFileRequest,
  DeleteFileResponse,
  DeleteProofKind,
  FileKind,
  GetFileRequest,
  GetFileResponse,
  METHODS,
  type OkResponse,
  PatchFileRequest,
  PatchFileResponse,
  PostFileRequest,
  PostFileResponse
} from './file-messages'
import type { EntryKind, NodeStore, StoreError } from '../storage'
import {
  REPAIR_GET_METHOD,
  REPAIR_POST_METHOD,
  RepairGetRequest,
  RepairGetResponse,
  RepairKind,
  RepairPostRequest,
  RepairPostResponse
} from './repair-messages'
import { fileKindOf, type Router } from './router'
import { codedError } from '../common/errors'
import { isRecordNotStored, recordNotStored, replicate } from './replication'
import type { DeviceRevocations } from './device-revocations'

const SERVED_METHODS = [
  METHODS.GetFile,
  METHODS.PostFile,
  METHODS.PatchFile,
  METHODS.DeleteFile,
  REPAIR_POST_METHOD,
  REPAIR_GET_METHOD
]
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
  /** One line per event worth an operator's attention (an equal-version fork settled here). */
  log?: (line: string) => void
  /** False while this machine is cut off from the rest of the ring (isolation.ts): compare-and-swaps are refused. */
  acceptsRecordWrites?: () => boolean
  /** Refuses records signed by a revoked device of their user (docs/devices.md); none: no check. */
  revocations?: DeviceRevocations
}

/**
 * A PostFile as post() takes it. A write this node sends to itself arrives as
 * the caller's own object (PostFile is served directLocal), so the ring client
 * adds the SHA-256 it computed and the store skips a second hash of the bytes.
 * It rides in the request, not a side call, because the ring client knows only
 * the network and the self-write keeps that path's semantics (size limit,
 * errors marked remote, replication). A request from another machine is
 * decoded from the wire, which has no such field: its bytes are always hashed.
 */
export interface PostFileCall extends PostFileRequest {
  /** sha256(bytes), computed by this process from these very bytes; never set by a decoder. */
  knownHash?: Buffer
}

export class FileService {
  readonly network: PeerNetwork
  readonly store: NodeStore
  private readonly router: Router
  private readonly replicas: number
  private readonly timeoutMs: number
  private readonly latest: FileServiceOptions['latest']
  private readonly onRecordStored: (key: Buffer) => void
  private readonly log: (line: string) => void
  private readonly acceptsRecordWrites: () => boolean
  private readonly revocations: DeviceRevocations | undefined
  /** Aborted by close(): a replication waiting to try again gives up. */
  private readonly closed = new AbortController()

  constructor(opts: FileServiceOptions) {
    this.network = opts.network
    this.store = opts.store
    this.router = opts.router
    this.replicas = opts.replicas
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000
    this.latest = opts.latest
    this.onRecordStored = opts.onRecordStored ?? (() => {})
    this.log = opts.log ?? (() => {})
    this.acceptsRecordWrites = opts.acceptsRecordWrites ?? (() => true)
    this.revocations = opts.revocations
  }

  /**
   * A record a writer (or a repair) asks us to store: refused when a revoked
   * device of its user signed it. Bytes that do not decode are left to the
   * store, which refuses them with its own error.
   */
  private async checkSigner(bytes: Buffer): Promise<SignedRecord | null> {
    if (!this.revocations) return null
    let record: SignedRecord
    try {
      record = decodeRecord(bytes)
    } catch {
      return null
    }
    await this.revocations.check(record)
    return record
  }

  /** Serves the file and repair RPCs until close(). */
  start(): void {
    const net = this.network
    net.respond(METHODS.GetFile, GetFileRequest, GetFileResponse, (req) => this.get(req))
    // directLocal: a write this node sends to itself keeps its Buffer and its knownHash (no copy, no second hash).
    net.respond(METHODS.PostFile, PostFileRequest, PostFileResponse, (req) => this.post(req), { directLocal: true })
    net.respond(METHODS.PatchFile, PatchFileRequest, PatchFileResponse, (req) => this.patch(req))
    net.respond(METHODS.DeleteFile, DeleteFileRequest, DeleteFileResponse, (req) => this.delete(req))
    net.respond(REPAIR_POST_METHOD, RepairPostRequest, RepairPostResponse, async (req) => {
      await this.storeRepaired(req)
      return { ok: true }
    })
    net.respond(REPAIR_GET_METHOD, RepairGetRequest, RepairGetResponse, async (req) => {
      const entry = await this.store.entry(req.key)
      return { copy: entry ? await this.copyOf(req.key, entry.kind) : null }
    })
  }

  /** Stops serving (a request for these methods then gets EUNKNOWNMETHOD) and ends replication retries. */
  close(): void {
    for (const method of SERVED_METHODS) this.network.unrespond(method)
    this.closed.abort()
  }

  /**
   * What this machine holds at `key` as a repair copy: a record, or an
   * immutable value or tombstone with every owner's claim and delete;
   * null when nothing is left to send (an unsigned tombstone from before
   * claims is never sent).
   */
  async copyOf(key: Buffer, kind: EntryKind): Promise<RepairPostRequest | null> {
    if (kind === 'record') {
      const value = await this.store.get(key)
      return value?.kind === 'record' ? { key, kind: RepairKind.Record, bytes: value.bytes, version: 0 } : null
    }
    const { claims, unclaimed } = await this.store.chunkState(key)
    const value = await this.store.get(key)
    const entry = await this.store.entry(key)
    if (value?.kind === 'immutable') {
      return { key, kind: RepairKind.Immutable, bytes: value.bytes, version: entry?.version ?? 0, claims, unclaimed }
    }
    const deletes = claims.filter((cl) => cl.deleted)
    if (deletes.length === 0) return null
    return { key, kind: RepairKind.Tombstone, bytes: Buffer.alloc(0), version: entry?.version ?? 0, claims }
  }

  async get(req: GetFileRequest): Promise<GetFileResponse> {
    const entry = await this.store.stat(req.key)
    if (!entry) return { found: false, kind: FileKind.Immutable, totalSize: 0, bytes: Buffer.alloc(0) }
    const start = Math.min(req.start ?? 0, entry.size)
    const end = Math.min(req.end ?? entry.size, entry.size, start + PIECE_BYTES)
    const bytes = (await this.store.read(req.key, start, end)) ?? Buffer.alloc(0)
    return { found: true, kind: fileKindOf(entry.kind), totalSize: entry.size, bytes }
  }

  async post(req: PostFileCall): Promise<PostFileResponse> {
    if (req.kind === FileKind.Immutable) {
      if (!req.claim) {
        throw codedError('ENOCLAIM', "an immutable value is stored only with its uploader's signed claim")
      }
      if (req.claim.deleted) throw codedError('EBADSIG', 'the claim of a PostFile is a delete')
    }
    const record = req.kind === FileKind.Record ? await this.checkSigner(req.bytes) : null
    try {
      if (!req.replicate) {
        await this.storeLocally(req.key, req.kind, req.bytes, true, req.claim, req.knownHash)
        if (record) this.revocations?.noteStored(record)
        return { ok: true }
      }
      // The local write and the copies to the replicas run at once: every replica
      // verifies the value itself, so nothing is gained by waiting for ours first.
      const results = await Promise.allSettled([
        this.storeLocally(req.key, req.kind, req.bytes, true, req.claim, req.knownHash),
        this.replicate(req.key, req.kind, req.bytes, req.claim)
      ])
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failed) throw failed.reason
      if (record) this.revocations?.noteStored(record)
      return { ok: true }
    } catch (err) {
      if (isRecordNotStored(err)) return { ok: false, current: err.current }
      throw err
    }
  }

  /** Compare-and-swap at the owner, then the new record goes to the replicas. */
  async patch(req: PatchFileRequest): Promise<PatchFileResponse> {
    if (!this.acceptsRecordWrites()) {
      throw codedError(
        'EUNAVAILABLE',
        'this machine is cut off from the rest of the ring: the change waits with its writer'
      )
    }
    const record = await this.checkSigner(req.record)
    await this.catchUp(req.key, req.expectedVersion)
    try {
      await this.store.putRecord(req.key, req.record, req.expectedVersion)
      if (record) this.revocations?.noteStored(record)
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
    try {
      await this.replicate(req.key, FileKind.Record, req.record)
    } catch (err) {
      // A replica keeps another record of this version (a fork) or a newer
      // one: the write is not stored there, and the writer must merge.
      if (isRecordNotStored(err)) return { ok: false, current: err.current }
      throw err
    }
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
      await this.storeLocally(key, FileKind.Record, encodeRecord(latest)).catch((err) => {
        // Another write raced ours here; the compare-and-swap that follows judges it.
        if (!isRecordNotStored(err)) throw err
      })
    }
  }

  /**
   * Deletes on this node only; the client sends DeleteFile to every
   * responsible machine itself. A record is deleted by its owner's signed
   * tombstone, which then wins over every older version. An immutable value
   * is deleted by a signed chunk delete: it removes its signer's claim only,
   * so only a user who stored the value can take it away, and the value goes
   * when no claim is left (docs/trust-model.md). An empty or forged proof is
   * refused; a node that holds nothing at the key stores nothing.
   */
  async delete(req: DeleteFileRequest): Promise<OkResponse> {
    if (req.proof.byteLength === 0) {
      throw codedError('EPERM', "a delete needs the owner's signed proof: a record tombstone or a chunk delete")
    }
    if (req.proofKind === DeleteProofKind.ChunkDelete) {
      let del: ChunkClaim
      try {
        del = c.decode(chunkClaimEncoding, req.proof)
      } catch {
        throw codedError('EBADRECORD', 'the delete proof is not a signed chunk delete')
      }
      await this.store.deleteChunk(req.key, del)
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
    await this.revocations?.check(tombstone)
    try {
      await this.store.putRecord(req.key, req.proof)
      this.onRecordStored(req.key)
    } catch (err) {
      // A newer version (written after the delete) stays; an equal-version fork is settled by the store.
      const code = (err as { code?: string }).code
      if (code === 'EFORK') this.log(`record ${req.key.toString('hex').slice(0, 16)}: ${(err as Error).message}`)
      else if (code !== 'ESTALE') throw err
    }
    return { ok: true }
  }

  /**
   * A copy from repair or hand-off. An immutable value or tombstone comes
   * with its owners' signed claims and deletes, which are merged with ours
   * (per owner the later wins); a tombstone is accepted only as signed
   * deletes, and an unsigned copy (a value stored before claims) keeps the
   * rules from before claims. A record goes through the usual checks; a fork
   * (a different record of the same version) is settled by the store and
   * logged, and a copy older than ours is dropped.
   */
  async storeRepaired(copy: RepairPostRequest): Promise<void> {
    if (copy.kind === RepairKind.Tombstone) {
      const deletes = (copy.claims ?? []).filter((cl) => cl.deleted)
      if (deletes.length === 0) throw codedError('EPERM', 'a tombstone is accepted only as signed deletes')
      await this.store.putChunkDeletes(copy.key, copy.claims ?? [])
    } else if (copy.kind === RepairKind.Immutable) {
      const claims = copy.claims ?? []
      await this.store.putImmutable(copy.key, copy.bytes, {
        writtenAt: claims.length === 0 || copy.unclaimed ? copy.version : 0,
        claims,
        unclaimed: copy.unclaimed ?? claims.length === 0
      })
    } else {
      // Any member may send a repair copy: a revoked device is refused here too.
      const record = await this.checkSigner(copy.bytes)
      try {
        await this.storeLocally(copy.key, FileKind.Record, copy.bytes)
        if (record) this.revocations?.noteStored(record)
      } catch (err) {
        if (!isRecordNotStored(err)) throw err
      }
    }
  }

  /**
   * `fresh`: a client's write of an immutable value, with its uploader's
   * claim. A record that this store does not take as the new version (it
   * holds a newer one, or settled a fork of the same version) throws
   * ERECORDNOTSTORED (with `current`): it counts as stored only where it really is.
   * `knownHash`: see PostFileCall; only for bytes this process hashed itself.
   */
  async storeLocally(
    key: Buffer,
    kind: FileKind,
    bytes: Buffer,
    fresh = false,
    claim?: ChunkClaim,
    knownHash?: Buffer
  ): Promise<void> {
    if (kind === FileKind.Immutable) {
      await this.store.putImmutable(key, bytes, {
        writtenAt: fresh ? Date.now() : 0,
        fresh,
        claims: claim ? [claim] : [],
        knownHash
      })
      return
    }
    try {
      await this.store.putRecord(key, bytes)
      this.onRecordStored(key)
    } catch (err) {
      const e = err as StoreError
      if (e.code === 'EFORK') {
        this.log(`record ${key.toString('hex').slice(0, 16)}: equal-version conflict: ${e.message}`)
        this.onRecordStored(key)
      }
      if ((e.code === 'EFORK' || e.code === 'ESTALE') && e.current) throw recordNotStored(e.current.bytes)
      throw err
    }
  }

  /** Copies a value this node just stored to the other responsible machines (replication.ts). */
  replicate(key: Buffer, kind: FileKind, bytes: Buffer, claim?: ChunkClaim): Promise<void> {
    const { network, router, replicas, timeoutMs } = this
    return replicate({ network, router, replicas, timeoutMs, signal: this.closed.signal }, key, kind, bytes, claim)
  }
}
