// Fault injection at the ValueStore boundary, for Volume tests on a real
// LocalValueStore: chosen record keys (or the whole store) answer "absent",
// "could not tell" (EUNSURE), an older version, or time out. Everything else
// passes through to the real store underneath. Faults are switched on and off
// while a Volume runs, to drive root loading, replay and flushes.

import { codedError } from '../../lib/common/errors'
import { recordKey, type SignedRecord } from '../../lib/crypto/record'
import { UNSURE, type ValueStore } from '../../lib/volume/value-store'
import { sleep } from './wait'

export type Fault =
  /** getRecord answers null (positively absent), as an offline member asking only itself would. */
  | 'absent'
  /** getRecord throws EUNSURE: some holders did not answer, none had it. */
  | 'unsure'
  /** getRecord answers the version before the current one (a replica that missed the last write). */
  | 'stale'
  /** Every call for the key throws ETIMEDOUT after `delayMs`. */
  | 'timeout'

export class FaultyValueStore implements ValueStore {
  /** Faults by record key (hex). */
  private readonly faults = new Map<string, Fault>()
  /** Every call of every kind throws ETIMEDOUT (the ring is unreachable). */
  offline = false
  delayMs = 20
  /** Each record version this wrapper saw written, by key: what 'stale' answers from. */
  private readonly history = new Map<string, SignedRecord[]>()
  /** Calls that met a fault, by kind: tests check that the fault was really exercised. */
  readonly hits = { absent: 0, unsure: 0, stale: 0, timeout: 0, offline: 0 }

  constructor(readonly inner: ValueStore) {}

  fault(key: Buffer, fault: Fault | null): void {
    if (fault) this.faults.set(key.toString('hex'), fault)
    else this.faults.delete(key.toString('hex'))
  }

  private async gate(key: Buffer | null): Promise<Fault | undefined> {
    if (this.offline) {
      this.hits.offline++
      await sleep(this.delayMs)
      throw codedError('ETIMEDOUT', 'the store is offline (test)')
    }
    const fault = key ? this.faults.get(key.toString('hex')) : undefined
    if (fault === 'timeout') {
      this.hits.timeout++
      await sleep(this.delayMs)
      throw codedError('ETIMEDOUT', `no answer for ${key!.toString('hex').slice(0, 16)} (test)`)
    }
    return fault
  }

  async getImmutable(key: Buffer): Promise<Buffer> {
    await this.gate(key)
    return this.inner.getImmutable(key)
  }

  async putImmutable(bytes: Buffer): Promise<Buffer> {
    await this.gate(null)
    return this.inner.putImmutable(bytes)
  }

  async getRecord(key: Buffer): Promise<SignedRecord | null> {
    const fault = await this.gate(key)
    if (fault === 'absent') {
      this.hits.absent++
      return null
    }
    if (fault === 'unsure') {
      this.hits.unsure++
      throw codedError(UNSURE, `holders of ${key.toString('hex').slice(0, 16)} did not answer (test)`)
    }
    const rec = await this.inner.getRecord(key)
    if (fault === 'stale') {
      this.hits.stale++
      const older = (this.history.get(key.toString('hex')) ?? []).filter((r) => rec && r.version < rec.version)
      return older.length > 0 ? older[older.length - 1] : null
    }
    return rec
  }

  async putRecord(record: SignedRecord, expectedVersion: number): Promise<void> {
    const key = recordKey(record.owner, record.name)
    await this.gate(key)
    await this.inner.putRecord(record, expectedVersion)
    const list = this.history.get(key.toString('hex')) ?? []
    list.push(record)
    this.history.set(key.toString('hex'), list)
  }

  async deleteImmutable(key: Buffer): Promise<void> {
    await this.gate(key)
    await this.inner.deleteImmutable?.(key)
  }
}
