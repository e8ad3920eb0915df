// What a mount tells about itself: the status line's counters, the replica
// report of one inode (the status xattr), and statfs.

import fsp from 'node:fs/promises'
import type { UploadFailure } from './chunks/chunk-store'
import type { VolumeContext } from './context'
import type { Inode } from './loaded-inode'

export interface VolumeStatus {
  inodes: number
  /** Inodes read from the store since the mount started, and how many of them a listing loaded ahead. */
  inodeLoads: number
  prefetched: number
  /** Records changed here and not yet in the store (they wait in the journal). */
  dirty: number
  pendingChunks: number
  pendingBytes: number
  uploaded: number
  fromOtherDevices: number
  /** The store did not answer the last time it was asked: the mount works from its record copy and journal. */
  offline: boolean
  offlineSinceMs: number
  /** A crashed session's journal is not all applied and stored yet (it is kept and retried). */
  replayWaiting: boolean
  /** Of its ops, how many wait for their inode to be readable. */
  replayOps: number
  /** Why uploads are failing now (they are retried), or null. */
  uploadFailure: UploadFailure | null
}

export interface ReplicaReport {
  live: number | null
  target: number | null
  pendingUpload: boolean
  pendingChunks: number
  /** The store is not answering: the counts are unknown and the changes wait here. */
  offline?: boolean
  /** The last upload error of one of its pending chunks ("CODE: message"), or null. */
  uploadError: string | null
}

/** The disk under a home, as statfs(2) reports it: free counts reserved blocks, available does not. */
export interface DiskSpace {
  totalBytes: number
  freeBytes: number
  availableBytes: number
  totalFiles: number
  freeFiles: number
}

export type Capacity = () => Promise<DiskSpace>

export async function diskSpace(dir: string): Promise<DiskSpace> {
  const s = await fsp.statfs(dir)
  return {
    totalBytes: s.blocks * s.bsize,
    freeBytes: s.bfree * s.bsize,
    availableBytes: s.bavail * s.bsize,
    totalFiles: s.files,
    freeFiles: s.ffree
  }
}

/** Counters for the status line. */
export function volumeStatus(ctx: VolumeContext): VolumeStatus {
  const since = ctx.records?.offlineSince ?? 0
  return {
    inodes: ctx.table.inodes.size,
    inodeLoads: ctx.table.loads,
    prefetched: ctx.table.prefetched,
    dirty: ctx.table.dirty.size,
    pendingChunks: ctx.chunks.pendingCount,
    pendingBytes: ctx.chunks.pendingByteCount,
    uploaded: ctx.chunks.stats.uploaded,
    fromOtherDevices: ctx.remoteChanges,
    offline: since > 0,
    offlineSinceMs: since > 0 ? Date.now() - since : 0,
    replayWaiting: ctx.replay.waiting,
    replayOps: ctx.replay.opsWaiting,
    uploadFailure: ctx.chunks.uploadFailure
  }
}

/** Replicas of the inode's record and data against the target, and whether an upload is pending. */
export async function replicaReport(ctx: VolumeContext, inode: Inode): Promise<ReplicaReport> {
  const chunkKeys = (inode.data?.chunks ?? []).filter((k): k is Buffer => k !== null)
  const pendingChunks = chunkKeys.filter((k) => ctx.chunks.isPending(k)).length
  const pendingUpload =
    pendingChunks > 0 || (inode.data?.hasDirty ?? false) || inode.gen !== inode.flushedGen || inode.version === 0
  let live: number | null = null
  let target: number | null = null
  // Offline, asking the holders would only wait for their timeouts.
  const offline = ctx.records?.offline ?? false
  const uploadError = ctx.chunks.failureOf(chunkKeys)
  if (offline) return { live, target, pendingUpload, pendingChunks, uploadError, offline }
  if (ctx.store.replicaStatus) {
    const keys = [ctx.table.recordKeyOf(inode.id), ...chunkKeys]
    try {
      for (const k of keys) {
        const r = await ctx.store.replicaStatus(k)
        live = live === null ? r.live : Math.min(live, r.live)
        target = target === null ? r.target : Math.max(target, r.target)
      }
    } catch {
      // The ring cannot be asked (unreachable): the copies are unknown; the rest of the report still stands.
      live = target = null
    }
  }
  return { live, target, pendingUpload, pendingChunks, uploadError }
}

/** No disk to report (a store without one): large round numbers, as network file systems do. */
const UNKNOWN_SPACE: DiskSpace = {
  totalBytes: 2 ** 50,
  freeBytes: 2 ** 49,
  availableBytes: 2 ** 49,
  totalFiles: 2 ** 32 - 1,
  freeFiles: 2 ** 31
}

export async function statfs(capacity: Capacity | undefined): Promise<DiskSpace> {
  return capacity ? await capacity() : UNKNOWN_SPACE
}
