// Engine: LMDB (lmdb-js), chosen by measurement (docs/storage.md,
// scripts/bench-storage.ts). Values live inside the engine, not as files: one
// LMDB write transaction updates the value, its index entry and the stats
// together, so a crash can never leave a value without its index entry, an
// index entry without its value, or stats that disagree with either. LMDB is
// copy-on-write with a two-phase meta page switch, so a SIGKILL or power cut
// at any moment reopens to the last committed transaction, never to a half
// written page.
//
// Layout (four named databases in one environment, `<dir>/lmdb/`):
//   values:  key(32) → value bytes
//   index:   key(32) → IndexEntry (kind, size, version), 13 bytes; a
//            tombstone of a deleted immutable value has an entry, no value
//   meta:    'stats' → { keys, bytes } (values only, never tombstones)
//   expiry:  deletedAt(8, big-endian ms) ‖ key(32) → empty: tombstones in
//            the order they expire, so the expiry sweep reads only those due
//   claims:  key(32) ‖ owner(32) → time(8) ‖ flags(1) ‖ signature(64): per
//            immutable key and owner, the later of that owner's signed claim
//            and signed delete (lib/crypto/chunk-claim.ts). The value stays
//            while one claim is left. The all-zero owner is the unsigned
//            claim of a value stored before claims existed, which no remote
//            delete removes (docs/storage.md, "Ownership of chunks").

import fs from 'node:fs'
import path from 'node:path'
import { type Database, open, type RootDatabase } from 'lmdb'

/** The environment and its named databases, as one opened store holds them. */
export interface StoreDbs {
  root: RootDatabase
  values: Database<Buffer, Buffer>
  index: Database<Buffer, Buffer>
  meta: Database<Buffer, string>
  expiry: Database<Buffer, Buffer>
  claims: Database<Buffer, Buffer>
}

export async function openLmdb(dir: string): Promise<StoreDbs> {
  await fs.promises.mkdir(path.join(dir, 'lmdb'), { recursive: true, mode: 0o700 })
  // overlappingSync (the Linux default) lets the fsync of one commit overlap
  // the next transaction; every write still awaits `flushed` before it
  // resolves, so acknowledged means on disk.
  const root = open({ path: path.join(dir, 'lmdb'), maxDbs: 8, overlappingSync: true })
  return {
    root,
    values: root.openDB<Buffer, Buffer>({ name: 'values', keyEncoding: 'binary', encoding: 'binary' }),
    index: root.openDB<Buffer, Buffer>({ name: 'index', keyEncoding: 'binary', encoding: 'binary' }),
    meta: root.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' }),
    expiry: root.openDB<Buffer, Buffer>({ name: 'expiry', keyEncoding: 'binary', encoding: 'binary' }),
    claims: root.openDB<Buffer, Buffer>({ name: 'claims', keyEncoding: 'binary', encoding: 'binary' })
  }
}

/** The value of an expiry row: the key says everything. */
export const EMPTY = Buffer.alloc(0)

/** The expiry index's key: deletion time first, so a range read finds the tombstones due. */
export function expiryKey(deletedAt: number, key: Buffer): Buffer {
  const b = Buffer.alloc(8 + 32)
  b.writeUInt32BE(Math.floor(deletedAt / 2 ** 32), 0)
  b.writeUInt32BE(deletedAt >>> 0, 4)
  key.copy(b, 8)
  return b
}

/**
 * The value at `key` as a view that is valid only until the next read: copy
 * it before any await. lmdb's getBinaryFast returns its reused global buffer
 * (16 MiB, with `length` set to the value's size but `byteLength` not) or a
 * view of the map; either way the value is the first `length` bytes. Copying
 * from it costs half of getBinary, which zero-fills a fresh buffer first.
 */
export function valueView(values: Database<Buffer, Buffer>, key: Buffer): Uint8Array | null {
  const view = values.getBinaryFast(key)
  return view ? new Uint8Array(view.buffer, view.byteOffset, view.length) : null
}
