// Errors of the transport. Every rejection from PeerNetwork carries a `code`
// that callers switch on; a remote handler's own code (ENOENT, EVERSION, …)
// comes back unchanged, with `remote: true`.

import { codedError, PeerStoreError } from '../common/errors'

export type NetErrorCode =
  /** The peer did not answer in time. */
  | 'ETIMEDOUT'
  /** No authenticated connection to the peer could be made in time, or it failed the capability proof. */
  | 'EPEERUNREACHABLE'
  /** The connection closed while the request was pending, or the network was closed. */
  | 'ECHANNELCLOSED'
  /** The request or response is larger than MAX_MESSAGE_BYTES. */
  | 'EMSGSIZE'
  /** A message could not be decoded (either end). */
  | 'EBADMESSAGE'
  /** The remote has no handler for the method. */
  | 'EUNKNOWNMETHOD'
  /** The remote has too many requests of ours queued. */
  | 'EBUSY'
  /** The remote handler failed without a code of its own. */
  | 'EREMOTE'

/** A transport error: a PeerStoreError with `remote` true when the code and message come from the remote handler. */
export type NetError = PeerStoreError & { readonly remote: boolean }

export function netError(code: string, message: string, opts: { remote?: boolean; cause?: unknown } = {}): NetError {
  return codedError(code, message, { remote: opts.remote ?? false }, { cause: opts.cause })
}

function isNetError(err: unknown): err is NetError {
  return err instanceof PeerStoreError && typeof (err as { remote?: unknown }).remote === 'boolean'
}

interface RpcErrorLike {
  code?: unknown
  message?: unknown
  cause?: { code?: unknown; message?: unknown }
}

/** Maps a protomux-rpc rejection to a NetError, restoring the remote handler's code and message. */
export function fromRpcError(err: unknown, method: string): NetError {
  if (isNetError(err)) return err
  const e = (err ?? {}) as RpcErrorLike
  const message = typeof e.message === 'string' ? e.message : String(err)
  switch (e.code) {
    case 'TIMEOUT_EXCEEDED':
      return netError('ETIMEDOUT', `${method}: ${message}`, { cause: err })
    case 'CHANNEL_CLOSED':
    case 'CHANNEL_DESTROYED':
      return netError('ECHANNELCLOSED', `${method}: ${message}`, { cause: err })
    case 'UNKNOWN_METHOD':
      return netError('EUNKNOWNMETHOD', `${method}: ${message}`, { cause: err, remote: true })
    case 'DECODE_ERROR':
    case 'ENCODE_ERROR':
      return netError('EBADMESSAGE', `${method}: ${message}`, { cause: err, remote: true })
    case 'REQUEST_ERROR': {
      const cause = e.cause ?? {}
      const code = typeof cause.code === 'string' && cause.code !== '' ? cause.code : 'EREMOTE'
      const remoteMessage = typeof cause.message === 'string' ? cause.message : message
      return netError(code, remoteMessage, { cause: err, remote: true })
    }
    default:
      return netError('ECHANNELCLOSED', `${method}: ${message}`, { cause: err })
  }
}

/** What crosses the wire for a handler failure: only a string code and message, nothing else of the error. */
export function toWireError(err: unknown): PeerStoreError {
  const e = (err ?? {}) as { code?: unknown; message?: unknown }
  const code = typeof e.code === 'string' && e.code !== '' ? e.code : 'EREMOTE'
  const message = typeof e.message === 'string' ? e.message : String(err)
  return codedError(code, message)
}
