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
