// Taking in a newer record another device wrote (remote-sync.ts finds them).
// An inode with local changes is left alone: its flush meets the newer
// version as a compare-and-swap conflict and merges (directories) or keeps
// both (files), so local state always wins or is kept.

import type { SignedRecord } from '../crypto/record'
import type { VolumeContext } from './context'
import { type DirEntry, decryptState, linkCount } from './inode'
import { adoptVersion, chunkKeys, type Inode } from './loaded-inode'

export class RemoteApply {
  constructor(private readonly ctx: VolumeContext) {}

  /**
   * Re-reads the inode's record and takes in a newer version written by
   * another device. An inode with local changes is left alone (false: try
   * again later).
   */
  async takeRemote(inode: Inode): Promise<boolean> {
    if (inode.deleted || inode.remoteDeleted) return true
    if (this.ctx.table.busy(inode)) return false
    const rec = await this.ctx.table.fetchRecord(inode.id)
    // Under the namespace lock, and nothing awaits from the check to the swap: no rename or
    // unlink here is between its check and its change while the entries are replaced.
    return this.ctx.ns.run(() => this.applyRemote(inode, rec))
  }

  private applyRemote(inode: Inode, rec: SignedRecord | null): boolean {
    const { ctx } = this
    const { table } = ctx
    if (inode.deleted || inode.remoteDeleted) return true
    if (table.busy(inode)) return false
    if (!rec || rec.version <= Math.max(inode.version, inode.versionFloor)) return true
    if (rec.deleted) {
      // Deleted elsewhere: open handles keep the object (like an unlinked open file) and may still read
      // and write it; lookups no longer find it. A change made through a handle brings it back (revive).
      adoptVersion(inode, rec.version)
      inode.remoteDeleted = true
      inode.storedTombstone = true
      table.inodes.delete(inode.hex)
      ctx.watch.forget(inode)
      ctx.remoteChanges++
      return true
    }
    const state = decryptState(rec.value, inode.id, ctx.keys.inodeKey(inode.id))
    if (state.entries && !this.keepsLocalChildren(inode, state.entries)) return false
    if (state.entries && inode.state.entries) ctx.tree.noteFolderChange(inode.state.entries, state.entries)
    inode.state = state
    inode.base = state.entries ? new Map(state.entries) : null
    inode.data = null
    table.attachData(inode)
    // The device that wrote it collects what it dropped; ours is now what the store lists.
    inode.storedChunks = chunkKeys(state.file)
    inode.storedLinks = linkCount(state)
    inode.version = rec.version
    inode.versionFloor = Math.max(inode.versionFloor, rec.version)
    ctx.remoteChanges++
    return true
  }

  /**
   * Fits the newer entries of a directory to what must stay here: the
   * kernel's `.fuse_hidden*` names (never published) are kept. False when
   * they lack a child that has unflushed changes here: the directory waits
   * (still showing it) until that child is flushed, whose compare-and-swap
   * then learns whether it was deleted (it is written back and relinked,
   * see conflict.ts) or moved (both versions are kept).
   */
  private keepsLocalChildren(dir: Inode, theirs: Map<string, DirEntry>): boolean {
    for (const [name, e] of dir.entries) {
      if (theirs.has(name)) continue
      if (name.startsWith('.fuse_hidden')) {
        theirs.set(name, e)
        continue
      }
      const child = this.ctx.table.get(e.id.toString('hex'))
      if (child && !child.deleted && this.ctx.table.busy(child)) return false
    }
    return true
  }
}
