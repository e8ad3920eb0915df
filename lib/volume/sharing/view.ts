// The recipient's read-only view of other users' shares, mounted at
// /@shared: /@shared/<sharer>/<name>/… where <sharer> is `user-` and the first
// 12 hex digits of the sharer's user key, and <name> the name the sharer
// gave the file or folder (`name (2)` when one sharer shares two of that
// name). Path in, stat/names/bytes out, like the Volume, for the FUSE adapter.
//
// Nothing here can write: the records are the sharer's (signed with their
// key) and every write answers EROFS. What is read is re-read when it is
// used after `ttlMs` (a lookup, a listing, an open), so the sharer's later
// changes show at the next use; the kernel's 1 s caches come on top.

import fs from 'node:fs'
import { recordKey, verifyRecord } from '../../crypto/record'
import type { ChunkStore } from '../chunks/chunk-store'
import { fail, forgedRecord } from '../errors'
import { FileData } from '../file-data'
import { decryptState, type InodeState, inodeNumber, isSpecialType, type Stat, statOf, TYPE_BITS } from '../inode'
import { acceptedPath, readAccepted } from './accepted'
import { SHARED_DIR_NAME } from './names'
import { readInbox } from './records'
import type { Capability } from './token'
import type { ValueStore } from '../value-store'
import type { VolumeKeys } from '../volume-keys'

const WRITE_BITS = 0o222
/** Handles of this view are numbered from here, apart from the Volume's (fuse/handles.ts counts from 1). */
export const SHARED_HANDLE_BASE = 0x80000000

export interface SharedViewOptions {
  home: string
  store: ValueStore
  keys: VolumeKeys
  chunks: ChunkStore
  ttlMs?: number
  onError?: (err: Error) => void
}

/** One inode of a sharer, as this user last read it. */
export class SharedNode {
  checkedAt = 0
  data: FileData | null = null
  constructor(
    readonly owner: Buffer,
    readonly id: Buffer,
    readonly key: Buffer,
    public state: InodeState,
    public version: number
  ) {}
}

interface Sharer {
  owner: Buffer
  label: string
  /** name under /@shared/<label> → capability */
  shares: Map<string, Capability>
  checkedAt: number
}

export class SharedView {
  private readonly opts: SharedViewOptions
  private readonly ttlMs: number
  private readonly uid = process.getuid?.() ?? 0
  private readonly gid = process.getgid?.() ?? 0
  private readonly started = Date.now()
  private nodes = new Map<string, SharedNode>()
  private sharers = new Map<string, Sharer>()
  private acceptedMtime = -1
  private handles = new Map<number, SharedNode>()
  private nextHandle = SHARED_HANDLE_BASE
  private lastError = ''

  constructor(opts: SharedViewOptions) {
    this.opts = opts
    this.ttlMs = opts.ttlMs ?? 1000
  }

  /** True for /@shared and everything below it. */
  owns(p: string): boolean {
    const first = p.split('/').find((s) => s.length > 0)
    return first === SHARED_DIR_NAME
  }

  ownsHandle(fh: number): boolean {
    return fh >= SHARED_HANDLE_BASE
  }

  /** /@shared shows in the root once a share was accepted. */
  visible(): boolean {
    this.reloadAccepted()
    return this.sharers.size > 0
  }

  /** Re-reads shares.json when it changed (`peerstore accept` while mounted). */
  private reloadAccepted(): void {
    const st = fs.statSync(acceptedPath(this.opts.home), { throwIfNoEntry: false })
    const mtime = st?.mtimeMs ?? 0
    if (mtime === this.acceptedMtime) return
    this.acceptedMtime = mtime
    for (const [hex, caps] of st ? readAccepted(this.opts.home) : new Map<string, Capability[]>()) {
      const owner = Buffer.from(hex, 'hex')
      const known = this.sharers.get(hex)
      // Until the inbox is read (next use), the accepted capabilities are what we have.
      const sharer = known ?? { owner, label: `user-${hex.slice(0, 12)}`, shares: nameShares(caps), checkedAt: 0 }
      sharer.checkedAt = 0
      this.sharers.set(hex, sharer)
    }
  }

  private async sharer(label: string): Promise<Sharer> {
    this.reloadAccepted()
    const sharer = [...this.sharers.values()].find((s) => s.label === label)
    if (!sharer) fail('ENOENT')
    await this.refreshSharer(sharer!)
    return sharer!
  }

  private async refreshSharer(s: Sharer): Promise<void> {
    const now = Date.now()
    if (now - s.checkedAt < this.ttlMs) return
    const fromInbox = await readInbox(this.opts.store, this.opts.keys, s.owner).catch((err: Error) => {
      // Once per distinct failure, not once a second while the ring is unreachable.
      if (err.message !== this.lastError) this.opts.onError?.(err)
      this.lastError = err.message
      return undefined
    })
    if (fromInbox !== undefined) this.lastError = ''
    // No inbox published: the accepted tokens; an unreachable ring: what we showed last.
    if (fromInbox === null) s.shares = nameShares(readAccepted(this.opts.home).get(s.owner.toString('hex')) ?? [])
    else if (fromInbox !== undefined) s.shares = nameShares(fromInbox)
    s.checkedAt = now
  }

