// fuse-native builds one `-o a,b,c` string in the private _fuseOptions() and
// exposes no way to ask for big_writes or max_write. Without them the kernel
// sends 4 KiB writes (~50 MB/s); with them 128 KiB (~500 MB/s). Pinned to
// fuse-native 2.2.6, whose _fuseOptions() this relies on.

import Fuse from 'fuse-native'

export const EXTRA_FUSE_OPTIONS = 'big_writes,max_write=131072,fsname=peerstore,subtype=peerstore'

/** Who asked for a create, mkdir or symlink (scripts/patch-fuse-native.js). */
export interface FuseCaller {
  uid: number
  gid: number
}

export class TunedFuse extends Fuse {
  /**
   * Set by the patched binding right before it calls create, mkdir or
   * symlink: valid during the synchronous start of that op only.
   */
  caller: FuseCaller | null = null

  protected override _fuseOptions(): string {
    const base = super._fuseOptions()
    return base ? `${base},${EXTRA_FUSE_OPTIONS}` : `-o${EXTRA_FUSE_OPTIONS}`
  }
}
