// Reads and writes values in the ring on behalf of a user: finds the
// responsible machines, sends writes to the first that answers (it
// coordinates replication), reads from the first that holds the value and
// verifies what it gets, falling back to the next replica on a miss, an
// error or a value that fails verification.

import c from 'compact-encoding'
import {
  type ChunkClaim,
  chunkClaimEncoding,
  createChunkClaim,
  createChunkDelete,
  decodeRecord,
  encodeRecord,
  type KeyPair,
  type SignedRecord,
  sha256,
  verifyRecord
} from '../crypto'
import {
  DeleteFileRequest,
  DeleteFileResponse,
  DeleteProofKind,
  FileKind,
  GetFileRequest,
  GetFileResponse,
  METHODS,
  PatchFileRequest,
  PatchFileResponse,
  PostFileRequest,
  PostFileResponse
} from './file-messages'
import type { Encoding, PeerNetwork } from '../net'
import type { NodeRef } from '../chord'
import { nodeKey, type Router } from './router'
import { UNSURE } from '../common/errors'
import { codedError } from './errors'
import type { PostFileCall } from './file-service'

export interface RingValue {
  kind: FileKind
  bytes: Buffer
}

/** What a chunk delete did: machines that took it, and those that refused it (not an owner there). */
export interface ChunkDeleteResult {
  done: number
  refused: Error[]
}

/** How long a machine that failed to answer is tried last. */
const SUSPECT_MS = 15_000
const LOOKUP_ATTEMPTS = 4
/** Machines past the k responsible ones a read also asks. */
const READ_BEYOND = 5
/** Extra looks before a value nobody holds is reported absent. */
const MISS_RETRIES = 2

export class RingClient {
  /** Machines that recently timed out or were unreachable, with when they did. */
  private readonly suspects = new Map<string, number>()

  constructor(
    private readonly network: PeerNetwork,
    private readonly router: Router,
    private readonly replicas: number,
    private readonly timeoutMs = 10_000
  ) {}

  /** The machines to try for a key: owner first, machines that just failed us last. */
  async responsible(key: Buffer, count = this.replicas): Promise<NodeRef[]> {
    const targets = await this.lookup(key, count)
    const now = Date.now()
    const suspect = (n: NodeRef) => (this.suspects.get(n.address) ?? 0) > now - SUSPECT_MS
    return [...targets.filter((n) => !suspect(n)), ...targets.filter(suspect)]
  }

