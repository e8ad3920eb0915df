// statfs(2) for the whole mount: the store's capacity in 4 KiB blocks,
// clamped to the 32-bit fields libfuse passes on.

import type { Volume } from '../../volume/volume'
import { reply } from '../wrap'
import type { OpHandlers } from './table'

const MAX_UINT32 = 0xffffffff
const STATFS_BLOCK = 4096

export function statfsOps(volume: Volume): OpHandlers {
  return {
    statfs: async () => {
      // The disk under the home: its free blocks (reserved ones included) and
      // available ones differ, and `df` computes "used" from the free ones.
      const s = await volume.statfs()
      const blocksOf = (bytes: number) => Math.min(MAX_UINT32, Math.floor(bytes / STATFS_BLOCK))
      const count = (n: number) => Math.min(MAX_UINT32, n)
      return reply({
        bsize: STATFS_BLOCK,
        frsize: STATFS_BLOCK,
        blocks: blocksOf(s.totalBytes),
        bfree: blocksOf(s.freeBytes),
        bavail: blocksOf(s.availableBytes),
        files: count(s.totalFiles),
        ffree: count(s.freeFiles),
        favail: count(s.freeFiles),
        fsid: 0,
        flag: 0,
        namemax: 255
      })
    }
  }
}
