// The small per-key entry kept in the `index` database beside each value.
// Scans, stats and version checks read only these 13 bytes, never the value
// (which may be 4 MiB), so hand-off and anti-entropy can list a node's keys
// and record versions cheaply. An immutable value's tombstone is an index
// entry with no value, so a scan lists it in key order with the values and
// anti-entropy carries it like any other key.

export type ValueKind = 'immutable' | 'record'
/** What the index can hold at a key: a value, or the tombstone of a deleted immutable value. */
export type EntryKind = ValueKind | 'tombstone'

export interface IndexEntry<K extends EntryKind = ValueKind> {
  kind: K
  /** Byte length of the stored value; 0 for a tombstone. */
  size: number
  /**
   * Records: the record version. Immutable values: when a client last wrote
   * the value here (ms since the epoch; 0 when unknown, i.e. stored before
   * tombstones existed). Tombstones: when the value was deleted (ms).
   */
  version: number
}

const ENTRY_BYTES = 13
const KIND_IMMUTABLE = 1
const KIND_RECORD = 2
const KIND_TOMBSTONE = 3

const KIND_BYTES: Record<EntryKind, number> = {
  immutable: KIND_IMMUTABLE,
  record: KIND_RECORD,
  tombstone: KIND_TOMBSTONE
}

export function encodeIndexEntry(e: IndexEntry<EntryKind>): Buffer {
  const b = Buffer.alloc(ENTRY_BYTES)
  b[0] = KIND_BYTES[e.kind]
  b.writeUInt32BE(e.size, 1)
  // Versions are safe integers (up to 2^53), so split into two 32-bit halves.
  b.writeUInt32BE(Math.floor(e.version / 2 ** 32), 5)
  b.writeUInt32BE(e.version >>> 0, 9)
  return b
}

export function decodeIndexEntry(b: Uint8Array): IndexEntry<EntryKind> {
  if (b.byteLength !== ENTRY_BYTES) throw new Error(`corrupt index entry of ${b.byteLength} bytes`)
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength)
  const kindByte = buf[0]
  const kind: EntryKind | null =
    kindByte === KIND_IMMUTABLE
      ? 'immutable'
      : kindByte === KIND_RECORD
        ? 'record'
        : kindByte === KIND_TOMBSTONE
          ? 'tombstone'
          : null
  if (!kind) throw new Error(`corrupt index entry kind ${kindByte}`)
  return { kind, size: buf.readUInt32BE(1), version: buf.readUInt32BE(5) * 2 ** 32 + buf.readUInt32BE(9) }
}

/** What one machine holds at a key, as anti-entropy compares it (an index entry, or a SyncKeys item). */
export interface KeyState {
  /** Only immutable keys have tombstones; a record key's deletion is a signed record. */
  tombstone: boolean
  version: number
}

/** What one holder has at a key, as SyncKeys lists it (repair-messages.ts KeyVersion without the key). */
export interface SyncState {
  record: boolean
  tombstone: boolean
  version: number
  /** NodeStore.syncDigest: the record's bytes, or the immutable key's claims and deletes (0: none). */
  digest: number
}

/**
 * Whether a holder of `a` should send its copy to a holder of `b` (null:
 * holds nothing). A record wins at its key over anything immutable. Records:
 * the higher version, and both ways when two different records share a
 * version (each side settles the fork the same way). Immutable keys with
 * claims: both ways whenever the claim sets differ, since merging them is
 * commutative; a tombstone goes only to a holder of the key, never creates
 * one. Keys with no claims on either side (stored before claims): the rule
 * from before claims (`supersedes`), except that their unsigned tombstones
 * are not sent at all.
 */
export function shouldSend(a: SyncState, b: SyncState | null): boolean {
  if (!b) return !a.tombstone
  if (a.record !== b.record) return a.record
  if (a.record) return a.version > b.version || (a.version === b.version && a.digest !== b.digest)
  if (a.digest !== 0 || b.digest !== 0) return a.digest !== b.digest && !(a.tombstone && a.digest === 0)
  if (a.tombstone) return false
  return supersedes(a, b, false)
}

/**
 * Whether state `a` should replace state `b` of the same key. Records: the
 * higher version. Immutable values: two copies of a value are equal (its
 * bytes are its key) and two tombstones are equal; between a value and a
 * tombstone the later one wins, and a delete wins a tie, so a copy written
 * before the delete never comes back while a write after it survives.
 */
export function supersedes(a: KeyState, b: KeyState, record: boolean): boolean {
  if (record) return a.version > b.version
  if (a.tombstone === b.tombstone) return false
  return a.tombstone ? a.version >= b.version : a.version > b.version
}
