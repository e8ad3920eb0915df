// How a mount says that it works offline and how much waits for the ring:
// one phrase for the status line, `peerstore status` and the
// user.peerstore.status xattr, so that the three never disagree.

/** ' · OFFLINE …' while the store does not answer or a crashed session's changes wait; '' otherwise. */
export function offlineNote(s: {
  offline: boolean
  offlineSinceMs: number
  dirty: number
  replayWaiting: boolean
  replayOps: number
}): string {
  const parts: string[] = []
  if (s.offline) {
    parts.push(`OFFLINE for ${Math.round(s.offlineSinceMs / 1000)} s: ${s.dirty} changed records wait in the journal`)
  }
  if (s.replayWaiting) parts.push(`last session's changes not all stored yet (${s.replayOps} ops wait)`)
  return parts.length > 0 ? ` · ${parts.join(' · ')}` : ''
}
