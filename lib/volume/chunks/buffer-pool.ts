// Reusable buffers for chunks passed between this thread and a crypto
// worker. Fresh 1 MiB buffers per chunk (a copy out of the store, each
// plaintext, each ciphertext) are external memory to V8, which answers a few
// dozen MiB of it with a full mark-compact: ~70 per GiB read or written, as
// much CPU as the encryption (perf, docs/fuse.md). Reused buffers cost none.
//
// Two kinds, as a worker needs them:
// - shared (SharedArrayBuffer): the worker reads or writes it in place while
//   this thread keeps it (chunks to open, opened plaintext);
// - plain (ArrayBuffer): moved to the worker with a job and moved back with
//   its result (sealed chunks on their way to lmdb, which cannot write from
//   shared memory).

export class BufferPool {
  private readonly free: ArrayBufferLike[] = []
  /** Shared buffers this pool made (a moved plain buffer comes back as a new object, so only shared ones are checked). */
  private readonly mine = new WeakSet<ArrayBufferLike>()

  constructor(
    /** Bytes of each pooled buffer; larger requests get a fresh one. */
    readonly capacity: number,
    /** Free buffers kept; more are left to the GC. */
    private readonly maxFree: number,
    private readonly shared: boolean
  ) {}

  /** A buffer of `size` bytes (contents undefined) over pooled memory when it fits. */
  take(size: number = this.capacity): Buffer {
    if (size > this.capacity) return Buffer.allocUnsafeSlow(size)
    let memory = this.free.pop()
    if (!memory) {
      memory = this.shared ? new SharedArrayBuffer(this.capacity) : new ArrayBuffer(this.capacity)
      if (this.shared) this.mine.add(memory)
    }
    return Buffer.from(memory, 0, size)
  }

  /** Hands back the memory of a buffer from take(); nothing may read or write it afterwards. */
  give(buf: Buffer): void {
    const memory = buf.buffer
    if (memory.byteLength !== this.capacity || memory instanceof SharedArrayBuffer !== this.shared) return
    if (this.shared && !this.mine.has(memory)) return
    if (this.free.length < this.maxFree) this.free.push(memory)
  }
}
