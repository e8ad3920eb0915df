// Wire schemas of the four file RPCs (protocol 'peerstore/rpc/v1', see
// lib/net/protocol.ts). Every field is explicit compact-encoding; optional fields sit
// behind a flags uint so a later version can add bits without ambiguity.
// Decoding truncated or invalid input throws; PeerNetwork turns that into an
// EBADMESSAGE reply, never a crash.

import c from 'compact-encoding'
import { type ChunkClaim, chunkClaimEncoding } from '../crypto/chunk-claim'

export const METHODS = {
  GetFile: 'GetFile',
  PostFile: 'PostFile',
  DeleteFile: 'DeleteFile',
  PatchFile: 'PatchFile'
} as const

export enum FileKind {
  /** key = hash(bytes): any node verifies it. */
  Immutable = 0,
  /** A signed mutable record (lib/crypto/record.ts). */
  Record = 1
}

export interface GetFileRequest {
  key: Buffer
  /** Byte range [start, end) of the value; omitted = from 0 / to the end. */
  start?: number
  end?: number
}

export interface GetFileResponse {
  found: boolean
  kind: FileKind
  /** Size of the whole value, so that a ranged reader knows when to stop. */
  totalSize: number
  /** The requested range (or the whole value). */
  bytes: Buffer
}

export interface PostFileRequest {
  key: Buffer
  kind: FileKind
  bytes: Buffer
  /** True: the receiver is the key's owner and must replicate; false: this is a replica copy. */
  replicate: boolean
  /** An immutable value: the uploader's signed claim (lib/crypto/chunk-claim.ts); required by storage nodes. */
  claim?: ChunkClaim
}

/**
 * `ok: false` with `current`: a record write that did not land as asked,
 * the holder keeps another record at that version or a higher one (an
 * equal-version fork, or a replica ahead of the owner): the writer merges.
 */
export type PostFileResponse = PatchFileResponse

export enum DeleteProofKind {
  /** An encoded signed record tombstone (lib/crypto/record.ts): deletes a record. */
  RecordTombstone = 0,
  /** An encoded signed chunk delete (lib/crypto/chunk-claim.ts): removes its owner's claim on an immutable value. */
  ChunkDelete = 1
}

export interface OkResponse {
  ok: boolean
}

export interface DeleteFileRequest {
  key: Buffer
  /** What `proof` is; default RecordTombstone. */
  proofKind?: DeleteProofKind
  /** The encoded proof; an empty proof is refused. */
  proof: Buffer
}

export interface PatchFileRequest {
  key: Buffer
  /** Compare-and-swap: applied only if the stored record has this version (0 = none stored). */
  expectedVersion: number
  /** The new encoded SignedRecord. */
  record: Buffer
}

export interface PatchFileResponse {
  ok: boolean
  /** On a failed compare-and-swap: the record currently stored, so the caller can merge and retry. */
  current?: Buffer
}

const GET_HAS_START = 1
const GET_HAS_END = 2
const PATCH_HAS_CURRENT = 1
const POST_HAS_CLAIM = 1

const bytes = {
  preencode(state: c.State, b: Buffer) {
    c.buffer.preencode(state, b)
  },
  encode(state: c.State, b: Buffer) {
    c.buffer.encode(state, b)
  },
  decode(state: c.State): Buffer {
    // c.buffer decodes an empty buffer as null.
    return (c.buffer.decode(state) as Buffer | null) ?? Buffer.alloc(0)
  }
}

/** A 32-byte ring key; every message that names a key uses it. */
export const RingKeyEncoding = {
  preencode(state: c.State, k: Buffer) {
    c.fixed32.preencode(state, k)
  },
  encode(state: c.State, k: Buffer) {
    if (k?.byteLength !== 32) throw new Error('key must be 32 bytes')
    c.fixed32.encode(state, k)
  },
  decode(state: c.State): Buffer {
    return c.fixed32.decode(state) as Buffer
  }
}
const key = RingKeyEncoding

const kind = {
  preencode(state: c.State, k: FileKind) {
    c.uint.preencode(state, k)
  },
  encode(state: c.State, k: FileKind) {
    c.uint.encode(state, k)
  },
  decode(state: c.State): FileKind {
    const k = c.uint.decode(state)
    if (k !== FileKind.Immutable && k !== FileKind.Record) throw new Error(`unknown file kind ${k}`)
    return k
  }
}

const ok = {
  preencode(state: c.State, m: OkResponse) {
    c.bool.preencode(state, m.ok)
  },
  encode(state: c.State, m: OkResponse) {
    c.bool.encode(state, m.ok)
  },
  decode(state: c.State): OkResponse {
    return { ok: c.bool.decode(state) }
  }
}

export const GetFileRequest = {
  preencode(state: c.State, m: GetFileRequest) {
    c.uint.preencode(state, 0)
    key.preencode(state, m.key)
    if (m.start !== undefined) c.uint.preencode(state, m.start)
    if (m.end !== undefined) c.uint.preencode(state, m.end)
  },
  encode(state: c.State, m: GetFileRequest) {
    c.uint.encode(state, (m.start !== undefined ? GET_HAS_START : 0) | (m.end !== undefined ? GET_HAS_END : 0))
    key.encode(state, m.key)
    if (m.start !== undefined) c.uint.encode(state, m.start)
    if (m.end !== undefined) c.uint.encode(state, m.end)
  },
  decode(state: c.State): GetFileRequest {
    const flags = c.uint.decode(state)
    const m: GetFileRequest = { key: key.decode(state) }
    if (flags & GET_HAS_START) m.start = c.uint.decode(state)
    if (flags & GET_HAS_END) m.end = c.uint.decode(state)
    if (m.start !== undefined && m.end !== undefined && m.end < m.start) throw new Error('range end before start')
    return m
  }
}

