// The storage side of revoking a device (docs/devices.md): before a node
// stores a record one of a user's devices signed, it looks the device up in
// that user's revocation list and refuses a revoked one. Lists are fetched
// from the ring and kept a short while per user; a node that stores a new
// version of a list drops its copy at once. A list it cannot fetch fails
// the write (closed): a revoked device must not write during a partition.
// Only the user key signs a list: one a device signed is refused.

import { LRUCache } from 'lru-cache'
import { codedError } from '../common/errors'
import { decodeRevocations, isRevocationList, recordKey, revocationListName, type SignedRecord } from '../crypto'

/**
 * How long a node keeps a user's list before it fetches it again: the
 * longest a node may still take a revoked device's writes after the
 * revocation is stored (`devices revoke` waits this long before it
 * re-signs what that device wrote).
 */
export const REVOCATION_CACHE_MS = 10_000
const MAX_USERS = 4096

interface Cached {
  revoked: Map<string, string>
}

export class DeviceRevocations {
  private readonly cache: LRUCache<string, Cached>
  private readonly inflight = new Map<string, Promise<Cached>>()

  constructor(
    /** The newest version of a record in the ring, null when it has none. */
    private readonly fetchRecord: (key: Buffer) => Promise<SignedRecord | null>,
    ttlMs = REVOCATION_CACHE_MS
  ) {
    this.cache = new LRUCache({ max: MAX_USERS, ttl: ttlMs })
  }

  /** Throws when `record` must not be stored because of who signed it. */
  async check(record: SignedRecord): Promise<void> {
    if (!record.signer) return
    if (isRevocationList(record)) {
      throw codedError('EPERM', "a user's revocation list is signed by the user key only, never by a device")
    }
    const list = await this.listOf(record.owner)
    const name = list.revoked.get(record.signer.device.toString('hex'))
    if (name !== undefined) {
      throw codedError(
        'EREVOKED',
        `this computer ('${name}') was revoked by its user: storage nodes refuse what it signs ('peerstore devices' on another computer of yours)`
      )
    }
  }

  /** A new version of `record`'s list is stored here: forget the copy. */
  noteStored(record: SignedRecord): void {
    if (isRevocationList(record)) this.cache.delete(record.owner.toString('hex'))
  }

  private async listOf(user: Buffer): Promise<Cached> {
    const id = user.toString('hex')
    const cached = this.cache.get(id)
    if (cached) return cached
    let pending = this.inflight.get(id)
    if (!pending) {
      pending = this.fetch(user).finally(() => this.inflight.delete(id))
      this.inflight.set(id, pending)
    }
    return pending
  }

  private async fetch(user: Buffer): Promise<Cached> {
    let record: SignedRecord | null
    try {
      record = await this.fetchRecord(recordKey(user, revocationListName(user)))
    } catch (err) {
      throw codedError(
        'EUNAVAILABLE',
        `cannot read the user's revocation list, so a device's write is not taken: ${(err as Error).message}`
      )
    }
    // A list a device signed is no list (the ring refuses to store one; a forged answer is ignored).
    const list = record && !record.signer ? decodeRevocations(record) : []
    const entry: Cached = { revoked: new Map(list.map((r) => [r.device.toString('hex'), r.name])) }
    this.cache.set(user.toString('hex'), entry)
    return entry
  }
}
