// The Volume's ValueStore (lib/volume/value-store.ts) backed by the Chord
// ring: immutable chunks and signed inode records go to the responsible
// machines through the ring client, which verifies whatever it reads back.

import { recordKey, type SignedRecord } from '../crypto'
import { FileKind } from '../net'
import type { RecordWatch, ValueStore } from '../volume/value-store'
import type { RingNode } from './ring-node'
import { codedError } from './errors'

export class RingValueStore implements ValueStore {
  constructor(private readonly node: RingNode) {}

  async getImmutable(key: Buffer): Promise<Buffer> {
    const value = await this.node.client.get(key)
    if (!value) throw codedError('ENOENT', `no value ${key.toString('hex').slice(0, 16)} in the ring`)
    if (value.kind !== FileKind.Immutable) throw codedError('EKIND', 'expected an immutable value, found a record')
    return value.bytes
  }

  putImmutable(bytes: Buffer): Promise<Buffer> {
    return this.node.client.putImmutable(bytes)
  }

  getRecord(key: Buffer): Promise<SignedRecord | null> {
    return this.node.client.getRecord(key)
  }

  async putRecord(record: SignedRecord, expectedVersion: number): Promise<void> {
    try {
      await this.node.client.putRecord(record, expectedVersion, recordKey(record.owner, record.name))
    } catch (err) {
      const e = err as { code?: string; current?: SignedRecord | null }
      if (e.code === 'ECONFLICT')
        throw codedError('ECONFLICT', 'record version conflict', { current: e.current ?? null })
      throw err
    }
  }

  deleteImmutable(key: Buffer): Promise<void> {
    return this.node.client.delete(key)
  }

  /** Push: the machines responsible for the record tell this node of each new version (RecordWatcher). */
  watchRecord(key: Buffer, onChange: (version: number) => void): RecordWatch {
    return this.node.watcher.watch(key, onChange)
  }

  /** Live copies of a value against the replication target, for `user.peerstore.status`. */
  async replicaStatus(key: Buffer): Promise<{ live: number; target: number }> {
    const target = this.node.config.replicas
    const holders = await this.node.client.holders(key)
    return { live: holders, target }
  }
}
