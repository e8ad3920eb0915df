// fuse-native builds one `-o a,b,c` string in the private _fuseOptions() and
// exposes no way to ask for big_writes or max_write. Without them the kernel
// sends 4 KiB writes (~50 MB/s); with them 128 KiB (~500 MB/s). Pinned to
// fuse-native 2.2.6, whose _fuseOptions() this relies on.

import Fuse from 'fuse-native'

/**
 * fuse-native's own per-op timeouts (its `timeout` option): past them it
 * answers the kernel ETIMEDOUT and ignores our late reply. DHT-backed reads
 * and writes get longer than the default, fsync/flush/release longer still
 * (they wait for uploads).
 */
export const OP_TIMEOUTS_MS: Readonly<Record<string, number>> = {
  default: 30_000,
  read: 60_000,
  write: 60_000,
  fsync: 120_000,
  flush: 120_000,
  release: 120_000
}

/**
 * When wrap.ts answers an op still running: 5 s (a sixth, for short ones)
 * before fuse-native's timeout, so the application gets our errno (EIO with
 * the cause logged) rather than ETIMEDOUT, even on a busy event loop.
 */
export function opDeadlineMs(op: string): number {
  const timeout = OP_TIMEOUTS_MS[op] ?? OP_TIMEOUTS_MS.default
  return timeout - Math.min(5000, Math.floor(timeout / 6))
}

// use_ino: the kernel reports our inode numbers (inodeNumber() in
// lib/volume/inode.ts), not libfuse's, which change whenever the kernel
// forgets an inode and differ between computers.
// attr_timeout=0: libfuse 2's high-level API gives each name of a hard-linked
// file its own kernel inode, so attributes cached for one name went stale when
// the file changed through another (nlink, mode, size, for up to the timeout;
// 45 pjdfstest assertions). A stat now asks the Volume, which answers from
// memory: a warm `ls -l` of 3,000 files took 0.03 s either way.
// (fuse-native's attrTimeout option cannot say 0: it drops falsy values.)
export const EXTRA_FUSE_OPTIONS =
  'big_writes,max_write=131072,fsname=peerstore,subtype=peerstore,use_ino,attr_timeout=0'

/**
 * The binding takes and gives times to the nanosecond (scripts/fuse-native-nanos.js):
 * false only where node_modules was installed without the postinstall patch.
 */
export const NANOSECOND_TIMES = Fuse.NANOSECOND_TIMES === true

/** Who asked for a create, mkdir, symlink or mknod (scripts/patch-fuse-native.js). */
export interface FuseCaller {
  uid: number
  gid: number
}

export class TunedFuse extends Fuse {
  /**
   * Set by the patched binding right before it calls create, mkdir, mknod or
   * symlink: valid during the synchronous start of that op only.
   */
  caller: FuseCaller | null = null

  /**
   * fuse-native 2.2.6 answers fgetattr by calling ops.getattr with the path
   * only, dropping the handle: a file open here whose name another computer
   * deleted then failed fstat and read (the kernel asks for attributes
   * first) with ENOENT. This passes the handle to ops.fgetattr, through
   * fuse-native's own getattr reply (which converts the stat).
   */
  protected override _op_fgetattr(signal: unknown, path: string, fd: number): void {
    const ops = this.ops
    const fgetattr = ops.fgetattr
    if (!fgetattr) {
      super._op_fgetattr(signal, path, fd)
      return
    }
    const getattr = ops.getattr
    ops.getattr = (p, cb) => fgetattr(p, fd, cb)
    try {
      this._op_getattr(signal, path)
    } finally {
      ops.getattr = getattr
    }
  }

  protected override _fuseOptions(): string {
    const base = super._fuseOptions()
    return base ? `${base},${EXTRA_FUSE_OPTIONS}` : `-o${EXTRA_FUSE_OPTIONS}`
  }
}
