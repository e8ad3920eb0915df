// Finding the root directory through the root pointer, or creating it on the
// first mount of an identity.

import { sleep } from '../common/retry'
import { decrypt, encrypt } from '../crypto/aead'
import { createRecord, type SignedRecord } from '../crypto/record'
import type { VolumeContext } from './context'
import { isForged, volumeError } from './errors'
import type { Inode } from './loaded-inode'
import { isConflict } from './value-store'

/** How long a mount waits for the root directory's record once it has found the pointer to it. */
const ROOT_RECORD_WAIT_MS = 30_000
/** How often the store is asked again meanwhile. */
const ROOT_POLL_MS = 1000

export interface RootOptions {
  /** An identity adopted from another computer: never create a root, wait this long for it. */
  adoptRootTimeoutMs?: number
  rootWaitMs?: number
}

/**
 * The root directory, through the root pointer. A new root is created only
 * for a home that never had a tree (its record copy holds no pointer, and it
 * is not a home from before the copy) and only once the store positively
 * answered that no pointer exists: a store that cannot tell (EUNSURE, a
 * timeout) is asked again, never taken for "no tree" (issue 12, items 2
 * and 9: a remount that wrote a second version-1 pointer over the tree).
 * An identity adopted from another computer never creates one.
 */
export async function loadRoot(ctx: VolumeContext, opts: RootOptions): Promise<Inode> {
  const { keys, table } = ctx
  const name = keys.rootPointerName
  const started = Date.now()
  const adoptUntil = opts.adoptRootTimeoutMs === undefined ? null : started + opts.adoptRootTimeoutMs
  const until = adoptUntil ?? started + (opts.rootWaitMs ?? ROOT_RECORD_WAIT_MS)
  const hadTree = ctx.legacyHome || (await ctx.records?.copy.get(table.recordKeyOf(name))) != null
  let told = ''
  const wait = async (notice: string, err?: unknown): Promise<void> => {
    if (Date.now() >= until) {
      const cause = err ? ` (${(err as Error).message})` : ''
      if (adoptUntil !== null && !err) {
        throw volumeError(
          'EHOSTUNREACH',
          'your tree was not found in the network: start a mount (or a storage node) on the computer this identity came from, then try again'
        )
      }
      throw volumeError(
        'EHOSTUNREACH',
        `your tree could not be read from the network${cause}: start the machines that hold it (or check the connection), then try again`
      )
    }
    if (told !== notice) ctx.notice(notice)
    told = notice
    // A loop of its own, not retry(): each pass decides between several
    // outcomes (use the root, create one, keep waiting with another notice),
    // and the deadline's error depends on why it is still waiting. It runs
    // inside Volume._open, which close() waits for, so no signal can cut it.
    await sleep(ROOT_POLL_MS)
  }
  for (;;) {
    let pointer: SignedRecord | null
    try {
      pointer = await table.fetchRecord(name)
    } catch (err) {
      // A forged pointer does not get better by asking again.
      if (isForged(err)) throw err
      await wait('waiting for the network to answer for your tree…', err)
      continue
    }
    if (!pointer && adoptUntil !== null) {
      await wait('looking for your tree on your other computers…')
      continue
    }
    if (!pointer && hadTree) {
      // This home had a tree: the machines holding its pointer are away, not the tree.
      await wait(
        'waiting for the machines that hold your tree…',
        volumeError('ENOENT', 'no machine holds your root pointer')
      )
      continue
    }
    if (pointer && !pointer.deleted) {
      const rootId = decrypt(pointer.value, keys.rootPointerKey, name)
      try {
        const root = await table.getInode(rootId)
        root.name = '/'
        return root
      } catch (err) {
        // The pointer is stored after the root's record, so the record exists; a ring
        // still merging (or not answering) may not serve it yet (a second device's first mount met this).
        if (isForged(err)) throw err
        await wait('waiting for your tree to be reachable…', err)
        continue
      }
    }
    // First mount of this identity: a root directory, then the pointer to it.
    const root = table.newInode('dir', 0o755)
    table.inodes.set(root.hex, root)
    await ctx.flusher.flushInode(root)
    const value = encrypt(root.id, keys.rootPointerKey, name)
    const version = pointer ? pointer.version + 1 : 1
    try {
      await ctx.store.putRecord(createRecord(keys.signer, name, version, value), pointer?.version ?? 0)
      root.name = '/'
      return root
    } catch (err) {
      // Another device created the root at the same time: use theirs.
      if (!isConflict(err)) throw err
      table.inodes.delete(root.hex)
    }
  }
}