  /** A lookup that fails right after a crash is retried while the ring routes around it. */
  private async lookup(key: Buffer, count: number): Promise<NodeRef[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.router.responsible(key, count)
      } catch (err) {
        if (attempt >= LOOKUP_ATTEMPTS) throw err
        await new Promise((r) => setTimeout(r, 500 * attempt))
      }
    }
  }

  /** A machine whose connection closed is tried last for a while (fed by the node's peer events). */
  noteDeparture(address: string): void {
    this.suspects.set(address, Date.now())
  }

  noteArrival(address: string): void {
    this.suspects.delete(address)
  }

  private noteFailure(target: NodeRef, err: unknown): void {
    const code = (err as { code?: string }).code
    if (code === 'ETIMEDOUT' || code === 'EPEERUNREACHABLE' || code === 'ECHANNELCLOSED') {
      this.suspects.set(target.address, Date.now())
    }
  }

  /**
   * A whole value, verified; null when no machine that should hold it does.
   * Beyond the k responsible machines it also asks the next few: right after
   * joins, new machines own a key before repair has moved it to them, and the
   * copies are still on the machines after them.
   */
  async get(key: Buffer): Promise<RingValue | null> {
    for (let attempt = 0; ; attempt++) {
      // Nobody answered with it: during joins, hand-offs and right after a
      // crash a value can be out of reach for a moment (the holder is being
      // routed around), so look again before reporting it absent or failing.
      let value: RingValue | null = null
      try {
        value = await this.getOnce(key)
      } catch (err) {
        if (attempt >= MISS_RETRIES) throw err
      }
      if (value || attempt >= MISS_RETRIES) return value
      await new Promise((r) => setTimeout(r, 500 * (attempt + 1)))
    }
  }

  private async getOnce(key: Buffer): Promise<RingValue | null> {
    const targets = await this.responsible(key, this.replicas + READ_BEYOND)
    let lastError: unknown = null
    for (const target of targets) {
      try {
        const value = await this.fetchFrom(target, key)
        if (!value) continue
        if (this.verifies(key, value)) return value
        lastError = codedError('EBADMSG', `a replica returned a corrupt value for ${key.toString('hex')}`)
      } catch (err) {
        this.noteFailure(target, err)
        lastError = err
      }
    }
    if (lastError) throw lastError
    return null
  }

  /** Reads one value from one machine in pieces of at most PIECE_BYTES. */
  private async fetchFrom(target: NodeRef, key: Buffer): Promise<RingValue | null> {
    const first = await this.request(target, METHODS.GetFile, { key, start: 0 }, GetFileRequest, GetFileResponse)
    if (!first.found) return null
    if (first.bytes.byteLength === first.totalSize) return { kind: first.kind, bytes: first.bytes }
    const pieces: Buffer[] = [first.bytes]
    for (let at = first.bytes.byteLength; at < first.totalSize; ) {
      const res = await this.request(target, METHODS.GetFile, { key, start: at }, GetFileRequest, GetFileResponse)
      if (!res.found || res.bytes.byteLength === 0) return null
      pieces.push(res.bytes)
      at += res.bytes.byteLength
    }
    return { kind: first.kind, bytes: Buffer.concat(pieces) }
  }

  /** How many responsible machines answer that they hold the key (for status). */
  async holders(key: Buffer): Promise<number> {
    const targets = await this.responsible(key)
    const answers = await Promise.allSettled(
      targets.map((t) => this.request(t, METHODS.GetFile, { key, start: 0, end: 0 }, GetFileRequest, GetFileResponse))
    )
    return answers.filter((a) => a.status === 'fulfilled' && a.value.found).length
  }

  private verifies(key: Buffer, value: RingValue): boolean {
    if (value.kind === FileKind.Immutable) return sha256(value.bytes).equals(key)
    try {
      return verifyRecord(decodeRecord(value.bytes), key)
    } catch {
      return false
    }
  }

  /** Stores an immutable value with `signer`'s claim (the user storing it, who alone can delete it again). */
  async putImmutable(bytes: Buffer, signer: KeyPair): Promise<Buffer> {
    const key = sha256(bytes)
    await this.putImmutableKnown(key, bytes, signer)
    return key
  }

  /**
   * putImmutable() for bytes whose key this process has just computed from
   * them (here, or a crypto worker sealing them). If this node is among the
   * responsible machines, its own store takes the key as the hash instead of
   * hashing the bytes again; the machines they are sent to still hash them.
   */
  async putImmutableKnown(key: Buffer, bytes: Buffer, signer: KeyPair): Promise<void> {
    await this.post(key, FileKind.Immutable, bytes, createChunkClaim(signer, key), { knownHash: key })
  }

  /**
   * Sends a value to the first responsible machine that takes it; it
   * replicates before answering. An immutable value needs no single point of
   * order (every copy is the same bytes), so when this machine is itself
   * responsible it coordinates: it stores its copy without a crossing and
   * sends k − 1 copies, where the owner would send k − 1 including one back
   * here (docs/ring-node.md, "Write throughput").
   * `knownHash`: sha256(bytes) as this process computed it (PostFileCall).
   */
  async post(
    key: Buffer,
    kind: FileKind,
    bytes: Buffer,
    claim?: ChunkClaim,
    opts: { knownHash?: Buffer } = {}
  ): Promise<void> {
    const selfFirst = kind === FileKind.Immutable
    const self = this.network.publicKey.toString('hex')
    const res = await this.toOwner(
      key,
      (target) => {
        const req: PostFileCall = { key, kind, bytes, replicate: true, claim }
        // Only for this node itself, whose handler gets this very object (file-service.ts, PostFileCall).
        if (opts.knownHash && target.address === self) req.knownHash = opts.knownHash
        return this.request(target, METHODS.PostFile, req, PostFileRequest, PostFileResponse)
      },
      selfFirst
    )
    if (!res.ok) {
      const current = res.current?.byteLength ? decodeRecord(res.current) : null
      throw codedError('ECONFLICT', 'a holder keeps another record at this version or a newer one', { current })
    }
  }

  /**
   * The highest verified version of a record among the machines that should
   * hold it. Records change, so the first answer is not enough: a replica
   * that missed the last write (it was down, or the owner changed) would roll
   * the reader back.
   *
   * Null only when every one of the k responsible machines answered that it
   * holds no such record ("absent"). When some of them did not answer (a
   * timeout, a closed connection) or answered with something that does not
   * verify, and nobody gave a record, the ring cannot tell: that throws
   * EUNSURE, never null. So does a miss after a lookup that took more than
   * half the RPC timeout: it waited for machines that did not answer and
   * routed around them, so the machines it names may have just taken over
   * from holders that are only unresponsive (measured: 20 s with the three
   * holders SIGSTOPped, test/volume/ring-unsure.test.ts). The next read,
   * with the ring settled, answers "absent" again: only the Volume's record
   * copy and its "this home had a tree" rule make the root safe from that. A caller that would create something in the place of
   * a missing record (the Volume's root) must never take "could not tell" for
   * "does not exist" (issue 12, item 9: a new root written over a tree whose
   * holders timed out).
   */
  async getRecord(key: Buffer, opts: { exclude?: string } = {}): Promise<SignedRecord | null> {
    // In ring order (no reordering of suspects: every target is asked at once), so the first k are the responsible ones.
    const lookupStarted = Date.now()
    const all = await this.lookup(key, this.replicas + READ_BEYOND)
    // A lookup this slow waited for machines that did not answer and routed around them: the machines it
    // names now may have just taken over from holders that are only unresponsive (stopped, overloaded).
    const rerouted = Date.now() - lookupStarted > this.timeoutMs / 2
    const targets = all.filter((t) => t.address !== opts.exclude)
    const responsible = new Set(all.slice(0, this.replicas).map((t) => t.address))
    const answers = await Promise.allSettled(targets.map((t) => this.fetchFrom(t, key)))
    let best: SignedRecord | null = null
    let lastError: unknown = null
    let answered = 0
    let absentHere = 0
    answers.forEach((a, i) => {
      if (a.status === 'rejected') {
        this.noteFailure(targets[i], a.reason)
        lastError = a.reason
        return
      }
      answered++
      const value = a.value
      if (!value) {
        if (responsible.has(targets[i].address)) absentHere++
        return
      }
      if (value.kind !== FileKind.Record || !this.verifies(key, value)) return
      const record = decodeRecord(value.bytes)
      if (!best || record.version > best.version) best = record
    })
    if (best) return best
    if (answered === 0 && lastError) throw lastError
    // `exclude` (a holder asking the others) leaves itself out of the count.
    const needed = [...responsible].filter((a) => a !== opts.exclude).length
    if (absentHere >= needed && !rerouted) return null
    const cause = rerouted
      ? ': the lookup had to route around machines that did not answer'
      : lastError
        ? `: ${(lastError as Error).message}`
        : ''
    throw codedError(
      UNSURE,
      `only ${absentHere} of the ${needed} machines responsible for record ${key.toString('hex').slice(0, 16)} answered that it is absent${cause}`
    )
  }

  /** Compare-and-swap at the record's owner; ECONFLICT carries the current record. */
  async putRecord(record: SignedRecord, expectedVersion: number, key: Buffer): Promise<void> {
    const res = await this.toOwner(key, (target) =>
      this.request(
        target,
        METHODS.PatchFile,
        { key, expectedVersion, record: encodeRecord(record) },
        PatchFileRequest,
        PatchFileResponse
      )
    )
    if (!res.ok) {
      const current = res.current ? decodeRecord(res.current) : null
      throw codedError('ECONFLICT', `record changed since version ${expectedVersion}`, { current })
    }
  }

  /**
   * Removes `signer`'s claim on an immutable value on every machine that may
   * hold it; the value goes where no other user's claim is left. Machines
   * that refuse (the signer holds no claim there, or the value predates
   * claims) are reported, not retried.
   */
  async deleteImmutable(key: Buffer, signer: KeyPair): Promise<ChunkDeleteResult> {
    const proof = c.encode(chunkClaimEncoding, createChunkDelete(signer, key)) as Buffer
    const refused: Error[] = []
    const done = await this.delete(key, proof, DeleteProofKind.ChunkDelete, (err) => {
      if ((err as { code?: string }).code !== 'EPERM') return false
      refused.push(err as Error)
      return true
    })
    return { done, refused }
  }

  /**
   * Sends a signed delete to every machine a read would ask. A machine that
   * fails is looked up again once, after the ring had a moment to notice a
   * departure; `final` marks refusals that retrying cannot change.
   * Resolves to how many machines took it.
   */
  private async delete(
    key: Buffer,
    proof: Buffer,
    proofKind: DeleteProofKind,
    final: (err: unknown) => boolean = () => false
  ): Promise<number> {
    const done = new Set<string>()
    let took = 0
    let lastError: unknown = codedError('EUNAVAILABLE', 'no machine of the ring is reachable')
    for (let attempt = 0; attempt < 2; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 1000))
      // Every machine a read would ask, not only the k responsible: a copy
      // left on one of them (a node that was just rejoining) would come back.
      const targets = (await this.responsible(key, this.replicas + READ_BEYOND)).filter((t) => !done.has(t.address))
      if (targets.length === 0) return took
      const results = await Promise.allSettled(
        targets.map((t) =>
          this.request(t, METHODS.DeleteFile, { key, proofKind, proof }, DeleteFileRequest, DeleteFileResponse)
        )
      )
      let failed = false
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') {
          done.add(targets[i].address)
          took++
        } else if (final(r.reason)) {
          done.add(targets[i].address)
        } else {
          this.noteFailure(targets[i], r.reason)
          lastError = r.reason
          failed = true
        }
      })
      if (!failed) return took
    }
    throw lastError
  }

  async deleteRecord(tombstone: SignedRecord, key: Buffer): Promise<void> {
    await this.delete(key, encodeRecord(tombstone), DeleteProofKind.RecordTombstone)
  }

  /** Tries the responsible machines in order until one answers; its own refusals are final. */
  private async toOwner<T>(key: Buffer, send: (target: NodeRef) => Promise<T>, selfFirst = false): Promise<T> {
    let targets = await this.responsible(key)
    if (selfFirst) {
      const self = this.network.publicKey.toString('hex')
      targets = [...targets.filter((t) => t.address === self), ...targets.filter((t) => t.address !== self)]
    }
    let lastError: unknown = codedError('EUNAVAILABLE', 'no machine of the ring is reachable')
    for (const target of targets) {
      try {
        return await send(target)
      } catch (err) {
        this.noteFailure(target, err)
        lastError = err
        if ((err as { remote?: boolean }).remote) throw err
      }
    }
    throw lastError
  }

  private request<Req, Res>(
    target: NodeRef,
    method: string,
    req: Req,
    reqEnc: Encoding<Req>,
    resEnc: Encoding<Res>
  ): Promise<Res> {
    return this.network.request(nodeKey(target), method, req, reqEnc, resEnc, { timeoutMs: this.timeoutMs })
  }
}
