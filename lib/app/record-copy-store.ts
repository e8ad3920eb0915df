// The record copy's store in a home: a NodeStore of its own at
// <home>/records. NodeStore.putRecord verifies each record's signature at its
// key and refuses a version that is not above the stored one (ESTALE) or a
// different record of the same version (EFORK), which is what keeps the
// copy moving only forward (lib/volume/record-copy.ts).

import { encodeRecord, type SignedRecord } from '../crypto/record'
import { NodeStore } from '../storage'
import { type RecordCopyBacking, recordCopyDir } from '../volume/record-copy'

export class NodeRecordCopyStore implements RecordCopyBacking {
  private readonly store: NodeStore

  constructor(readonly dir: string) {
    this.store = new NodeStore(dir)
  }

  ready(): Promise<void> {
    return this.store.ready()
  }

  close(): Promise<void> {
    return this.store.close()
  }

  async getRecord(key: Buffer): Promise<SignedRecord | null> {
    return (await this.store.getRecord(key))?.record ?? null
  }

  putRecord(key: Buffer, record: SignedRecord): Promise<void> {
    return this.store.putRecord(key, encodeRecord(record))
  }
}

/** The record copy of the home (opened by the Volume's ready()). */
export function recordCopyStoreFor(home: string): NodeRecordCopyStore {
  return new NodeRecordCopyStore(recordCopyDir(home))
}
