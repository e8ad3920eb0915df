// A file's bytes through an open handle: read, write, truncate, and what
// close() and fsync() promise about them.

import type { VolumeContext } from './context'
import { fail } from './errors'
import type { Inode } from './loaded-inode'

export async function read(inode: Inode, out: Buffer, len: number, pos: number): Promise<number> {
  if (!inode.data) fail(inode.type === 'dir' ? 'EISDIR' : 'EINVAL')
  return inode.data!.read(out, len, pos)
}

/** Past `maxDirtyBytes` of plaintext being written (across files), the writer seals early. */
export async function write(
  ctx: VolumeContext,
  maxDirtyBytes: number,
  inode: Inode,
  data: Buffer,
  pos: number
): Promise<number> {
  if (!inode.data) fail(inode.type === 'dir' ? 'EISDIR' : 'EINVAL')
  const n = await inode.data!.write(data, pos)
  ctx.table.changed(inode)
  if (ctx.table.dirtyBytes > maxDirtyBytes) await inode.data!.seal()
  return n
}

export async function truncate(ctx: VolumeContext, inode: Inode, size: number): Promise<void> {
  if (!inode.data) fail(inode.type === 'dir' ? 'EISDIR' : 'EINVAL')
  if (size < 0 || !Number.isSafeInteger(size)) fail('EINVAL')
  await inode.data!.truncate(size)
  ctx.table.changed(inode)
}

/**
 * close(): the file's data and all metadata so far are in the local journal
 * and spool, which survive a crash of this process (SIGKILL); the flusher
 * puts them in the store (durable) within about a second.
 */
export async function closeFile(ctx: VolumeContext, inode: Inode): Promise<void> {
  if (inode.data?.hasDirty) await inode.data.seal()
  await ctx.flusher.commit()
}

/** fsync(): the file's data and record are durable in the ValueStore, and the journal on disk. */
export async function fsync(ctx: VolumeContext, inode: Inode): Promise<void> {
  if (inode.data?.hasDirty) await inode.data.seal()
  await ctx.flusher.commit({ sync: true })
  if (!inode.deleted && inode.gen !== inode.flushedGen) {
    await ctx.flusher.flushInode(inode)
    // Other devices hear of an fsync'd change now, not at the next flush pass or tick.
    ctx.remote.publish().catch((err) => ctx.onError(err))
  } else if (inode.data) await ctx.chunks.whenUploaded(inode.data.chunks)
}
