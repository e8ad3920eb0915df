// What a Volume is opened with, and the defaults of its timings.

import type { RecordCopyBacking } from './record-copy'
import type { ValueStore } from './value-store'
import type { VolumeKeys } from './volume-keys'
import type { Capacity } from './status'

export const DEFAULT_CHUNK_SIZE = 1024 * 1024
/** How long a chunk a file stopped referencing stays in the store (docs/volume.md, "Chunk garbage collection"). */
export const DEFAULT_GC_GRACE_MS = 60 * 60_000
export const DEFAULT_SYNC_INTERVAL_MS = 1000
/**
 * Longer than one flush pass of another device (its rename is listed in both
 * folders between its two directory writes), short enough that a real
 * problem is settled within seconds.
 */
export const DEFAULT_TREE_SETTLE_MS = 4000

export interface VolumeOptions {
  home: string
  store: ValueStore
  keys?: VolumeKeys
  chunkSize?: number
  /** On-disk read cache budget; 0 when the store is local anyway. */
  readCacheBytes?: number
  flushIntervalMs?: number
  /** Plaintext being written, across files, before writers seal early. */
  maxDirtyBytes?: number
  capacity?: Capacity
  /** Called with errors of the background flusher and the poller (which retry). */
  onError?: (err: Error) => void
  /** Grace period before unreferenced chunks are deleted (default DEFAULT_GC_GRACE_MS). */
  gcGraceMs?: number
  /** How often to look for changes by other devices (docs/volume.md, "Sync"); 0 turns it off. */
  syncIntervalMs?: number
  /** How often the watched records are re-read even when no device announced a change. */
  syncFullPassMs?: number
  /** How many recently used inodes are watched, and for how long after their last use. */
  watchLimit?: number
  watchWindowMs?: number
  /**
   * The identity came from another computer: never create a root, wait up to
   * this long for the existing one to be found in the store (the ring may
   * still be merging), then fail.
   */
  adoptRootTimeoutMs?: number
  /** One-line progress notices for the user. */
  notice?: (line: string) => void
  /**
   * Where the durable copy of this user's records in the home is kept
   * (record-copy.ts; lib/app/record-copy-store.ts opens one at
   * recordCopyDir(home)): what an offline mount shows, and what tells this
   * home that it has a tree. Without one the Volume keeps no copy.
   */
  recordCopy?: RecordCopyBacking
  /** How long a mount waits for the network to answer for its root before it fails (default 30 s). */
  rootWaitMs?: number
  /**
   * How long a tree problem must last before the check after merges settles
   * it (docs/volume.md, "Concurrent operations"); 0 turns that check off.
   */
  treeSettleMs?: number
  /** How long close() waits with nothing stored before it leaves the rest to the next mount (default 5 s). */
  closeTimeoutMs?: number
}

/** Who a new inode belongs to. */
export interface Owner {
  uid: number
  gid: number
}