  /** The node of a capability or a directory entry, re-read when older than the TTL. */
  private async load(owner: Buffer, id: Buffer, key: Buffer): Promise<SharedNode> {
    const hex = `${owner.toString('hex')}:${id.toString('hex')}`
    const cached = this.nodes.get(hex)
    const now = Date.now()
    if (cached && now - cached.checkedAt < this.ttlMs) return cached
    const rk = recordKey(owner, id)
    const rec = await this.opts.store.getRecord(rk)
    if (rec && !verifyRecord(rec, rk)) throw forgedRecord(rk)
    if (!rec || rec.deleted) {
      this.nodes.delete(hex)
      fail('ENOENT')
    }
    if (cached && cached.version === rec!.version && cached.key.equals(key)) {
      cached.checkedAt = now
      return cached
    }
    let state: InodeState
    try {
      state = decryptState(rec!.value, id, key)
    } catch {
      // Not readable with the key we hold: re-keyed, we are no longer let in.
      fail('EACCES')
    }
    const node = new SharedNode(owner, id, key, state!, rec!.version)
    if (state!.file) node.data = new FileData(state!.file, this.opts.chunks)
    node.checkedAt = now
    this.nodes.set(hex, node)
    return node
  }

  /** What a path under /@shared is: the view's own folders, or a sharer's node. */
  private async lookup(p: string): Promise<{ virtual: 'top' | Sharer } | { node: SharedNode }> {
    const parts = p.split('/').filter((s) => s.length > 0 && s !== '.')
    if (parts[0] !== SHARED_DIR_NAME) fail('ENOENT')
    if (parts.length === 1) {
      if (!this.visible()) fail('ENOENT')
      return { virtual: 'top' }
    }
    const sharer = await this.sharer(parts[1])
    if (parts.length === 2) return { virtual: sharer }
    const cap = sharer.shares.get(parts[2])
    if (!cap) fail('ENOENT')
    let node = await this.load(cap!.owner, cap!.inodeId, cap!.inodeKey)
    for (const name of parts.slice(3)) {
      if (!node.state.entries) fail('ENOTDIR')
      const e = node.state.entries!.get(name)
      if (!e) fail('ENOENT')
      // Written before entries carried keys (or by an older build): out of this share's reach.
      if (!e!.key) fail('EACCES')
      node = await this.load(cap!.owner, e!.id, e!.key!)
    }
    return { node }
  }

  private async node(p: string): Promise<SharedNode> {
    const found = await this.lookup(p)
    if (!('node' in found)) fail('EISDIR')
    return (found as { node: SharedNode }).node
  }

  async getattr(p: string): Promise<Stat> {
    const found = await this.lookup(p)
    if ('virtual' in found) return this.dirStat()
    const s = found.node.state
    const size = found.node.data
      ? found.node.data.size
      : s.type === 'symlink'
        ? Buffer.byteLength(s.target ?? '')
        : isSpecialType(s.type)
          ? 0
          : 4096
    // Read-only for everyone; the sharer's uid and gid mean nothing on this machine.
    return {
      ...statOf(s, size, { owner: { uid: this.uid, gid: this.gid }, modeMask: 0o7777 & ~WRITE_BITS }),
      ino: inodeNumber(found.node.id)
    }
  }

  private dirStat(): Stat {
    return {
      mode: TYPE_BITS.dir | 0o555,
      uid: this.uid,
      gid: this.gid,
      size: 4096,
      nlink: 2,
      atime: this.started,
      mtime: this.started,
      ctime: this.started,
      blocks: 8,
      blksize: 4096,
      // The @shared folder has no inode id: a number derived from its name.
      ino: inodeNumber(Buffer.from(SHARED_DIR_NAME))
    }
  }

  async readdir(p: string): Promise<string[]> {
    const found = await this.lookup(p)
    if ('virtual' in found) {
      if (found.virtual === 'top') return [...this.sharers.values()].map((s) => s.label)
      return [...found.virtual.shares.keys()]
    }
    if (!found.node.state.entries) fail('ENOTDIR')
    // Entries without a key cannot be opened with this share: not listed.
    return [...found.node.state.entries!].filter(([, e]) => e.key).map(([name]) => name)
  }

  async readlink(p: string): Promise<string> {
    const node = await this.node(p)
    if (node.state.type !== 'symlink') fail('EINVAL')
    return node.state.target ?? ''
  }

  /** Opens for reading; any write access is EROFS. */
  async open(p: string, flags: number): Promise<number> {
    if ((flags & 3) !== 0) fail('EROFS')
    const found = await this.lookup(p)
    if ('virtual' in found) return this.track(null)
    return this.track(found.node)
  }

  private track(node: SharedNode | null): number {
    const fh = this.nextHandle
    this.nextHandle = this.nextHandle >= 0xfffffff0 ? SHARED_HANDLE_BASE : this.nextHandle + 1
    if (node) this.handles.set(fh, node)
    return fh
  }

  async read(fh: number, out: Buffer, len: number, pos: number): Promise<number> {
    const node = this.handles.get(fh)
    if (!node) fail('EBADF')
    if (!node!.data) fail(node!.state.type === 'dir' ? 'EISDIR' : 'EINVAL')
    return node!.data!.read(out, len, pos)
  }

  release(fh: number): void {
    this.handles.delete(fh)
  }
}

/** name → capability, with ` (2)`, ` (3)` for names one sharer uses twice (in inode id order, so stable). */
function nameShares(caps: Capability[]): Map<string, Capability> {
  const out = new Map<string, Capability>()
  const sorted = [...caps].sort((a, b) => Buffer.compare(a.inodeId, b.inodeId))
  for (const cap of sorted) {
    let name = cap.name || 'shared'
    for (let n = 2; out.has(name); n++) name = `${cap.name} (${n})`
    out.set(name, cap)
  }
  return out
}
