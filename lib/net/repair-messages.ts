// Wire schema of SyncKeys, the anti-entropy exchange between a key range's
// owner and its replicas. The owner sends the keys (and record versions) it
// holds in (from, to]; the replica answers which of them it lacks or holds
// older, and which keys of that range it holds that the owner lacks or holds
// older, so both sides converge with one round trip per batch.

import c from 'compact-encoding'

export const SYNC_KEYS_METHOD = 'SyncKeys'
/**
 * A copy pushed by repair or hand-off rather than by a client's write. Same
 * schema as PostFile; a separate method so that a node can refuse to bring
 * back a value it deleted moments ago (a push that crossed the delete).
 */
export const REPAIR_POST_METHOD = 'RepairPost'
/** Keys per SyncKeys request: 2,000 × ~40 B stays far below the message limit. */
export const SYNC_BATCH = 2000

export interface KeyVersion {
  key: Buffer
  /** Record version; 0 for immutable values. */
  version: number
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

const keyVersion = {
  preencode(state: c.State, kv: KeyVersion) {
    c.fixed32.preencode(state, kv.key)
    c.uint.preencode(state, kv.version)
  },
  encode(state: c.State, kv: KeyVersion) {
    c.fixed32.encode(state, kv.key)
    c.uint.encode(state, kv.version)
  },
  decode(state: c.State): KeyVersion {
    return { key: c.fixed32.decode(state) as Buffer, version: c.uint.decode(state) }
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
