// Open-file handles. libfuse passes a uint32 `fh` back on every fd operation;
// 0 means "no handle", so ids start at 1. A handle holds the inode itself,
// not its path, so a file renamed or unlinked while open keeps working.

import type { Inode, Volume } from '../volume/volume'

const O_ACCMODE = 3
const O_WRONLY = 1
const O_RDWR = 2
const O_APPEND = 0o2000

export interface Handle {
  inode: Inode
  flags: number
  writable: boolean
  append: boolean
}

export class HandleTable {
  private handles = new Map<number, Handle>()
  private next = 1

  open(inode: Inode, flags: number): number {
    const acc = flags & O_ACCMODE
    const handle: Handle = {
      inode,
      flags,
      writable: acc === O_WRONLY || acc === O_RDWR,
      append: (flags & O_APPEND) !== 0
    }
    while (this.handles.has(this.next) || this.next === 0) this.next = (this.next + 1) % 0x100000000
    const fh = this.next
    this.next = (this.next + 1) % 0x100000000
    this.handles.set(fh, handle)
    return fh
  }

  get(fh: number): Handle | undefined {
    return this.handles.get(fh)
  }

  release(fh: number): Handle | undefined {
    const h = this.handles.get(fh)
    this.handles.delete(fh)
    return h
  }

  /**
   * An inode held open here that another computer deleted, last seen at
   * `path`: fstat on its descriptor reaches the adapter by path only.
   */
  openDeletedAt(path: string, volume: Pick<Volume, 'pathOf'>): Inode | null {
    for (const h of this.handles.values()) {
      if (h.inode.remoteDeleted && volume.pathOf(h.inode) === path) return h.inode
    }
    return null
  }

  get size(): number {
    return this.handles.size
  }
}
