// The pjdfstest assertions the mount is known to fail, each with the reason.
// Kept short on purpose: an entry belongs here only when FUSE or the kernel
// (not PeerStore) decides the answer. docs/posix.md explains each one.
// Ranges are inclusive: 'utimensat/00.t#12-31' is 20 assertions.

export interface KnownFailure {
  assertions: string[]
  why: string
}

// Empty: every one of the suite's 8,798 assertions passes on the mount (28
// are marked TODO by the suite itself and count as passed, as in `prove`).
export const KNOWN_FAILURES: KnownFailure[] = []

/** Every assertion id the list names ('chmod/00.t#22'), ranges expanded. */
export function knownFailureIds(list: readonly KnownFailure[] = KNOWN_FAILURES): Set<string> {
  const ids = new Set<string>()
  for (const entry of list) {
    for (const spec of entry.assertions) {
      const m = /^(.+)#(\d+)(?:-(\d+))?$/.exec(spec)
      if (!m) throw new Error(`pjdfstest-known: bad entry ${spec}`)
      for (let n = Number(m[2]); n <= Number(m[3] ?? m[2]); n++) ids.add(`${m[1]}#${n}`)
    }
  }
  return ids
}
