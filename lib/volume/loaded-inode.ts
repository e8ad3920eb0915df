// An inode as a mount holds it in memory: its state, its file data, and the
// versions and generations that say what the store has of it. File handles
// hold these objects, so renamed and unlinked open files keep working.

import type { FileContent, FileData } from './file-data'
import { volumeError } from './errors'
import { type DirEntry, type InodeState, type InodeType, isSpecialType, TYPE_CODE, typeOfCode } from './inode'
import { Mutex } from '../common/semaphore'

export class Inode {
  readonly id: Buffer
  readonly hex: string
  /** Version of the record in the store; 0 when never stored. */
  version = 0
  /**
   * The highest version this mount has seen of the record. After a conflict
   * whose winner is older than that (a replica that missed updates answered
   * the compare-and-swap), the next write still goes above it, so the older
   * lineage can never beat it later in repair.
   */
  versionFloor = 0
  state: InodeState
  data: FileData | null = null
  /** Directory entries as last stored: the base of a three-way merge. */
  base: Map<string, DirEntry> | null = null
  /** A file's chunk keys as last stored (or loaded): what a write may have dropped. */
  storedChunks: Buffer[] = []
  /** Bumped by every change; the record is clean when flushedGen catches up. */
  gen = 0
  flushedGen = 0
  /** The sync beacon version as of which this inode was last known current (remote-sync.ts). */
  syncedBeacon = 0
  deleted = false
  /**
   * Another device stored this inode's tombstone while it was loaded here
   * (open handles may still hold it). A change made here afterwards brings it
   * back: its record is written again and it is linked into its folder
   * (docs/volume.md, "Concurrent operations on two computers").
   */
  remoteDeleted = false
  /** The store holds this inode's tombstone at `version` (deleted elsewhere; revived here until stored). */
  storedTombstone = false
  /** A file's link count as last stored (or loaded): the base of merging two devices' counts (conflict.ts). */
  storedLinks = 1
  /**
   * A folder that lists this inode, and its name there: the one it was last
   * reached through here. A directory has exactly one; a hard-linked file
   * has several and this is only one of them (docs/hard-links.md), so only
   * path display and where a conflict copy goes use it for files.
   */
  parent: Inode | null = null
  name = ''
  readonly flushLock = new Mutex()

  constructor(id: Buffer, state: InodeState) {
    this.id = id
    this.hex = id.toString('hex')
    this.state = state
  }

  get type(): InodeType {
    return this.state.type
  }

  get entries(): Map<string, DirEntry> {
    if (!this.state.entries) throw volumeError('ENOTDIR')
    return this.state.entries
  }

  get size(): number {
    if (this.data) return this.data.size
    if (this.type === 'symlink') return Buffer.byteLength(this.state.target ?? '')
    if (isSpecialType(this.type)) return 0
    return 4096
  }
}

/** The version the inode's next record gets: above the store's and above any this mount has seen. */
export function nextVersion(inode: Inode): number {
  return Math.max(inode.version, inode.versionFloor) + 1
}

/** Takes the store's version as the compare-and-swap base, remembering the highest seen. */
export function adoptVersion(inode: Inode, version: number): void {
  inode.versionFloor = Math.max(inode.versionFloor, inode.version)
  inode.version = version
}

/** The non-hole chunk keys of a file's content. */
export function chunkKeys(file: FileContent | undefined): Buffer[] {
  return file ? file.chunks.filter((k): k is Buffer => k !== null) : []
}

/** An inode type as a journal entry op spells it. */
export function typeCode(t: InodeType): string {
  return TYPE_CODE[t]
}

/** Entries journaled before the type was written (or by a build that knew no more) are files. */
export function codeType(c: string | undefined): InodeType {
  return (c && typeOfCode(c)) || 'file'
}