export const GetFileResponse = {
  preencode(state: c.State, m: GetFileResponse) {
    c.bool.preencode(state, m.found)
    kind.preencode(state, m.kind)
    c.uint.preencode(state, m.totalSize)
    bytes.preencode(state, m.bytes)
  },
  encode(state: c.State, m: GetFileResponse) {
    c.bool.encode(state, m.found)
    kind.encode(state, m.kind)
    c.uint.encode(state, m.totalSize)
    bytes.encode(state, m.bytes)
  },
  decode(state: c.State): GetFileResponse {
    return {
      found: c.bool.decode(state),
      kind: kind.decode(state),
      totalSize: c.uint.decode(state),
      bytes: bytes.decode(state)
    }
  }
}

export const PostFileRequest = {
  preencode(state: c.State, m: PostFileRequest) {
    c.uint.preencode(state, 0)
    key.preencode(state, m.key)
    kind.preencode(state, m.kind)
    bytes.preencode(state, m.bytes)
    c.bool.preencode(state, m.replicate)
    if (m.claim) chunkClaimEncoding.preencode(state, m.claim)
  },
  encode(state: c.State, m: PostFileRequest) {
    c.uint.encode(state, m.claim ? POST_HAS_CLAIM : 0)
    key.encode(state, m.key)
    kind.encode(state, m.kind)
    bytes.encode(state, m.bytes)
    c.bool.encode(state, m.replicate)
    if (m.claim) chunkClaimEncoding.encode(state, m.claim)
  },
  decode(state: c.State): PostFileRequest {
    const flags = c.uint.decode(state)
    const m: PostFileRequest = {
      key: key.decode(state),
      kind: kind.decode(state),
      bytes: bytes.decode(state),
      replicate: c.bool.decode(state)
    }
    if (flags & POST_HAS_CLAIM) m.claim = chunkClaimEncoding.decode(state)
    return m
  }
}

const proofKind = {
  preencode(state: c.State, k: DeleteProofKind) {
    c.uint.preencode(state, k)
  },
  encode(state: c.State, k: DeleteProofKind) {
    c.uint.encode(state, k)
  },
  decode(state: c.State): DeleteProofKind {
    const k = c.uint.decode(state)
    if (k !== DeleteProofKind.RecordTombstone && k !== DeleteProofKind.ChunkDelete) {
      throw new Error(`unknown delete proof kind ${k}`)
    }
    return k
  }
}

export const DeleteFileRequest = {
  preencode(state: c.State, m: DeleteFileRequest) {
    key.preencode(state, m.key)
    proofKind.preencode(state, m.proofKind ?? DeleteProofKind.RecordTombstone)
    bytes.preencode(state, m.proof)
  },
  encode(state: c.State, m: DeleteFileRequest) {
    key.encode(state, m.key)
    proofKind.encode(state, m.proofKind ?? DeleteProofKind.RecordTombstone)
    bytes.encode(state, m.proof)
  },
  decode(state: c.State): DeleteFileRequest {
    return { key: key.decode(state), proofKind: proofKind.decode(state), proof: bytes.decode(state) }
  }
}

export const DeleteFileResponse = ok

export const PatchFileRequest = {
  preencode(state: c.State, m: PatchFileRequest) {
    key.preencode(state, m.key)
    c.uint.preencode(state, m.expectedVersion)
    bytes.preencode(state, m.record)
  },
  encode(state: c.State, m: PatchFileRequest) {
    key.encode(state, m.key)
    c.uint.encode(state, m.expectedVersion)
    bytes.encode(state, m.record)
  },
  decode(state: c.State): PatchFileRequest {
    return { key: key.decode(state), expectedVersion: c.uint.decode(state), record: bytes.decode(state) }
  }
}

export const PatchFileResponse: {
  preencode(state: c.State, m: PatchFileResponse): void
  encode(state: c.State, m: PatchFileResponse): void
  decode(state: c.State): PatchFileResponse
} = {
  preencode(state: c.State, m: PatchFileResponse) {
    c.uint.preencode(state, 0)
    c.bool.preencode(state, m.ok)
    if (m.current !== undefined) bytes.preencode(state, m.current)
  },
  encode(state: c.State, m: PatchFileResponse) {
    c.uint.encode(state, m.current !== undefined ? PATCH_HAS_CURRENT : 0)
    c.bool.encode(state, m.ok)
    if (m.current !== undefined) bytes.encode(state, m.current)
  },
  decode(state: c.State): PatchFileResponse {
    const flags = c.uint.decode(state)
    const m: PatchFileResponse = { ok: c.bool.decode(state) }
    if (flags & PATCH_HAS_CURRENT) m.current = bytes.decode(state)
    return m
  }
}

export const PostFileResponse = PatchFileResponse
