// What a compare-and-swap conflict settles to: directories merge three ways,
// files, symlinks and special files keep both (theirs becomes a conflict
// copy) unless only their metadata differs, a delete
// meets a newer change and the change wins, and an inode deleted elsewhere
// but changed here comes back under its name (docs/volume.md, "Concurrent
// operations on two computers").

import { randomBytes } from '../crypto/keys'
import { type SignedRecord, verifyRecord } from '../crypto/record'
import type { VolumeContext } from './context'
import { volumeError } from './errors'
import { decryptState, type InodeState, isSpecialType, linkCount, setLinkCount } from './inode'
import { adoptVersion, chunkKeys, Inode } from './loaded-inode'
import { conflictName, mergeEntries } from './merge'
import { keepLater } from './times'

export class ConflictResolver {
  constructor(private readonly ctx: VolumeContext) {}

  /** The store holds `current` where this mount expected its own last version: merge, then write again. */
  async resolve(inode: Inode, current: SignedRecord | null): Promise<void> {
    const { table, keys, tree } = this.ctx
    if (!current || current.deleted) {
      // Deleted (or never stored) elsewhere, changed here: ours stays.
      adoptVersion(inode, current?.version ?? 0)
      if (current?.deleted) {
        inode.storedTombstone = true
        this.relink(inode)
      }
      return
    }
    if (!verifyRecord(current, table.recordKeyOf(inode.id))) throw volumeError('EIO', 'conflicting record is forged')
    const theirs = decryptState(current.value, inode.id, keys.inodeKey(inode.id))
    if (inode.type === 'dir' && theirs.entries) {
      const merged = mergeEntries(inode.base ?? new Map(), inode.entries, theirs.entries)
      for (const [oldName, newName] of merged.renamed) {
        const e = merged.entries.get(newName)
        const child = e && table.get(e.id.toString('hex'))
        if (child) child.name = newName
        this.ctx.journal.append([{ o: 'e', d: inode.hex, n: newName, c: e!.id.toString('hex'), t: e!.type }])
        void oldName
      }
      tree.noteFolderChange(inode.entries, merged.entries)
      inode.state.entries = merged.entries
      inode.base = theirs.entries
      keepLater(inode.state, theirs, 'mtime')
    } else {
      this.mergeLinks(inode, theirs)
      this.keepBoth(inode, theirs)
    }
    adoptVersion(inode, current.version)
  }

  /**
   * Both devices changed the names of one file (hard links): the stored
   * count becomes what both changes together give, never less than either
   * side's (docs/hard-links.md, "Conflicts"). Counting high only leaves a
   * file whose names are all gone listed again by the tree check; counting
   * low could delete it while a name still lists it.
   */
  private mergeLinks(inode: Inode, theirs: InodeState): void {
    const ours = linkCount(inode.state)
    const stored = linkCount(theirs)
    setLinkCount(inode.state, Math.max(ours, stored, ours + stored - inode.storedLinks))
    inode.storedLinks = stored
  }

  /** A file or symlink changed on both devices: metadata alone merges, different contents keep both. */
  private keepBoth(inode: Inode, theirs: InodeState): void {
    const { table } = this.ctx
    if (!inode.data?.hasDirty && sameContent(table.snapshotState(inode), theirs)) {
      // Only metadata differs (a rename here and there each touch ctime, a chmod, a utimens): one
      // inode, no copy; ours is written over theirs with the later times.
      keepLater(inode.state, theirs, 'mtime')
      keepLater(inode.state, theirs, 'ctime')
      keepLater(inode.state, theirs, 'atime')
    } else {
      // Files, symlinks and special files keep both: ours stays here, theirs becomes a conflict copy beside it.
      // From now on both lists may hold the same chunks: neither is collected.
      if (theirs.file) theirs.file.shared = true
      if (inode.data) inode.data.shared = true
      // The copy has one name, its own: the names the file had stay with ours.
      setLinkCount(theirs, 1)
      const copy = new Inode(randomBytes(32), theirs)
      table.attachData(copy)
      table.inodes.set(copy.hex, copy)
      const parent = inode.parent ?? this.ctx.root
      const name = conflictName(inode.name || 'file', (n) => parent.entries.has(n))
      table.link(parent, name, copy)
      table.touch(copy)
      table.touch(parent)
    }
  }

