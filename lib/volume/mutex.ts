// A FIFO async lock. FUSE operations on one file interleave in JS (the
// libfuse thread pool keeps several in flight), so state that spans an await
// is guarded by one of these.

export class Mutex {
  private tail: Promise<void> = Promise.resolve()
  private held = 0

  get locked(): boolean {
    return this.held > 0
  }

  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    const prev = this.tail
    let release!: () => void
    this.tail = new Promise<void>((resolve) => {
      release = resolve
    })
    this.held++
    try {
      await prev
      return await fn()
    } finally {
      this.held--
      release()
    }
  }
}

/** One Mutex per key, dropped when idle so the map does not grow without bound. */
export class KeyedMutex {
  private locks = new Map<string, Mutex>()

  async run<T>(key: string, fn: () => Promise<T> | T): Promise<T> {
    let m = this.locks.get(key)
    if (!m) {
      m = new Mutex()
      this.locks.set(key, m)
    }
    try {
      return await m.run(fn)
    } finally {
      if (!m.locked && this.locks.get(key) === m) this.locks.delete(key)
    }
  }
}
