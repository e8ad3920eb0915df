// The Volume's ValueStore (lib/volume/value-store.ts) backed by the Chord
// ring: immutable chunks and signed inode records go to the responsible
// machines through the ring client, which verifies whatever it reads back.
// Chunks are stored with the user's signed claim and deleted with the user's
// signed delete (lib/crypto/chunk-claim.ts), so that only this user can take
// its chunks away again; the Volume above never sees the claims.

import path from 'node:path'
import { type KeyPair, keyPairFromSeed, loadOrCreateSeed, recordKey, type SignedRecord } from '../crypto'
import { codedError } from '../common/errors'
import { FileKind } from '../node/file-messages'
import type { RingNode } from '../node/ring-node'
import type { RecordWatch, ValueStore } from '../volume/value-store'
import { USER_SEED_FILE } from '../volume/volume-keys'

/** The user identity of a home (`<home>/user.seed`, created on first use), which signs chunk claims and deletes. */
export function userKeyPair(home: string): KeyPair {
  return keyPairFromSeed(loadOrCreateSeed(path.join(home, USER_SEED_FILE)))
}

export class RingValueStore implements ValueStore {
  /** The user whose claims this store signs. */
  readonly signer: KeyPair

  constructor(
    private readonly node: RingNode,
    signer?: KeyPair
  ) {
    this.signer = signer ?? userKeyPair(node.home)
  }

  async getImmutable(key: Buffer): Promise<Buffer> {
    const value = await this.node.client.get(key)
    if (!value) throw codedError('ENOENT', `no value ${key.toString('hex').slice(0, 16)} in the ring`)
    if (value.kind !== FileKind.Immutable) throw codedError('EKIND', 'expected an immutable value, found a record')
    return value.bytes
  }

  putImmutable(bytes: Buffer): Promise<Buffer> {
    return this.node.client.putImmutable(bytes, this.signer)
  }

  /**
   * Stores bytes whose key this process computed from them (a crypto worker
   * sealing them), with the user's claim: this machine's own node store need
   * not hash them again (0.5 ms per MiB on this thread); machines they are
   * sent to still do.
   */
  putImmutableKnown(key: Buffer, bytes: Buffer): Promise<void> {
    return this.node.client.putImmutableKnown(key, bytes, this.signer)
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

  /**
   * Removes this user's claim on a chunk (garbage collection). Machines that
   * refuse because the user holds no claim there (a chunk stored before
   * claims, or by another user) keep it: a leak, never a loss, and nothing a
   * retry would change, so it is not reported as a failure.
   */
  async deleteImmutable(key: Buffer): Promise<void> {
    await this.node.client.deleteImmutable(key, this.signer)
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