  /**
   * Another device deleted this inode while it changed here, and it is being
   * written back: its name must come back too, or the change would be out of
   * reach. The parent's next flush merges the name in as our addition. When
   * the folder it was in is gone as well, it goes to the nearest folder above
   * that is still there (the root at the latest).
   */
  private relink(inode: Inode): void {
    const { root, table } = this.ctx
    if (inode === root) return
    let parent = inode.parent
    for (let i = 0; parent && parent !== root && (parent.deleted || parent.remoteDeleted) && i < 4096; i++) {
      parent = parent.parent
    }
    if (parent?.type !== 'dir' || parent.deleted || parent.remoteDeleted) parent = root
    const e = parent.entries.get(inode.name)
    if (e?.id.equals(inode.id)) {
      // Still listed here: our copy of the base must not say it was there, or the merge takes their removal.
      parent.base?.delete(inode.name)
      table.link(parent, inode.name, inode)
    } else {
      for (const x of parent.entries.values()) if (x.id.equals(inode.id)) return
      const wanted = inode.name || 'recovered'
      const name = e ? conflictName(wanted, (n) => parent.entries.has(n)) : wanted
      table.link(parent, name, inode)
    }
    table.touch(parent)
  }

  /**
   * Our tombstone met a newer live record: another device changed the inode
   * after the version this mount deleted. The change wins: the inode takes
   * that record and gets its name back (relink).
   */
  undelete(inode: Inode, current: SignedRecord): void {
    const { table, keys } = this.ctx
    if (!verifyRecord(current, table.recordKeyOf(inode.id))) throw volumeError('EIO', 'conflicting record is forged')
    const state = decryptState(current.value, inode.id, keys.inodeKey(inode.id))
    inode.deleted = false
    inode.state = state
    inode.base = state.entries ? new Map(state.entries) : null
    inode.data = null
    table.attachData(inode)
    inode.storedChunks = chunkKeys(state.file)
    inode.storedLinks = linkCount(state)
    adoptVersion(inode, current.version)
    inode.versionFloor = Math.max(inode.versionFloor, current.version)
    inode.flushedGen = inode.gen
    const other = table.get(inode.hex)
    // A lookup loaded it again meanwhile (a merge listed it): that object is the live one.
    if (other && other !== inode) return
    table.inodes.set(inode.hex, inode)
    this.ctx.notice(
      `kept ${inode.name || inode.hex.slice(0, 12)}: changed on another computer after it was deleted here`
    )
    this.relink(inode)
    this.ctx.tree.schedule()
  }

  /** An inode deleted elsewhere is changed through a handle here: it is listed again (its record follows). */
  revive(inode: Inode): void {
    const { table } = this.ctx
    inode.remoteDeleted = false
    const other = table.get(inode.hex)
    if (other && other !== inode) return
    table.inodes.set(inode.hex, inode)
    this.ctx.watch.note(inode)
    this.relink(inode)
    this.ctx.tree.schedule()
  }
}

/** The same bytes: a file's chunk list and inline content, a symlink's target, a device's number. */
function sameContent(a: InodeState, b: InodeState): boolean {
  if (a.type !== b.type) return false
  if (a.type === 'symlink') return a.target === b.target
  if (isSpecialType(a.type)) return (a.rdev ?? 0) === (b.rdev ?? 0)
  const x = a.file
  const y = b.file
  if (!x || !y) return x === y
  if (!x.fileId.equals(y.fileId) || x.size !== y.size || x.chunks.length !== y.chunks.length) return false
  for (let i = 0; i < x.chunks.length; i++) {
    const p = x.chunks[i]
    const q = y.chunks[i]
    if (p === null || q === null ? p !== q : !p.equals(q)) return false
  }
  const ix = x.inline ?? null
  const iy = y.inline ?? null
  return ix === null || iy === null ? ix === iy : ix.equals(iy)
}
