// fuse-native operations → Volume calls. No knowledge of chunks, records or
// the ring here: paths and handles in, numbers out. Each family of ops lives
// in its own module; with the shares view, router.ts puts it in front of the
// Volume's ops; wrap.ts turns every handler into a fuse-native callback.

import type { FuseOps } from 'fuse-native'
import { inodeNumber } from '../../volume/inode'
import { SHARED_DIR_NAME } from '../../volume/sharing/names'
import type { SharedView } from '../../volume/sharing/view'
import type { Volume } from '../../volume/volume'
import { errnoName } from '../errno'
import { HandleTable } from '../handles'
import type { FuseCaller } from '../tuned-fuse'
import { makeWrap } from '../wrap'
import { attributeOps } from './attributes'
import { directoryOps, type RootMount } from './directories'
import { fileOps } from './files'
import { linkOps } from './links'
import { routeView } from './router'
import { sharesOps } from './shares'
import { statfsOps } from './statfs'
import { type OpHandlers, wrapHandlers } from './table'
import type { VolumeOpsContext } from './volume-context'
import { xattrOps } from './xattrs'

export { formatStatus } from './xattrs'

export interface OpsOptions {
  log?: (line: string) => void
  stats?: Map<string, { calls: number; ms: number }>
  /** Who called the current create, mkdir, symlink or mknod; read before the op's first await. */
  caller?: () => FuseCaller | null
  /** Other users' shares under /@shared, read-only (volume/sharing/view.ts). */
  shares?: SharedView
  /** When an op still running is answered EIO (wrap.ts; default just before fuse-native's timeout). */
  deadlineMs?: (op: string) => number
}

export function makeOps(volume: Volume, handles = new HandleTable(), opts: OpsOptions = {}): FuseOps {
  const log = opts.log ?? ((line) => process.stderr.write(`${line}\n`))
  const wrap = makeWrap({
    stats: opts.stats,
    onUnexpectedError(op, err) {
      const code = (err as { code?: unknown })?.code
      // A coded error is a known failure of the store or disk: its message is the cause. Without a code it is a bug.
      const cause = typeof code === 'string' ? (err as Error).message : ((err as Error)?.stack ?? String(err))
      log(`peerstore: ${op} failed, answered ${errnoName(code)}: ${cause} (logged once per cause)`)
    },
    deadlineMs: opts.deadlineMs
  })
  const ctx: VolumeOpsContext = { volume, handles, caller: () => opts.caller?.() ?? undefined }
  const shares = opts.shares
  const sharesInRoot: RootMount | undefined = shares && {
    name: SHARED_DIR_NAME,
    ino: inodeNumber(Buffer.from(SHARED_DIR_NAME)),
    visible: () => shares.visible()
  }
  const own = volumeOps(ctx, sharesInRoot)
  const ops = shares
    ? routeView(own, sharesOps(shares), {
        ownsPath: (path) => shares.owns(path),
        ownsHandle: (fh) => shares.ownsHandle(fh)
      })
    : own
  return wrapHandlers(ops, wrap)
}

/** Every op on the user's own tree, by family. */
function volumeOps(ctx: VolumeOpsContext, rootMount?: RootMount): OpHandlers {
  return {
    ...attributeOps(ctx),
    ...statfsOps(ctx.volume),
    ...directoryOps(ctx, rootMount),
    ...fileOps(ctx),
    ...linkOps(ctx),
    ...xattrOps(ctx)
  }
}
