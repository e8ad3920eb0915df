// Errors to the negative errno numbers libfuse expects. Anything that is not
// a known POSIX code becomes EIO, and is logged: it is a bug or a store failure.

import os from 'node:os'

const ERRNO = os.constants.errno as Record<string, number>

/** Codes of our own that have a natural errno. */
const ALIASES: Record<string, string> = {
  ECONFLICT: 'EIO',
  ENOTSUP: 'EOPNOTSUPP',
  ERR_OUT_OF_RANGE: 'EINVAL'
}

export function errnoOf(err: unknown): number {
  const code = (err as { code?: unknown })?.code
  if (typeof code === 'string') {
    const name = ALIASES[code] ?? code
    const n = ERRNO[name]
    if (typeof n === 'number') return -n
  }
  return -ERRNO.EIO
}

export function isKnownErrno(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code
  return typeof code === 'string' && typeof ERRNO[ALIASES[code] ?? code] === 'number' && code !== 'EIO'
}

export const E = {
  EPERM: -ERRNO.EPERM,
  EROFS: -ERRNO.EROFS,
  ENOENT: -ERRNO.ENOENT,
  EIO: -ERRNO.EIO,
  EBADF: -ERRNO.EBADF,
  EISDIR: -ERRNO.EISDIR,
  EINVAL: -ERRNO.EINVAL,
  ENODATA: -ERRNO.ENODATA,
  ENOTSUP: -ERRNO.EOPNOTSUPP
}
