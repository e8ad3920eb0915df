// The one retry helper: exponential backoff with jitter and a cap, a
// deadline, and a sleep that close() (an AbortSignal) can cut short. Jitter
// spreads the retries of many chunks (and of many machines after one outage)
// instead of sending them in lock-step. Every loop that tries again, or polls
// until something holds, goes through retry() or waitFor() below.

import { codedError } from './errors'

export interface BackoffOptions {
  /** The first delay (attempt 0), before jitter. */
  baseMs?: number
  /** No delay is longer than this. */
  capMs?: number
  /** Uniform [0, 1); tests pass a fixed one. */
  random?: () => number
}

export const DEFAULT_BACKOFF = { baseMs: 200, capMs: 30_000 }

/**
 * The delay before retry number `attempt` (0-based): min(cap, base·2^attempt),
 * of which a random half is taken off ("equal jitter": never under half the
 * step, so a failing store is not hammered, and never in lock-step).
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}): number {
  const base = opts.baseMs ?? DEFAULT_BACKOFF.baseMs
  const cap = opts.capMs ?? DEFAULT_BACKOFF.capMs
  const step = Math.min(cap, base * 2 ** Math.min(attempt, 30))
  const random = opts.random ?? Math.random
  return Math.round(step / 2 + (random() * step) / 2)
}

/**
 * Waits `ms`; resolves false at once when `signal` aborts (close), true
 * otherwise. With `unref` the timer does not keep the process alive (a
 * background retry); without it, it does (someone is waiting on it).
 */
export function sleep(ms: number, signal?: AbortSignal, opts: { unref?: boolean } = {}): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false)
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer)
      resolve(false)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve(true)
    }, ms)
    if (opts.unref) timer.unref()
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Waits for `p` at most `ms`: true if it fulfilled in time, false if it
 * rejected (reported to `onError`) or is still running (it goes on, and a
 * later rejection is dropped: shutdown has moved on without it).
 */
export async function settlesWithin(p: Promise<unknown>, ms: number, onError?: (err: Error) => void): Promise<boolean> {
  let expired = false
  const outcome = p.then(
    () => true,
    (err) => {
      if (!expired) onError?.(err as Error)
      return false
    }
  )
  const controller = new AbortController()
  const result = await Promise.race([outcome, sleep(ms, controller.signal).then(() => null)])
  controller.abort()
  if (result === null) {
    expired = true
    return false
  }
  return result
}

/**
 * Waits for `p` while it makes progress: true if it fulfilled; false if it
 * rejected (reported to `onError`), if `progress()` (any number that changes
 * when work gets done) stayed the same for `idleMs`, or after `maxMs`.
 * Shutdown with the ring down ends after `idleMs`; with a slow but working
 * ring it lets the uploads finish.
 */
export async function settlesWhileProgressing(
  p: Promise<unknown>,
  opts: { idleMs: number; maxMs: number; progress: () => number; onError?: (err: Error) => void }
): Promise<boolean> {
  let expired = false
  let settled: boolean | null = null
  const outcome = p.then(
    () => {
      settled = true
    },
    (err) => {
      settled = false
      if (!expired) opts.onError?.(err as Error)
    }
  )
  const started = Date.now()
  let last = opts.progress()
  let lastChange = started
  const step = Math.max(10, Math.min(250, opts.idleMs / 4))
  while (settled === null) {
    const controller = new AbortController()
    await Promise.race([outcome, sleep(step, controller.signal)])
    controller.abort()
    if (settled !== null) break
    const now = Date.now()
    const value = opts.progress()
    if (value !== last) {
      last = value
      lastChange = now
    }
    if (now - lastChange >= opts.idleMs || now - started >= opts.maxMs) {
      expired = true
      return false
    }
  }
  return settled === true
}

export interface RetryOptions extends BackoffOptions {
  /** Give up after this many attempts (default: no limit, the deadline decides). */
  attempts?: number
  /** Give up once this many ms have passed since the first attempt (default: no limit). */
  deadlineMs?: number
  /** Stop waiting and reject with the last error (or EABORTED) when this aborts. */
  signal?: AbortSignal
  /** Whether an error is worth another attempt (default: every error). */
  retryIf?: (err: unknown) => boolean
  /** Told of each failure that will be retried, with the delay before the next attempt. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void
  /** Let the process exit while waiting between attempts (background work). */
  unref?: boolean
}

/**
 * Calls fn until it resolves, waiting backoffDelay() between attempts.
 * Rejects with the last error when it is not retryable, when the attempts or
 * the deadline run out (a wait that would pass the deadline is not started),
 * or when `signal` aborts.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const started = Date.now()
  for (let attempt = 0; ; attempt++) {
    if (opts.signal?.aborted) throw codedError('EABORTED', 'retry aborted')
    try {
      return await fn(attempt)
    } catch (err) {
      if (opts.retryIf && !opts.retryIf(err)) throw err
      if (opts.attempts !== undefined && attempt + 1 >= opts.attempts) throw err
      const delay = backoffDelay(attempt, opts)
      if (opts.deadlineMs !== undefined && Date.now() - started + delay > opts.deadlineMs) throw err
      opts.onRetry?.(err, attempt, delay)
      if (!(await sleep(delay, opts.signal, { unref: opts.unref }))) throw err
    }
  }
}

export interface WaitForOptions {
  /** Fail with ETIMEDOUT after this many ms (default 10 s). */
  timeoutMs?: number
  /** How often to check (default 50 ms). */
  intervalMs?: number
  signal?: AbortSignal
  /** Names what was waited for in the ETIMEDOUT message. */
  what?: string
  /**
   * Whether a throw from `check()` counts as "not yet" (default true: the
   * last one is quoted and is the cause when the time runs out); false ends
   * the wait with that error at once.
   */
  retryErrors?: boolean
}

/**
 * Resolves with the first truthy value of `check()` (which may be async);
 * rejects with ETIMEDOUT (with `waitedFor` set to `what`, and the last error
 * as its cause) when the time runs out.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  opts: WaitForOptions = {}
): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const timeoutMs = opts.timeoutMs ?? 10_000
  const intervalMs = opts.intervalMs ?? 50
  const what = opts.what ?? 'a condition'
  const started = Date.now()
  let lastError: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value as Exclude<T, false | null | undefined | 0 | ''>
    } catch (err) {
      if (opts.retryErrors === false) throw err
      lastError = err
    }
    const left = timeoutMs - (Date.now() - started)
    if (left <= 0 || opts.signal?.aborted) {
      const last = lastError ? ` (last error: ${(lastError as Error).message ?? lastError})` : ''
      throw codedError(
        'ETIMEDOUT',
        `timed out after ${timeoutMs} ms waiting for ${what}${last}`,
        { waitedFor: what },
        { cause: lastError }
      )
    }
    await sleep(Math.min(intervalMs, left), opts.signal)
  }
}
