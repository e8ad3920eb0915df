// A durable ValueStore in a local directory: what a storage node keeps,
// without the network. The embedded single-node mount uses it until the ring
// client exists. It applies the same checks a storage node must: an immutable
// value lives at sha256(bytes), a record must verify at its key, and a record
// only replaces the stored one by compare-and-swap on a growing version.
//
// Layout: <dir>/immutable/<2 hex>/<64 hex>, <dir>/records/<2 hex>/<64 hex>
// (the encoded SignedRecord). One process opens a directory at a time (the
// Volume's home lock guarantees it), so the CAS lock is in-process.

import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { codedError } from '../common/errors'
import { ReadyResource } from '../common/resource'
import { KeyedMutex } from '../common/semaphore'
import { sha256 } from '../crypto/hash'
import { decodeRecord, encodeRecord, recordKey, type SignedRecord, verifyRecord } from '../crypto/record'
import { readFileOrNull, writeFileDurable } from './durable-file'
import { recordConflict, type ValueStore } from './value-store'
import { type DiskSpace, diskSpace } from './status'

const KEY_BYTES = 32

export class LocalValueStore extends ReadyResource implements ValueStore {
  readonly dir: string
  private recordLocks = new KeyedMutex()
  private madeShards = new Set<string>()

  constructor(dir: string) {
    super()
    this.dir = path.resolve(dir)
  }

  protected override async _open(): Promise<void> {
    await fsp.mkdir(path.join(this.dir, 'immutable'), { recursive: true, mode: 0o700 })
    await fsp.mkdir(path.join(this.dir, 'records'), { recursive: true, mode: 0o700 })
  }

  private file(kind: 'immutable' | 'records', key: Buffer): string {
    if (key.byteLength !== KEY_BYTES) throw codedError('EINVAL', `key must be ${KEY_BYTES} bytes`)
    const hex = key.toString('hex')
    return path.join(this.dir, kind, hex.slice(0, 2), hex)
  }

  private async shard(file: string): Promise<void> {
    const dir = path.dirname(file)
    if (this.madeShards.has(dir)) return
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 })
    this.madeShards.add(dir)
  }

  async getImmutable(key: Buffer): Promise<Buffer> {
    const bytes = await readFileOrNull(this.file('immutable', key))
    if (!bytes) throw codedError('ENOENT', `no value at ${key.toString('hex')}`)
    return bytes
  }

  async putImmutable(bytes: Buffer): Promise<Buffer> {
    const key = sha256(bytes)
    const file = this.file('immutable', key)
    // Content-addressed: an existing file already holds exactly these bytes.
    if (fs.existsSync(file)) return key
    await this.shard(file)
    await writeFileDurable(file, bytes)
    return key
  }

  async deleteImmutable(key: Buffer): Promise<void> {
    await fsp.rm(this.file('immutable', key), { force: true })
  }

  async getRecord(key: Buffer): Promise<SignedRecord | null> {
    const bytes = await readFileOrNull(this.file('records', key))
    return bytes ? decodeRecord(bytes) : null
  }

  async putRecord(record: SignedRecord, expectedVersion: number): Promise<void> {
    const key = recordKey(record.owner, record.name)
    if (!verifyRecord(record, key)) throw codedError('EPERM', 'record signature does not verify')
    const file = this.file('records', key)
    await this.recordLocks.run(file, async () => {
      const bytes = await readFileOrNull(file)
      const current = bytes ? decodeRecord(bytes) : null
      const currentVersion = current ? current.version : 0
      if (currentVersion !== expectedVersion) {
        throw recordConflict(current, `expected version ${expectedVersion}, stored ${currentVersion}`)
      }
      if (record.version <= currentVersion) {
        throw codedError('EINVAL', `version ${record.version} does not grow past ${currentVersion}`)
      }
      await this.shard(file)
      await writeFileDurable(file, encodeRecord(record))
    })
  }

  async replicaStatus(key: Buffer): Promise<{ live: number; target: number }> {
    const present = fs.existsSync(this.file('immutable', key)) || fs.existsSync(this.file('records', key))
    return { live: present ? 1 : 0, target: 1 }
  }

  /** Capacity of the disk under the store, for statfs. */
  capacity(): Promise<DiskSpace> {
    return diskSpace(this.dir)
  }
}
