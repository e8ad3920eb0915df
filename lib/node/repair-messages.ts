// Wire schema of SyncKeys, the anti-entropy exchange between a key range's
// owner and its replicas. The owner sends the keys (and record versions) it
// holds in (from, to]; the replica answers which of them it lacks or holds
// older, and which keys of that range it holds that the owner lacks or holds
// older, so both sides converge with one round trip per batch. Deleted
// immutable values travel as tombstones (a flag and the deletion time), so a
// delete reaches the holders that missed it the way a value does.

import c from 'compact-encoding'
import { type ChunkClaim, chunkClaimsEncoding } from '../crypto/chunk-claim'

export const SYNC_KEYS_METHOD = 'SyncKeys'
/**
 * A copy pushed by repair or hand-off rather than by a client's write: a
 * value with the time it was written, or a tombstone. A separate method from
 * PostFile because a copy loses to a later tombstone, where a client's write
 * always wins (docs/ring-node.md, "DeleteFile").
 */
export const REPAIR_POST_METHOD = 'RepairPost'
/**
 * The owner's pull: what one holder has at a key, as the RepairPost copy it
 * would send (value or tombstone, with its owners' claims), so that the
 * puller merges claims too, which a GetFile does not carry.
 */
export const REPAIR_GET_METHOD = 'RepairGet'
/** Keys per SyncKeys request: 2,000 × ~48 B stays far below the message limit. */
export const SYNC_BATCH = 2000

export interface KeyVersion {
  key: Buffer
  /** A deleted immutable value: `version` is its deletion time. */
  tombstone: boolean
  /**
   * Records: the version. Immutable values: when a client wrote it (ms, 0
   * when unknown). Tombstones: the deletion time (ms). See `shouldSend` in
   * lib/storage/index-entry.ts for how two are compared.
   */
  version: number
  /** A signed record is held (it wins at its key over anything immutable). */
  record: boolean
  /** NodeStore.syncDigest: 48 bits of the record's bytes or of the key's claims and deletes; 0 for none. */
  digest: number
}

export interface SyncKeysRequest {
  /** The ring interval (from, to] this batch covers completely. */
  from: Buffer
  to: Buffer
  keys: KeyVersion[]
}

export interface SyncKeysResponse {
  /** Indexes into the request's keys that the replica lacks or holds at a lower version. */
  missing: number[]
  /** Keys in (from, to] the replica holds that the request lacked or had at a lower version. */
  extra: KeyVersion[]
}

const KV_TOMBSTONE = 1
const KV_RECORD = 2
const MAX_DIGEST = 2 ** 48 - 1

function kvFlags(kv: KeyVersion): number {
  return (kv.tombstone ? KV_TOMBSTONE : 0) | (kv.record ? KV_RECORD : 0)
}

const keyVersion = {
  preencode(state: c.State, kv: KeyVersion) {
    c.fixed32.preencode(state, kv.key)
    c.uint.preencode(state, kvFlags(kv))
    c.uint.preencode(state, kv.version)
    c.uint.preencode(state, kv.digest)
  },
  encode(state: c.State, kv: KeyVersion) {
    if (!Number.isSafeInteger(kv.digest) || kv.digest < 0 || kv.digest > MAX_DIGEST) throw new Error('bad digest')
    c.fixed32.encode(state, kv.key)
    c.uint.encode(state, kvFlags(kv))
    c.uint.encode(state, kv.version)
    c.uint.encode(state, kv.digest)
  },
  decode(state: c.State): KeyVersion {
    const key = c.fixed32.decode(state) as Buffer
    const flags = c.uint.decode(state)
    const tombstone = (flags & KV_TOMBSTONE) !== 0
    const record = (flags & KV_RECORD) !== 0
    if (tombstone && record) throw new Error('a key version cannot be a record and a tombstone')
    const version = c.uint.decode(state)
    const digest = c.uint.decode(state)
    if (digest > MAX_DIGEST) throw new Error('digest out of range')
    return { key, tombstone, record, version, digest }
  }
}

const keyVersions = c.array(keyVersion)
const indexes = c.array(c.uint)

export const SyncKeysRequest = {
  preencode(state: c.State, m: SyncKeysRequest) {
    c.fixed32.preencode(state, m.from)
    c.fixed32.preencode(state, m.to)
    keyVersions.preencode(state, m.keys)
  },
  encode(state: c.State, m: SyncKeysRequest) {
    c.fixed32.encode(state, m.from)
    c.fixed32.encode(state, m.to)
    keyVersions.encode(state, m.keys)
  },
  decode(state: c.State): SyncKeysRequest {
    return {
      from: c.fixed32.decode(state) as Buffer,
      to: c.fixed32.decode(state) as Buffer,
      keys: keyVersions.decode(state)
    }
  }
}

