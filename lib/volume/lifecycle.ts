// Opening and closing a Volume's parts, in the order each needs the others
// (Volume._open and _close; ready-resource runs each once).

import type { VolumeContext } from './context'
import type { HomeLock } from './home-lock'
import { settlesWhileProgressing, settlesWithin } from '../common/retry'
import { loadRoot, type RootOptions } from './root'
import { volumeStatus } from './status'

/** The longest close() waits for a ring that is slow but still storing (docs/volume.md, "Shutdown"). */
const CLOSE_MAX_MS = 10 * 60_000

/**
 * Takes the home, reads a crashed mount's journal, finds the root, replays,
 * then starts the flusher, the tree sweep and the poller. On failure the home
 * is released again.
 */
export async function openParts(ctx: VolumeContext, lock: HomeLock, rootOpts: RootOptions): Promise<void> {
  lock.acquire()
  try {
    await ctx.records?.copy.ready()
    await ctx.journal.ready()
    await ctx.chunks.ready()
    // Before any inode loads: each inode the crashed mount changed gets its ops as it loads (the root too).
    await ctx.replay.readJournal()
    // Before any inode loads: each is marked current as of this beacon version.
    await ctx.remote.ready()
    ctx.root = await loadRoot(ctx, rootOpts)
    // The root is always watched: every path starts there.
    ctx.watch.opened(ctx.root)
    await ctx.replay.run()
    await ctx.gc?.ready()
  } catch (err) {
    ctx.replay.stop()
    await ctx.records?.copy.close().catch(() => {})
    lock.release()
    throw err
  }
  ctx.flusher.start()
  ctx.tree.start()
  ctx.remote.start()
}

/**
 * Writes everything to the store, then releases the home. Bounded whatever
 * the ring does: once nothing was stored for `idle` ms (or after
 * CLOSE_MAX_MS), what is left stays in the journal and the spool, which
 * the next mount replays and uploads.
 */
export async function closeParts(ctx: VolumeContext, lock: HomeLock, idle: number): Promise<void> {
  ctx.closed = true
  ctx.flusher.stop()
  ctx.replay.stop()
  ctx.tree.stop()
  const onError = ctx.onError
  // Any upload or record stored counts as progress: a slow ring gets the time it needs, a dead one `idle`.
  const progress = () => ctx.chunks.stats.uploadedBytes - ctx.table.dirty.size
  try {
    await settlesWithin(ctx.remote.close(), idle)
    await settlesWithin(ctx.replay.running ?? Promise.resolve(), idle, onError)
    await settlesWithin(ctx.tree.running ?? Promise.resolve(), idle, onError)
    if (await settlesWhileProgressing(ctx.flusher.sync(), { idleMs: idle, maxMs: CLOSE_MAX_MS, progress, onError })) {
      // The other devices learn of the last changes now rather than at their next full pass.
      await settlesWithin(ctx.remote.publish(), idle, onError)
    } else {
      ctx.chunks.stop()
      for (const inode of ctx.table.inodes.values()) if (inode.data?.hasDirty) await inode.data.seal().catch(onError)
      await ctx.flusher.commit({ sync: true }).catch(onError)
      const s = volumeStatus(ctx)
      const why = s.uploadFailure ? `: ${s.uploadFailure.code}: ${s.uploadFailure.message}` : ''
      ctx.notice(
        `${s.dirty} records and ${s.pendingChunks} chunks not stored yet${why}; kept on this machine, the next mount stores them`
      )
    }
    await settlesWithin(ctx.gc?.close() ?? Promise.resolve(), idle, onError)
    await ctx.chunks.close()
    // On a full disk the last commit can fail: say so, and still release the home.
    await ctx.journal.close().catch(onError)
  } finally {
    await ctx.records?.copy.close()
    lock.release()
  }
}
