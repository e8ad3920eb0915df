// Path operations: resolving paths, and the namespace changes (create, mkdir,
// symlink, mknod, link, unlink, rmdir, rename).
//
// Namespace changes run one at a time under `ns`, as does taking in another
// device's record (remote-apply.ts) and the tree check's repairs. Each first
// loads what it needs (awaits), then checks and changes the entries in one
// synchronous step, so a merge of a directory (conflict.ts, also
// synchronous) can never fall between its check and its change.

import type { VolumeContext } from './context'
import { fail } from './errors'
import { type InodeType, linkCount, setLinkCount } from './inode'
import type { JournalOp } from './journal'
import { type Inode, typeCode } from './loaded-inode'
import { SHARED_DIR_NAME } from './sharing/names'
import { nowNs, setTime, timeNs } from './times'
import type { Owner } from './volume-options'

const MAX_NAME_BYTES = 255

/**
 * A component over 255 bytes is ENAMETOOLONG for every operation, as POSIX
 * says, whether or not such an entry exists (it cannot: creating one fails
 * the same way), never ENOENT.
 */
function checkNameLengths(names: string[]): void {
  for (const name of names) if (Buffer.byteLength(name) > MAX_NAME_BYTES) fail('ENAMETOOLONG')
}

export class Namespace {
  constructor(private readonly ctx: VolumeContext) {}

  async resolve(p: string): Promise<Inode> {
    const names = splitPath(p)
    checkNameLengths(names)
    let node = this.ctx.root
    for (const name of names) node = await this.child(node, name)
    return node
  }

  async child(dir: Inode, name: string): Promise<Inode> {
    if (dir.type !== 'dir') fail('ENOTDIR')
    const e = dir.entries.get(name)
    if (!e) fail('ENOENT')
    const inode = await this.ctx.table.getInode(e!.id)
    inode.parent = dir
    inode.name = name
    this.ctx.watch.note(inode)
    return inode
  }

  /** The path an inode was last seen at here, from its parent links; null when they do not reach the root. */
  pathOf(inode: Inode): string | null {
    const names: string[] = []
    for (let x: Inode | null = inode, n = 0; x !== this.ctx.root; x = x.parent, n++) {
      if (!x || n > 4096) return null
      names.push(x.name)
    }
    return `/${names.reverse().join('/')}`
  }

  private async parentOf(p: string): Promise<{ dir: Inode; name: string }> {
    const parts = splitPath(p)
    const name = parts.pop()
    if (name === undefined) fail('EBUSY', 'the root has no parent')
    checkNameLengths([...parts, name!])
    // The mount shows the shares of other users there (share-view.ts): no entry of one's own may take it.
    if (parts.length === 0 && name === SHARED_DIR_NAME) fail('EPERM', `/${SHARED_DIR_NAME} is reserved for shares`)
    let dir = this.ctx.root
    for (const part of parts) dir = await this.child(dir, part)
    if (dir.type !== 'dir') fail('ENOTDIR')
    return { dir, name: name! }
  }

  async readdir(p: string): Promise<string[]> {
    const dir = await this.resolve(p)
    if (dir.type !== 'dir') fail('ENOTDIR')
    return [...dir.entries.keys()]
  }

  /** Entries with their inodes, for `peerstore ls` and `get`. */
  async list(p: string): Promise<{ name: string; inode: Inode }[]> {
    const dir = await this.resolve(p)
    if (dir.type !== 'dir') fail('ENOTDIR')
    const out: { name: string; inode: Inode }[] = []
    for (const name of dir.entries.keys()) out.push({ name, inode: await this.child(dir, name) })
    return out
  }

  async readlink(p: string): Promise<string> {
    const inode = await this.resolve(p)
    if (inode.type !== 'symlink') fail('EINVAL')
    return inode.state.target ?? ''
  }

  /** `target`: a symlink's; `rdev`: a device node's device number. */
  make(p: string, type: InodeType, mode: number, owner?: Owner, target?: string, rdev?: number): Promise<Inode> {
    return this.ctx.ns.run(async () => {
      const { table } = this.ctx
      const { dir, name } = await this.parentOf(p)
      if (dir.entries.has(name)) fail('EEXIST')
      const inode = table.newInode(type, mode, owner)
      if (type === 'symlink') inode.state.target = target
      if ((type === 'chardev' || type === 'blockdev') && rdev) inode.state.rdev = rdev
      table.inodes.set(inode.hex, inode)
      table.link(dir, name, inode)
      table.touch(inode)
      table.changed(dir, timeNs(inode.state, 'ctime'))
      return inode
    })
  }

  /**
   * A hard link: `to` becomes another name of the file or symlink at `from`
   * (docs/hard-links.md). A directory has one name only: EPERM, as POSIX
   * allows and Linux answers.
   */
  link(from: string, to: string): Promise<Inode> {
    return this.ctx.ns.run(async () => {
      const { table } = this.ctx
      const src = await this.entryOf(from)
      if (src.inode.type === 'dir') fail('EPERM', 'a directory cannot have a second name')
      const dst = await this.parentOf(to)
      // Loads are done: from here on nothing awaits, so the checks below hold when the entries change.
      if (dst.dir.entries.has(dst.name)) fail('EEXIST')
      if (!src.dir.entries.get(src.name)?.id.equals(src.inode.id)) fail('ENOENT')
      if (dst.dir.deleted || dst.dir.remoteDeleted || src.inode.deleted) fail('ENOENT')
      const inode = src.inode
      setLinkCount(inode.state, linkCount(inode.state) + 1)
      table.link(dst.dir, dst.name, inode)
      const now = nowNs()
      setTime(inode.state, 'ctime', now)
      table.touch(inode)
      table.changed(dst.dir, now)
      return inode
    })
  }

