// Signed mutable records: the only values in the ring that can change.
// A record lives at key = H(ns ‖ owner ‖ name), so a storage node can check
// that a record really belongs at the key it is posted to, that its owner
// signed it, and that its version only grows (no rollback, no forgery).

import c from 'compact-encoding'
import { namespace, sha256 } from './hash'
import {
  type DeviceCertificate,
  type DeviceSigner,
  deviceCertificateEncoding,
  verifyDeviceCertificate
} from './device-certificate'
import { type KeyPair, SIGNATURE_BYTES, sign, VerifiedSignatures } from './keys'

const NS_RECORD_KEY = namespace('record-key')
const NS_RECORD_SIG = namespace('record-signature')
const NS_RECORD_SIG_DEVICE = namespace('record-signature/device')

/** Who signs a record: the owner's own key pair, or one of the owner's devices with its certificate. */
export type RecordSigner = KeyPair | DeviceSigner

export interface SignedRecord {
  /** Ed25519 public key of the writer. */
  owner: Buffer
  /** 32 bytes the owner chooses: an inode id, the root pointer, an inbox. */
  name: Buffer
  /** Strictly increasing; a node refuses any version ≤ the one it holds. */
  version: number
  /** A tombstone: the record was deleted at this version. */
  deleted: boolean
  /** Opaque to storage nodes; encrypted by the client. */
  value: Buffer
  signature: Buffer
  /**
   * Set when one of the owner's devices signed it (docs/devices.md): the
   * owner's certificate for that device, whose key made `signature`.
   * Absent in records signed by the owner key itself, and in every record
   * from before devices.
   */
  signer?: DeviceCertificate
}

/**
 * A whole encoded record (never a field inside another message): the
 * optional certificate is its tail, so a record without one is byte for
 * byte what it was before devices. A node of an older build decodes a
 * record with one as one without; its canonical-encoding check and the
 * owner's signature then both refuse it: it fails closed.
 */
export const recordEncoding = {
  preencode(state: c.State, r: SignedRecord) {
    c.fixed32.preencode(state, r.owner)
    c.fixed32.preencode(state, r.name)
    c.uint.preencode(state, r.version)
    c.bool.preencode(state, r.deleted)
    c.buffer.preencode(state, r.value)
    c.fixed64.preencode(state, r.signature)
    if (r.signer) deviceCertificateEncoding.preencode(state, r.signer)
  },
  encode(state: c.State, r: SignedRecord) {
    c.fixed32.encode(state, r.owner)
    c.fixed32.encode(state, r.name)
    c.uint.encode(state, r.version)
    c.bool.encode(state, r.deleted)
    c.buffer.encode(state, r.value)
    c.fixed64.encode(state, r.signature)
    if (r.signer) deviceCertificateEncoding.encode(state, r.signer)
  },
  decode(state: c.State): SignedRecord {
    const r: SignedRecord = {
      owner: c.fixed32.decode(state) as Buffer,
      name: c.fixed32.decode(state) as Buffer,
      version: c.uint.decode(state),
      deleted: c.bool.decode(state),
      value: (c.buffer.decode(state) as Buffer | null) ?? Buffer.alloc(0),
      signature: c.fixed64.decode(state) as Buffer
    }
    if (state.start < state.end) r.signer = deviceCertificateEncoding.decode(state)
    return r
  }
}

export function recordKey(owner: Uint8Array, name: Uint8Array): Buffer {
  return sha256(NS_RECORD_KEY, owner, name)
}

/**
 * True when `bytes` hash to a record key (NS ‖ owner ‖ name): posted as an
 * immutable value they would sit at that record's key and block it, so a
 * storage node refuses them as a value.
 */
export function isRecordKeyPreimage(bytes: Uint8Array): boolean {
  return bytes.byteLength === 96 && NS_RECORD_KEY.equals(bytes.subarray(0, 32))
}

/**
 * What is signed. A device's signature covers its own key under another
 * namespace, so it can be neither replayed as the owner's nor moved under
 * another device's certificate.
 */
function signable(r: Omit<SignedRecord, 'signature'>): Buffer {
  const header = Buffer.alloc(9)
  header.writeUIntBE(Math.floor(r.version / 2 ** 32), 0, 4)
  header.writeUInt32BE(r.version >>> 0, 4)
  header[8] = r.deleted ? 1 : 0
  if (r.signer) return sha256(NS_RECORD_SIG_DEVICE, r.owner, r.signer.device, r.name, header, sha256(r.value))
  return sha256(NS_RECORD_SIG, r.owner, r.name, header, sha256(r.value))
}

export function createRecord(
  signer: RecordSigner,
  name: Buffer,
  version: number,
  value: Buffer,
  deleted = false
): SignedRecord {
  if (name.byteLength !== 32) throw new Error('record name must be 32 bytes')
  if (!Number.isSafeInteger(version) || version < 0) throw new Error('record version must be a non-negative integer')
  if ('certificate' in signer) {
    const cert = signer.certificate
    const unsigned = { owner: cert.user, name, version, deleted, value, signer: cert }
    return { ...unsigned, signature: sign(signable(unsigned), signer.keyPair.secretKey) }
  }
  const unsigned = { owner: signer.publicKey, name, version, deleted, value }
  return { ...unsigned, signature: sign(signable(unsigned), signer.secretKey) }
}

export function encodeRecord(r: SignedRecord): Buffer {
  return c.encode(recordEncoding, r) as Buffer
}

export function decodeRecord(bytes: Uint8Array): SignedRecord {
  return c.decode(recordEncoding, bytes)
}

/**
 * Signatures found valid lately. One record read by a mount is checked by
 * every layer it passes (ring client, the node's own store, the record copy,
 * the Volume): four Ed25519 checks were a third of a cold `ls -l`
 * (docs/benchmarks.md, "Listing a big directory").
 */
const verified = new VerifiedSignatures(8192)

/**
 * True when the owner signed exactly this record, or one of its devices did
 * under the owner's certificate, and it belongs at `key`. Whether that device
 * has since been revoked is the storage nodes' check on writes
 * (lib/node/device-revocations.ts), not this one: a record a device wrote
 * before it was revoked still reads.
 */
export function verifyRecord(r: SignedRecord, key?: Uint8Array): boolean {
  if (r.signature.byteLength !== SIGNATURE_BYTES) return false
  if (key && !recordKey(r.owner, r.name).equals(key)) return false
  if (r.signer && !(r.signer.user.equals(r.owner) && verifyDeviceCertificate(r.signer))) return false
  return verified.verify(r.signature, signable(r), r.signer ? r.signer.device : r.owner)
}
