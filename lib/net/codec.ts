// Message bodies on the wire: every request, response and event body is
// encoded and size-checked here, before it reaches protomux-rpc, and decoded
// here after, so that a bad or oversized message is a NetError (EBADMESSAGE,
// EMSGSIZE) at either end and never a crash or a torn-down connection.

import c, { type Encoder } from 'compact-encoding'
import { netError } from './errors'
import { MAX_MESSAGE_BYTES } from './protocol'

// compact-encoding's Encoder, without depending on its type export shape.
export interface Encoding<T> {
  preencode(state: c.State, value: T): void
  encode(state: c.State, value: T): void
  decode(state: c.State): T
}

/**
 * Bodies are encoded (and size-checked) by us before they reach protomux-rpc,
 * so it must not encode them again: with a null encoding it puts our buffer
 * straight into its frame, where c.raw would first copy it into a new one
 * (one 1 MiB copy and allocation less per PostFile, GetFile piece and
 * replica copy). Received values are the frame's bytes either way (a view,
 * no copy). protomux-rpc's types do not admit null, hence the cast.
 */
export const PRE_ENCODED = null as unknown as Encoder<unknown>

export function encodeBounded<T>(encoding: Encoding<T>, value: T, what: string): Buffer {
  let buf: Buffer
  try {
    buf = c.encode(encoding, value) as Buffer
  } catch (err) {
    throw netError('EBADMESSAGE', `could not encode ${what}: ${(err as Error).message}`, { cause: err })
  }
  if (buf.byteLength > MAX_MESSAGE_BYTES) {
    throw netError('EMSGSIZE', `${what} of ${buf.byteLength} bytes exceeds ${MAX_MESSAGE_BYTES}`)
  }
  return buf
}

/** The encoded size, from preencode alone (no buffer is allocated). */
export function encodedLength<T>(encoding: Encoding<T>, value: T, what: string): number {
  const state = { start: 0, end: 0, buffer: null } as unknown as c.State
  try {
    encoding.preencode(state, value)
  } catch (err) {
    throw netError('EBADMESSAGE', `could not encode ${what}: ${(err as Error).message}`, { cause: err })
  }
  return state.end
}

export function decodeOrThrow<T>(encoding: Encoding<T>, raw: Buffer, what: string): T {
  try {
    return c.decode(encoding, raw)
  } catch (err) {
    throw netError('EBADMESSAGE', `could not decode ${what}: ${(err as Error).message}`, { cause: err })
  }
}
