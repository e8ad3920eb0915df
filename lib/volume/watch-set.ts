// The loaded inodes worth re-reading when another device changed the tree:
// the ones this mount used recently (looked up, listed, stat'ed, read) and
// the ones held open. Bounded twice, by count (least recently used go first)
// and by age, so the cost of keeping a mount fresh does not grow with the
// number of inodes it ever loaded. An inode that falls out is re-read when it
// is used again (it comes back in, and its beacon mark is behind).

export class WatchSet<T> {
  /** Insertion order is use order: the first key is the least recently used. */
  private recent = new Map<T, number>()
  private open = new Map<T, number>()

  constructor(
    private readonly limit: number,
    private readonly windowMs: number
  ) {}

  /** Records a use; cheap enough for every lookup. */
  note(item: T, now = Date.now()): void {
    this.recent.delete(item)
    this.recent.set(item, now)
    if (this.recent.size > this.limit) this.recent.delete(this.recent.keys().next().value as T)
  }

  /** Held open (a file handle, the root): watched whatever its age, until released as often. */
  opened(item: T): void {
    this.open.set(item, (this.open.get(item) ?? 0) + 1)
  }

  released(item: T): void {
    const n = (this.open.get(item) ?? 0) - 1
    if (n > 0) this.open.set(item, n)
    else this.open.delete(item)
  }

  /** Held open now (share-rekey.ts refuses to replace an open file). */
  isOpen(item: T): boolean {
    return this.open.has(item)
  }

  forget(item: T): void {
    this.recent.delete(item)
    this.open.delete(item)
  }

  /** What to watch now: open items, then those used within the window. */
  items(now = Date.now()): T[] {
    for (const [item, at] of this.recent) {
      if (at >= now - this.windowMs) break
      this.recent.delete(item)
    }
    const out = [...this.open.keys()]
    for (const item of this.recent.keys()) if (!this.open.has(item)) out.push(item)
    return out
  }

  get size(): number {
    return this.recent.size + this.open.size
  }
}
