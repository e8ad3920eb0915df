// Reusable SharedArrayBuffer-backed buffers for chunks passed between this
// thread and a crypto worker. A cold read used to allocate two fresh MiB per
// MiB read (the copy out of the store and the plaintext); V8 answers that much
// external memory with a full mark-compact every ~30 ms, which cost as much
// CPU as the decryption (perf, docs/fuse.md). A shared buffer reaches the
// worker without a copy and is reused once its job is done.

export class SharedBufferPool {
  private readonly free: SharedArrayBuffer[] = []
  /** Buffers this pool made: only they are taken back. */
  private readonly mine = new WeakSet<SharedArrayBuffer>()

  constructor(
    /** Bytes of each pooled buffer; larger requests get a plain Buffer. */
    readonly capacity: number,
    /** Free buffers kept; more are left to the GC. */
    private readonly maxFree: number
  ) {}

  /** A buffer of `size` bytes (contents undefined), pooled when it fits. */
  take(size: number): Buffer {
    if (size > this.capacity) return Buffer.allocUnsafeSlow(size)
    let sab = this.free.pop()
    if (!sab) {
      sab = new SharedArrayBuffer(this.capacity)
      this.mine.add(sab)
    }
    return Buffer.from(sab, 0, size)
  }

  /** Hands back a buffer from take(); nothing may read or write it afterwards. */
  give(buf: Buffer): void {
    const sab = buf.buffer
    if (!(sab instanceof SharedArrayBuffer) || !this.mine.has(sab)) return
    if (this.free.length < this.maxFree) this.free.push(sab)
  }
}
