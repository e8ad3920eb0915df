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
      const s = await volume.statfs()
      const blocks = Math.min(MAX_UINT32, Math.floor(s.totalBytes / STATFS_BLOCK))
      const free = Math.min(MAX_UINT32, Math.floor(s.freeBytes / STATFS_BLOCK))
      return reply({
        bsize: STATFS_BLOCK,
        frsize: STATFS_BLOCK,
        blocks,
        bfree: free,
        bavail: free,
        files: MAX_UINT32,
        ffree: MAX_UINT32 - Math.min(s.files, MAX_UINT32),
        favail: MAX_UINT32 - Math.min(s.files, MAX_UINT32),
        fsid: 0,
        flag: 0,
        namemax: 255
      })
    }
  }
}
