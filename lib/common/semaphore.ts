// The one concurrency limiter: at most `limit` tasks run at once, the rest
// wait in FIFO order. With `maxWaiting` the queue is bounded and a task over
// it fails at once with EBUSY (a peer must not be able to queue unbounded
// work on us); without it the queue is unbounded (our own background work,
// which is bounded by its callers). A Semaphore of 1 is a mutex.

import { codedError } from './errors'

export class Semaphore {
  private active = 0
  private readonly waiting: (() => void)[] = []

  constructor(
    readonly limit: number,
    private readonly maxWaiting = Number.POSITIVE_INFINITY
  ) {
    if (!(limit >= 1)) throw new RangeError('a semaphore needs a limit of at least 1')
  }

  /** Tasks running or waiting. */
  get busy(): number {
    return this.active + this.waiting.length
  }

  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    await this.acquire()
    try {
      return await fn()
    } finally {
      this.release()
    }
  }

  private async acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++
      return
    }
    if (this.waiting.length >= this.maxWaiting) throw codedError('EBUSY', 'too many requests in flight')
    // release() hands its slot straight to us, so `active` is not touched here.
    await new Promise<void>((resolve) => this.waiting.push(resolve))
  }

  private release(): void {
    const next = this.waiting.shift()
    if (next) next()
    else this.active--
  }
}

/** A FIFO async lock: state that spans an await is guarded by one of these. */
export class Mutex extends Semaphore {
  constructor() {
    super(1)
  }

  /** Held or waited for. */
  get locked(): boolean {
    return this.busy > 0
  }
}

/** One mutex per key, dropped when idle so the map does not grow without bound. */
export class KeyedMutex {
  private readonly locks = new Map<string, Mutex>()

  async run<T>(key: string, fn: () => Promise<T> | T): Promise<T> {
    let lock = this.locks.get(key)
    if (!lock) {
      lock = new Mutex()
      this.locks.set(key, lock)
    }
    try {
      return await lock.run(fn)
    } finally {
      if (!lock.locked && this.locks.get(key) === lock) this.locks.delete(key)
    }
  }
}

/**
 * Runs fn over items with at most `limit` calls in flight. Every item is
 * tried; the first failure is thrown once all have settled.
 */
export async function runLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const gate = new Semaphore(limit)
  let firstError: unknown = null
  await Promise.all(
    items.map((item) =>
      gate.run(fn.bind(null, item)).catch((err) => {
        firstError ??= err
      })
    )
  )
  if (firstError) throw firstError
}
