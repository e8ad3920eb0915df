// The ring store as a mount that is itself a ring member sees it. What this
// machine's own node store holds is read from there: no RPC, no trip through
// the wire encoding, and no second copy in the read cache. A record is the
// higher version of the ring's answer and the local copy, so a replica that
// answers first with an older version never rolls the tree back. Chunk
// writes pass on the key the Volume has just computed, so the ring client
// does not hash them again.

import { type SignedRecord, verifyRecord } from '../crypto/record'
import type { RingNode } from '../node/ring-node'
import type { RingValueStore } from './ring-value-store'
import type { NodeStore } from '../storage'
import { codedError } from '../node/errors'
import { type RecordWatch, UNSURE, type ValueStore } from '../volume/value-store'

export class MemberValueStore implements ValueStore {
  private readonly local: NodeStore | null

  constructor(
    private readonly ring: RingValueStore,
    private readonly node: RingNode
  ) {
    this.local = node.store
  }

  getImmutable(key: Buffer): Promise<Buffer> {
    return this.ring.getImmutable(key)
  }

  /** This machine's copy of an immutable value, or null; the caller verifies the hash. */
  async getLocal(key: Buffer, alloc?: (size: number) => Buffer): Promise<Buffer | null> {
    const stored = await this.local?.get(key, alloc).catch(() => null)
    return stored?.kind === 'immutable' ? stored.bytes : null
  }

  putImmutable(bytes: Buffer): Promise<Buffer> {
    return this.ring.putImmutable(bytes)
  }

  putImmutableKnown(key: Buffer, bytes: Buffer): Promise<void> {
    return this.ring.putImmutableKnown(key, bytes)
  }

  async getRecord(key: Buffer): Promise<SignedRecord | null> {
    // Isolated, this machine's answer is not the ring's: "absent" here would not mean absent (lib/node/isolation.ts).
    if (this.node.isolation.isolated) {
      throw codedError(UNSURE, 'no other machine of the ring is reachable: this machine alone cannot tell')
    }
    const [remote, mine] = await Promise.allSettled([this.ring.getRecord(key), this.localRecord(key)])
    const local = mine.status === 'fulfilled' ? mine.value : null
    if (remote.status === 'rejected') {
      // The ring is unreachable or refused: this machine's copy lets the mount go on offline.
      if (local) return local
      throw remote.reason
    }
    const theirs = remote.value
    if (!theirs) return local
    if (!local) return theirs
    return local.version > theirs.version ? local : theirs
  }

  private async localRecord(key: Buffer): Promise<SignedRecord | null> {
    const stored = await this.local?.getRecord(key)
    if (!stored || !verifyRecord(stored.record, key)) return null
    return stored.record
  }

  async putRecord(record: SignedRecord, expectedVersion: number): Promise<void> {
    if (this.node.isolation.isolated) {
      throw codedError('EUNAVAILABLE', 'offline: no other machine of the ring is reachable; the change waits here')
    }
    return this.ring.putRecord(record, expectedVersion)
  }

  deleteImmutable(key: Buffer): Promise<void> {
    return this.ring.deleteImmutable(key)
  }

  watchRecord(key: Buffer, onChange: (version: number) => void): RecordWatch {
    return this.ring.watchRecord(key, onChange)
  }

  replicaStatus(key: Buffer): Promise<{ live: number; target: number }> {
    return this.ring.replicaStatus(key)
  }
}
