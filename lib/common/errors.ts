// The one error type of PeerStore. Every failure a caller may act on carries
// a `code` (POSIX-style, as Node's own errors do), so callers switch on the
// code, not on a class or a message; the FUSE adapter maps codes to errno in
// one table (lib/fuse/errno.ts) and the CLI prints the message.
//
// Codes in use, by the layer that raises them first:
// - Volume and FUSE: ENOENT, EEXIST, ENOTDIR, EISDIR, ENOTEMPTY, EINVAL,
//   EACCES, EPERM, EROFS, ENAMETOOLONG, EXDEV, EIO, ENOSPC, ENODATA, EBADF.
// - Value store / ring client: EUNSURE (holders did not all answer; "absent"
//   cannot be claimed), ECONFLICT (a newer record won), EFUTURE, EFORK.
// - Node store: ESTALE, ECONFLICT, EFORK, EFUTURE, ENOSPC, EIO, EBADHASH.
// - Transport: ETIMEDOUT, EPEERUNREACHABLE, ECHANNELCLOSED, EMSGSIZE,
//   EBADMESSAGE, EUNKNOWNMETHOD, EBUSY, EREMOTE (with `remote: true` when the
//   code came back from the peer's handler).
// - CLI and configuration: EUSAGE, ECONFIG.
// - Crypto: EDECRYPT, ESHAREKEY.

/**
 * The code of a read that could not tell whether a value exists: some of the
 * machines responsible for it did not answer, and none that did had it. Never
 * the same as "absent" (getRecord's null). Raised by lib/node's ring client,
 * switched on by lib/volume (ValueStore's contract): one name for both.
 */
export const UNSURE = 'EUNSURE'

export class PeerStoreError extends Error {
  readonly code: string

  constructor(code: string, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.code = code
  }

  override get name(): string {
    return 'PeerStoreError'
  }
}

/**
 * A PeerStoreError with extra fields callers read (`current` on a conflict,
 * `remote` on a transport error), typed so that the caller sees them.
 */
export function codedError<Extra extends object = object>(
  code: string,
  message: string,
  extra?: Extra,
  opts: { cause?: unknown } = {}
): PeerStoreError & Extra {
  const err = new PeerStoreError(code, message, opts)
  return extra ? Object.assign(err, extra) : (err as PeerStoreError & Extra)
}

/** The `code` of any thrown value (ours, Node's or a library's), if it has one. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

export function hasCode(err: unknown, ...codes: string[]): boolean {
  const code = errorCode(err)
  return code !== undefined && codes.includes(code)
}

/**
 * What makes two failures "the same cause" for logging once: the code and
 * the message with keys, ids and counts folded (one chunk's failure reads
 * like the next one's, "lookup of c65bde72 failed after 2 hops" like "…0 hops").
 */
export function causeKey(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null
  const message = String(e?.message ?? err).replace(/\b[0-9a-f]{6,}\b|\d+/gi, '#')
  return `${String(e?.code ?? '')} ${message}`
}
