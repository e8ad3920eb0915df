// The one poller of the tests, for conditions that announce themselves with no
// event a test can await (a file arriving through another mount, a ring
// settling, a count in `peerstore status`): check, wait a little, check again,
// and fail with `what` once the deadline passes.

import { waitFor as pollUntil, sleep as wait } from '../../lib/common/retry'

export interface WaitOptions {
  /** Give up after this long (default 60 s). */
  timeoutMs?: number
  /** Time between checks (default 100 ms). */
  intervalMs?: number
  /**
   * An error the check throws counts as "not yet" (ENOENT while a change
   * travels to another mount) instead of ending the wait; the last one is
   * quoted when the deadline passes.
   */
  retryErrors?: boolean
  /** false: at the deadline resolve with -1 and let the test go on (its own checks then say what is missing). */
  failOnTimeout?: boolean
}

/**
 * Polls `check` until it is true; resolves with how long that took. A number
 * is the timeout in ms. lib/common's waitFor with the tests' defaults: a
 * longer deadline, and a throw from the check ends the wait unless asked.
 */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  opts: WaitOptions | number = {}
): Promise<number> {
  const {
    timeoutMs = 60_000,
    intervalMs = 100,
    retryErrors = false,
    failOnTimeout = true
  } = typeof opts === 'number' ? { timeoutMs: opts } : opts
  const started = Date.now()
  try {
    await pollUntil(check, { timeoutMs, intervalMs, retryErrors, what })
    return Date.now() - started
  } catch (err) {
    if (!failOnTimeout && (err as { waitedFor?: string }).waitedFor === what) return -1
    throw err
  }
}

/**
 * Lets time pass. Only for a test that must (a slow peer or disk it plays, an
 * age threshold, or checking that something does NOT happen): say why where it
 * is used. To wait for something to happen, use waitFor or the event itself.
 */
export async function sleep(ms: number): Promise<void> {
  await wait(ms)
}
