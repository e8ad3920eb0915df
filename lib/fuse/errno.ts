// Errors to the negative errno numbers libfuse expects: the one table from
// every code the layers below throw to the errno an application sees.
//
// Internal codes share names with errnos that mean something else to a
// program (the store's ESTALE is a record version race, not "stale file
// handle"; the transport's EBUSY is its peer limiter, not "device busy"), so
// nothing passes through by name: a POSIX code passes only when it is in
// PASS (codes a file system may return, thrown by the Volume or by node:fs on
// the local disk), an internal code is translated by INTERNAL, and anything
// else is EIO. Internal and unknown codes are worth a log line (wrap.ts logs
// each cause once); a POSIX code is the normal answer to a program's mistake.

import os from 'node:os'

const ERRNO = os.constants.errno as Record<string, number>

/** POSIX codes that reach the application as themselves. */
const PASS = new Set([
  'EPERM',
  'ENOENT',
  'EIO',
  'EBADF',
  'EAGAIN',
  'EACCES',
  'EEXIST',
  'EXDEV',
  'ENOTDIR',
  'EISDIR',
  'EINVAL',
  'EFBIG',
  'ENOSPC',
  'EROFS',
  'EMLINK',
  'ERANGE',
  'ENAMETOOLONG',
  'ENOSYS',
  'ENOTEMPTY',
  'ELOOP',
  'ENODATA',
  'EOPNOTSUPP',
  'EDQUOT',
  'E2BIG'
])

/**
 * Internal codes (lib/storage, lib/net, lib/node, lib/crypto, lib/volume) and
 * what an application gets for each. Store and ring failures are EIO ("the
 * device failed this request"); a full disk is ENOSPC; a local limit that
 * clears by itself is EAGAIN.
 */
export const INTERNAL: Readonly<Record<string, string>> = {
  // lib/volume, lib/storage, lib/node: record writes
  ECONFLICT: 'EIO', // a record write still lost its compare-and-swap after the merges
  ESTALE: 'EIO', // a record version at or below the stored one
  EREPLICAS: 'EIO', // not every replica could be reached for a write
  EUNAVAILABLE: 'EIO', // no machine of the ring is reachable
  ECLOSED: 'EIO', // the store or the chunk uploader is closed (unmount under way)
  EKIND: 'EIO',
  EBADKEY: 'EIO',
  EBADRECORD: 'EIO',
  EBADSIG: 'EIO',
  ETOOBIG: 'EFBIG', // one value above the store's per-value cap
  // lib/net: the transport
  ETIMEDOUT: 'EIO', // a machine did not answer in time (not ETIMEDOUT: a file op has no connection)
  EPEERUNREACHABLE: 'EIO',
  ECHANNELCLOSED: 'EIO',
  ECONNRESET: 'EIO',
  EMSGSIZE: 'EIO', // a message above the transport's cap: a limit of ours, not the program's
  EBADMESSAGE: 'EIO',
  EUNKNOWNMETHOD: 'EIO',
  EREMOTE: 'EIO',
  EBUSY: 'EAGAIN', // the peer's request limiter: it clears by itself
  ELIMIT: 'EAGAIN',
  // lib/crypto
  EHASH: 'EIO', // a chunk failed its hash check
  EBADMSG: 'EIO', // a chunk does not decrypt for its file
  EWORKER: 'EIO', // a crypto worker died
  // the Volume's own names
  ENOTSUP: 'EOPNOTSUPP',
  ERR_OUT_OF_RANGE: 'EINVAL'
}

/** The errno name an application gets for `code`: a POSIX one unchanged, an internal one translated, else EIO. */
export function errnoName(code: unknown): string {
  if (typeof code !== 'string') return 'EIO'
  if (Object.hasOwn(INTERNAL, code)) return INTERNAL[code]
  if (PASS.has(code) && typeof ERRNO[code] === 'number') return code
  return 'EIO'
}

export function errnoOf(err: unknown): number {
  return -ERRNO[errnoName((err as { code?: unknown })?.code)]
}

/**
 * A POSIX answer a program can act on (ENOENT, EEXIST…), not a failure to
 * log. EIO, ENOSPC and EDQUOT are failures of the store or the disk; an
 * internal or unknown code is logged with its cause.
 */
export function isKnownErrno(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code
  return typeof code === 'string' && PASS.has(code) && !LOGGED.has(code)
}

/** POSIX codes that still say something failed below the program: logged once per cause. */
const LOGGED = new Set(['EIO', 'ENOSPC', 'EDQUOT', 'EAGAIN'])

export const E = {
  EPERM: -ERRNO.EPERM,
  EROFS: -ERRNO.EROFS,
  ENOENT: -ERRNO.ENOENT,
  EIO: -ERRNO.EIO,
  EBADF: -ERRNO.EBADF,
  EISDIR: -ERRNO.EISDIR,
  EINVAL: -ERRNO.EINVAL,
  ENODATA: -ERRNO.ENODATA,
  ENOTSUP: -ERRNO.EOPNOTSUPP,
  EAGAIN: -ERRNO.EAGAIN,
  ENOSPC: -ERRNO.ENOSPC
}
