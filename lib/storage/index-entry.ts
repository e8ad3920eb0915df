// The small per-key entry kept in the `index` database beside each value.
// Scans, stats and version checks read only these 13 bytes, never the value
// (which may be 4 MiB), so hand-off and anti-entropy can list a node's keys
// and record versions cheaply.

export type ValueKind = 'immutable' | 'record'

export interface IndexEntry {
  kind: ValueKind
  /** Byte length of the stored value. */
  size: number
  /** Record version; 0 for immutable values. */
  version: number
}

const ENTRY_BYTES = 13
const KIND_IMMUTABLE = 1
const KIND_RECORD = 2

export function encodeIndexEntry(e: IndexEntry): Buffer {
  const b = Buffer.alloc(ENTRY_BYTES)
  b[0] = e.kind === 'immutable' ? KIND_IMMUTABLE : KIND_RECORD
  b.writeUInt32BE(e.size, 1)
  // Versions are safe integers (up to 2^53), so split into two 32-bit halves.
  b.writeUInt32BE(Math.floor(e.version / 2 ** 32), 5)
  b.writeUInt32BE(e.version >>> 0, 9)
  return b
}

export function decodeIndexEntry(b: Uint8Array): IndexEntry {
  if (b.byteLength !== ENTRY_BYTES) throw new Error(`corrupt index entry of ${b.byteLength} bytes`)
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength)
  const kindByte = buf[0]
  if (kindByte !== KIND_IMMUTABLE && kindByte !== KIND_RECORD) throw new Error(`corrupt index entry kind ${kindByte}`)
  return {
    kind: kindByte === KIND_IMMUTABLE ? 'immutable' : 'record',
    size: buf.readUInt32BE(1),
    version: buf.readUInt32BE(5) * 2 ** 32 + buf.readUInt32BE(9)
  }
}
