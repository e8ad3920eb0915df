// The one adapter between fuse-native callbacks and async Volume calls. It
// always answers with a number (fuse-native crashes on `cb(null)`), exactly
// once, and maps exceptions to errno (errno.ts). It answers every op before
// fuse-native's own timeout (tuned-fuse.ts, opDeadlineMs): a handler still
// waiting on the store then gets EIO, and its late result is dropped. Each
// failure that is not a plain POSIX answer is logged once per cause.

import { causeKey, codedError } from '../common/errors'
import { E, errnoOf, isKnownErrno } from './errno'
import { opDeadlineMs } from './tuned-fuse'

/** A successful reply that carries a value (a stat, a handle, a name list...). */
export class Reply {
  constructor(readonly values: unknown[]) {}
}

export const reply = (...values: unknown[]): Reply => new Reply(values)

type Callback = (code: number, ...values: unknown[]) => void
// biome-ignore lint/suspicious/noExplicitAny: each handler takes fuse-native's own argument types
// biome-ignore lint/suspicious/noConfusingVoidType: handlers that only succeed or throw return void
export type Handler = (...args: any[]) => Promise<number | Reply | undefined | void> | number | Reply | undefined | void

export interface WrapOptions {
  /** Logs a failure; called once per cause (op, code and message without its hex ids). */
  onUnexpectedError?: (op: string, err: unknown) => void
  /** Per-op call counts and total milliseconds, for profiling (PEERSTORE_FUSE_STATS=1). */
  stats?: Map<string, { calls: number; ms: number }>
  /** Milliseconds before an op still running is answered EIO (default opDeadlineMs; tests shorten it). */
  deadlineMs?: (op: string) => number
}

/** Causes already logged: bounded, so a long-running mount with many distinct failures keeps logging new ones. */
const MAX_CAUSES = 1000

export function makeWrap(opts: WrapOptions = {}) {
  const logged = new Set<string>()
  const deadlineOf = opts.deadlineMs ?? opDeadlineMs
  const logOnce = (op: string, err: unknown) => {
    const cause = `${op} ${causeKey(err)}`
    if (logged.has(cause)) return
    if (logged.size >= MAX_CAUSES) logged.clear()
    logged.add(cause)
    opts.onUnexpectedError?.(op, err)
  }

  return function wrap(op: string, handler: Handler) {
    const stats = opts.stats
    const deadline = deadlineOf(op)
    return (...args: unknown[]): void => {
      const raw = args.pop() as Callback
      const started = stats ? performance.now() : 0
      let answered = false
      let timer: NodeJS.Timeout | null = null
      const cb: Callback = (code, ...values) => {
        if (answered) return
        answered = true
        if (timer) clearTimeout(timer)
        if (stats) {
          const s = stats.get(op) ?? { calls: 0, ms: 0 }
          stats.set(op, s)
          s.calls++
          s.ms += performance.now() - started
        }
        raw(code, ...values)
      }
      let result: ReturnType<Handler>
      try {
        result = handler(...args)
      } catch (err) {
        fail(err)
        return
      }
      if (result instanceof Promise) {
        timer = setTimeout(() => {
          const err = codedError(
            'ETIMEDOUT',
            `no answer within ${Math.round(deadline / 1000)} s (store slow or unreachable)`
          )
          logOnce(op, err)
          cb(E.EIO)
        }, deadline)
        result.then(succeed, fail)
      } else succeed(result)

      function succeed(r: Awaited<ReturnType<Handler>>): void {
        if (r instanceof Reply) cb(0, ...r.values)
        else cb(typeof r === 'number' ? r : 0)
      }
      function fail(err: unknown): void {
        // A late failure (after the deadline answered) is still worth its log line.
        if (!isKnownErrno(err)) logOnce(op, err)
        cb(errnoOf(err))
      }
    }
  }
}
