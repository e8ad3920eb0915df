// The one adapter between fuse-native callbacks and async Volume calls. It
// always answers with a number (fuse-native crashes on `cb(null)`), exactly
// once, and maps exceptions to errno.

import { errnoOf, isKnownErrno } from './errno'

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
  onUnexpectedError?: (op: string, err: unknown) => void
  /** Per-op call counts and total milliseconds, for profiling (PEERSTORE_FUSE_STATS=1). */
  stats?: Map<string, { calls: number; ms: number }>
}

export function makeWrap(opts: WrapOptions = {}) {
  return function wrap(op: string, handler: Handler) {
    const stats = opts.stats
    return (...args: unknown[]): void => {
      const raw = args.pop() as Callback
      const started = stats ? performance.now() : 0
      const cb: Callback = stats
        ? (code, ...values) => {
            const s = stats.get(op) ?? { calls: 0, ms: 0 }
            stats.set(op, s)
            s.calls++
            s.ms += performance.now() - started
            raw(code, ...values)
          }
        : raw
      let result: ReturnType<Handler>
      try {
        result = handler(...args)
      } catch (err) {
        fail(err)
        return
      }
      if (result instanceof Promise) result.then(succeed, fail)
      else succeed(result)

      function succeed(r: Awaited<ReturnType<Handler>>): void {
        if (r instanceof Reply) cb(0, ...r.values)
        else cb(typeof r === 'number' ? r : 0)
      }
      function fail(err: unknown): void {
        if (!isKnownErrno(err)) opts.onUnexpectedError?.(op, err)
        cb(errnoOf(err))
      }
    }
  }
}
