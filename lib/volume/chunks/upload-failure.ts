// Why uploads are failing, told once: the state behind the status line,
// `peerstore status` and the per-file xattr, and the log that names each
// cause of failure once until uploads succeed again (a ring outage must not
// print one line per chunk and retry).

import { causeKey } from '../../common/errors'

/** Why uploads are failing now: for the status line, `peerstore status` and the per-file xattr. */
export interface UploadFailure {
  /** The store's code (ENOSPC, EREPLICAS, EUNAVAILABLE, ETIMEDOUT…). */
  code: string
  message: string
  /** When uploads started failing (ms): the first failure since the last success. */
  since: number
}

export class UploadFailures {
  /** Null while uploads succeed (or none is pending). */
  current: UploadFailure | null = null
  /** Failure causes already logged since the last successful upload. */
  private readonly loggedCauses = new Set<string>()

  constructor(private readonly log: (line: string) => void) {}

  /**
   * Records why an upload failed. Logs the cause unless it was logged
   * already since the last success or `quiet` (closing); `situation`
   * describes the queue for that line. Returns the chunk's own error
   * ("CODE: message") and whether this call logged.
   */
  note(err: unknown, quiet: boolean, situation: () => string): { error: string; logged: boolean } {
    const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'EIO'
    const message = String((err as Error)?.message ?? err)
    const error = `${code}: ${message}`
    this.current = { code, message, since: this.current?.since ?? Date.now() }
    const cause = causeKey(err)
    if (this.loggedCauses.has(cause) || quiet) return { error, logged: false }
    this.loggedCauses.add(cause)
    this.log(`uploads failing (${situation()}, kept on this machine and retried with backoff): ${error}`)
    return { error, logged: true }
  }

  /** An upload got through: the failure (if any) is over. */
  noteSuccess(): void {
    if (!this.current) return
    if (this.loggedCauses.size > 0) this.log(`uploads resumed after failing for ${ago(this.current.since)}`)
    this.current = null
    this.loggedCauses.clear()
  }
}

/** "12 s" or "3 min" since `t`, for log and status lines. */
export function ago(t: number): string {
  const s = Math.max(0, Math.round((Date.now() - t) / 1000))
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`
}