export const SyncKeysResponse = {
  preencode(state: c.State, m: SyncKeysResponse) {
    indexes.preencode(state, m.missing)
    keyVersions.preencode(state, m.extra)
  },
  encode(state: c.State, m: SyncKeysResponse) {
    indexes.encode(state, m.missing)
    keyVersions.encode(state, m.extra)
  },
  decode(state: c.State): SyncKeysResponse {
    return { missing: indexes.decode(state), extra: keyVersions.decode(state) }
  }
}

export enum RepairKind {
  Immutable = 0,
  Record = 1,
  /** A deleted immutable value; no bytes. */
  Tombstone = 2
}

export interface RepairPostRequest {
  key: Buffer
  kind: RepairKind
  /** The value (or encoded SignedRecord); empty for a tombstone. */
  bytes: Buffer
  /** Immutable: when it was written (ms, 0 when unknown); tombstone: the deletion time; record: 0. */
  version: number
  /**
   * Immutable and tombstone: every owner's signed claim or delete the sender
   * holds for the key. A tombstone is accepted only as signed deletes.
   */
  claims?: ChunkClaim[]
  /** Immutable: the value also has the unsigned claim of a value stored before claims. */
  unclaimed?: boolean
}

const REPAIR_UNCLAIMED = 1

export const RepairPostRequest = {
  preencode(state: c.State, m: RepairPostRequest) {
    c.uint.preencode(state, 0)
    c.fixed32.preencode(state, m.key)
    c.uint.preencode(state, m.kind)
    c.buffer.preencode(state, m.bytes)
    c.uint.preencode(state, m.version)
    chunkClaimsEncoding.preencode(state, m.claims ?? [])
  },
  encode(state: c.State, m: RepairPostRequest) {
    if (m.key?.byteLength !== 32) throw new Error('key must be 32 bytes')
    c.uint.encode(state, m.unclaimed ? REPAIR_UNCLAIMED : 0)
    c.fixed32.encode(state, m.key)
    c.uint.encode(state, m.kind)
    c.buffer.encode(state, m.bytes)
    c.uint.encode(state, m.version)
    chunkClaimsEncoding.encode(state, m.claims ?? [])
  },
  decode(state: c.State): RepairPostRequest {
    const flags = c.uint.decode(state)
    const key = c.fixed32.decode(state) as Buffer
    const kind = c.uint.decode(state)
    if (kind !== RepairKind.Immutable && kind !== RepairKind.Record && kind !== RepairKind.Tombstone) {
      throw new Error(`unknown repair kind ${kind}`)
    }
    // c.buffer decodes an empty buffer as null.
    const bytes = (c.buffer.decode(state) as Buffer | null) ?? Buffer.alloc(0)
    const version = c.uint.decode(state)
    const claims = chunkClaimsEncoding.decode(state) as ChunkClaim[]
    return { key, kind, bytes, version, claims, unclaimed: (flags & REPAIR_UNCLAIMED) !== 0 }
  }
}

export interface RepairGetRequest {
  key: Buffer
}

export interface RepairGetResponse {
  /** Null when the holder has nothing (left) to send for the key. */
  copy: RepairPostRequest | null
}

export const RepairGetRequest = {
  preencode(state: c.State, m: RepairGetRequest) {
    c.uint.preencode(state, 0)
    c.fixed32.preencode(state, m.key)
  },
  encode(state: c.State, m: RepairGetRequest) {
    if (m.key?.byteLength !== 32) throw new Error('key must be 32 bytes')
    c.uint.encode(state, 0)
    c.fixed32.encode(state, m.key)
  },
  decode(state: c.State): RepairGetRequest {
    c.uint.decode(state)
    return { key: c.fixed32.decode(state) as Buffer }
  }
}

const REPAIR_GET_FOUND = 1

export const RepairGetResponse = {
  preencode(state: c.State, m: RepairGetResponse) {
    c.uint.preencode(state, 0)
    if (m.copy) RepairPostRequest.preencode(state, m.copy)
  },
  encode(state: c.State, m: RepairGetResponse) {
    c.uint.encode(state, m.copy ? REPAIR_GET_FOUND : 0)
    if (m.copy) RepairPostRequest.encode(state, m.copy)
  },
  decode(state: c.State): RepairGetResponse {
    const flags = c.uint.decode(state)
    return { copy: flags & REPAIR_GET_FOUND ? RepairPostRequest.decode(state) : null }
  }
}

export const RepairPostResponse = {
  preencode(state: c.State, m: { ok: boolean }) {
    c.bool.preencode(state, m.ok)
  },
  encode(state: c.State, m: { ok: boolean }) {
    c.bool.encode(state, m.ok)
  },
  decode(state: c.State): { ok: boolean } {
    return { ok: c.bool.decode(state) }
  }
}