  /** unlink (`dirOnly` false) and rmdir (`dirOnly` true). */
  async remove(p: string, dirOnly: boolean): Promise<void> {
    await this.ctx.ns.run(async () => {
      const { table } = this.ctx
      const { dir, name, inode } = await this.entryOf(p)
      if (dirOnly) {
        if (inode.type !== 'dir') fail('ENOTDIR')
        if (inode.entries.size > 0) fail('ENOTEMPTY')
      } else if (inode.type === 'dir') fail('EISDIR')
      dir.entries.delete(name)
      const entry: JournalOp[] = [{ o: 'e', d: dir.hex, n: name, c: null }]
      this.dropName(inode, entry)
      this.ctx.journal.append(entry)
      table.changed(dir)
    })
  }

  /**
   * One name of the inode went (unlink, or a rename over it): the inode and
   * its data go with the last one. Data an open handle still reads stays:
   * the kernel renames an open file to a `.fuse_hidden*` name rather than
   * unlink it, and unlinks that name at release. `entry`: the journal entry
   * of the change, which a deletion joins.
   */
  private dropName(inode: Inode, entry: JournalOp[]): void {
    const { table } = this.ctx
    const links = inode.type === 'dir' ? 1 : linkCount(inode.state)
    if (links <= 1) {
      table.deleteInode(inode, entry)
      return
    }
    setLinkCount(inode.state, links - 1)
    setTime(inode.state, 'ctime', nowNs())
    table.touch(inode)
  }

  /**
   * The entry at `p` with its inode loaded, checked once nothing awaits any
   * more: a merge during the load may have rebound or removed the name.
   */
  private async entryOf(p: string): Promise<{ dir: Inode; name: string; inode: Inode }> {
    for (let attempt = 0; ; attempt++) {
      const { dir, name } = await this.parentOf(p)
      const inode = await this.child(dir, name)
      if (dir.entries.get(name)?.id.equals(inode.id)) return { dir, name, inode }
      if (attempt >= 3) fail('ENOENT')
    }
  }

  /**
   * Atomic: one journal entry moves the name, replacing a file or an empty
   * directory at the target. Every check is made after the last await.
   */
  async rename(from: string, to: string): Promise<void> {
    await this.ctx.ns.run(async () => {
      for (let attempt = 0; ; attempt++) {
        const src = await this.entryOf(from)
        const dst = await this.parentOf(to)
        const existing = dst.dir.entries.get(dst.name)
        const replaced = existing ? await this.child(dst.dir, dst.name) : null
        // Loads are done: from here on nothing awaits, so the checks below hold when the entries change.
        const stillThere =
          src.dir.entries.get(src.name)?.id.equals(src.inode.id) &&
          (replaced ? dst.dir.entries.get(dst.name)?.id.equals(replaced.id) : !dst.dir.entries.has(dst.name))
        if (!stillThere) {
          if (attempt >= 3) fail('EAGAIN', 'the folders changed during the rename')
          continue
        }
        this.moveEntry(src.dir, src.name, src.inode, dst.dir, dst.name, replaced)
        return
      }
    })
  }

  private moveEntry(
    srcDir: Inode,
    srcName: string,
    inode: Inode,
    dstDir: Inode,
    dstName: string,
    replaced: Inode | null
  ): void {
    const { table } = this.ctx
    if (srcDir === dstDir && srcName === dstName) return
    if (dstDir.deleted || dstDir.remoteDeleted) fail('ENOENT')
    if (inode.type === 'dir') {
      for (let d: Inode | null = dstDir; d; d = d.parent) {
        if (d === inode) fail('EINVAL', 'cannot move a directory into itself')
        if (d === this.ctx.root) break
      }
    }
    if (replaced) {
      if (replaced === inode) return
      if (inode.type === 'dir' && replaced.type !== 'dir') fail('ENOTDIR')
      if (inode.type !== 'dir' && replaced.type === 'dir') fail('EISDIR')
      if (replaced.type === 'dir' && replaced.entries.size > 0) fail('ENOTEMPTY')
    }
    srcDir.entries.delete(srcName)
    dstDir.entries.set(dstName, { id: inode.id, type: inode.type })
    inode.parent = dstDir
    inode.name = dstName
    const ops: JournalOp[] = [
      { o: 'e', d: srcDir.hex, n: srcName, c: null },
      { o: 'e', d: dstDir.hex, n: dstName, c: inode.hex, t: typeCode(inode.type) }
    ]
    if (replaced) this.dropName(replaced, ops)
    this.ctx.journal.append(ops)
    const now = nowNs()
    table.changed(srcDir, now)
    if (dstDir !== srcDir) table.changed(dstDir, now)
    setTime(inode.state, 'ctime', now)
    table.touch(inode)
  }
}

export function splitPath(p: string): string[] {
  return p.split('/').filter((s) => s.length > 0 && s !== '.')
}
