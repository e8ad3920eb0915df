// Volume operations fail with POSIX error codes, which the FUSE adapter maps
// to errno numbers and the CLI prints. The message starts with the code
// ("ENOENT: …"), as it always has: users and tests read it that way.

import { codedError, type PeerStoreError } from '../common/errors'

/** A Volume failure: a PeerStoreError whose message leads with its code. */
export function volumeError(code: string, message?: string): PeerStoreError {
  return codedError(code, message ? `${code}: ${message}` : code)
}

export const fail = (code: string, message?: string): never => {
  throw volumeError(code, message)
}

/**
 * A record that does not verify under its key: forged or damaged. Marked so
 * that a loop waiting for the store to answer stops at once (asking again
 * does not make it verify), while the store's own EIO is still retried.
 */
export function forgedRecord(key: Buffer): PeerStoreError & { forged: true } {
  return Object.assign(volumeError('EIO', `record ${key.toString('hex')} does not verify`), { forged: true as const })
}

export function isForged(err: unknown): boolean {
  return (err as { forged?: unknown } | null)?.forged === true
}
