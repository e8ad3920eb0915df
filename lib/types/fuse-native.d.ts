// fuse-native 2.2.6 as it really behaves (see shared notes, platform.md §1):
// every callback takes a number first (0, a byte count, or a negative errno);
// `null` crashes the process.
declare module 'fuse-native' {
  type Cb = (code: number) => void
  type CbWith<T> = (code: number, value?: T) => void

  namespace Fuse {
    export interface FuseStat {
      mode: number
      uid: number
      gid: number
      size: number
      nlink?: number
      ino?: number
      dev?: number
      rdev?: number
      blksize?: number
      blocks?: number
      /** A Date, milliseconds, or (patched binding, Fuse.NANOSECOND_TIMES) BigInt nanoseconds since the epoch. */
      atime: Date | number | bigint
      mtime: Date | number | bigint
      ctime: Date | number | bigint
    }

    export interface FuseStatfs {
      bsize: number
      frsize: number
      blocks: number
      bfree: number
      bavail: number
      files: number
      ffree: number
      favail: number
      fsid: number
      flag: number
      namemax: number
    }

    export interface FuseOps {
      init?(cb: Cb): void
      access?(path: string, mode: number, cb: Cb): void
      statfs?(path: string, cb: CbWith<FuseStatfs>): void
      getattr?(path: string, cb: CbWith<FuseStat>): void
      fgetattr?(path: string, fd: number, cb: CbWith<FuseStat>): void
      flush?(path: string, fd: number, cb: Cb): void
      fsync?(path: string, datasync: boolean | number, fd: number, cb: Cb): void
      fsyncdir?(path: string, datasync: boolean | number, fd: number, cb: Cb): void
      readdir?(path: string, cb: (code: number, names?: string[], stats?: FuseStat[]) => void): void
      truncate?(path: string, size: number, cb: Cb): void
      ftruncate?(path: string, fd: number, size: number, cb: Cb): void
      /**
       * Milliseconds, 2^64 − 1 for UTIME_OMIT; with the option nanosecondTimes (patched binding):
       * BigInt nanoseconds since the epoch, null for UTIME_OMIT.
       */
      utimens?(path: string, atime: number | bigint | null, mtime: number | bigint | null, cb: Cb): void
      readlink?(path: string, cb: CbWith<string>): void
      chown?(path: string, uid: number, gid: number, cb: Cb): void
      chmod?(path: string, mode: number, cb: Cb): void
      mknod?(path: string, mode: number, dev: number, cb: Cb): void
      setxattr?(path: string, name: string, value: Buffer, position: number, flags: number, cb: Cb): void
      getxattr?(path: string, name: string, position: number, cb: (code: number, value?: Buffer | null) => void): void
      listxattr?(path: string, cb: CbWith<string[]>): void
      removexattr?(path: string, name: string, cb: Cb): void
      open?(path: string, flags: number, cb: CbWith<number>): void
      opendir?(path: string, flags: number, cb: CbWith<number>): void
      read?(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Cb): void
      write?(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Cb): void
      release?(path: string, fd: number, cb: Cb): void
      releasedir?(path: string, fd: number, cb: Cb): void
      create?(path: string, mode: number, cb: CbWith<number>): void
      unlink?(path: string, cb: Cb): void
      rename?(src: string, dest: string, cb: Cb): void
      link?(src: string, dest: string, cb: Cb): void
      symlink?(src: string, dest: string, cb: Cb): void
      mkdir?(path: string, mode: number, cb: Cb): void
      rmdir?(path: string, cb: Cb): void
    }

    export interface FuseOptions {
      force?: boolean
      mkdir?: boolean
      debug?: boolean
      allowOther?: boolean
      allowRoot?: boolean
      autoUnmount?: boolean
      defaultPermissions?: boolean
      fsname?: string
      subtype?: string
      kernelCache?: boolean
      autoCache?: boolean
      entryTimeout?: number
      attrTimeout?: number
      maxRead?: number
      timeout?: number | false | Record<string, number>
      /** utimens gets BigInt nanoseconds (scripts/fuse-native-nanos.js). */
      nanosecondTimes?: boolean
    }
  }

  class Fuse {
    constructor(mnt: string, ops: Fuse.FuseOps, opts?: Fuse.FuseOptions)
    readonly mnt: string
    mount(cb: (err: Error | null) => void): void
    unmount(cb: (err: Error | null) => void): void
    protected _fuseOptions(): string
    protected ops: Fuse.FuseOps
    protected _op_getattr(signal: unknown, path: string): void
    protected _op_fgetattr(signal: unknown, path: string, fd: number): void
    static unmount(mnt: string, cb: (err: Error | null) => void): void
    /** Set by scripts/patch-fuse-native.js: stat times may be BigInt nanoseconds. */
    static NANOSECOND_TIMES?: boolean
    static [errno: string]: unknown
    static EPERM: number
    static ENOENT: number
    static EIO: number
    static EBADF: number
    static EACCES: number
    static EBUSY: number
    static EEXIST: number
    static EXDEV: number
    static ENOTDIR: number
    static EISDIR: number
    static EINVAL: number
    static ENOSPC: number
    static EROFS: number
    static ENAMETOOLONG: number
    static ENOSYS: number
    static ENOTEMPTY: number
    static ENODATA: number
    static ERANGE: number
    static ENOTSUP: number
    static EOPNOTSUPP: number
    static ETIMEDOUT: number
    static ENOTCONN: number
  }
  export = Fuse
}
