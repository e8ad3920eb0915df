// One mounted volume: the fuse-native instance with PeerStore's options, and
// the clean shutdown order (flush the volume, then unmount, so nothing a
// program wrote is still only in memory when the kernel lets go).

import fs from 'node:fs'
import path from 'node:path'
import { codedError } from '../common/errors'
import { settlesWithin } from '../common/retry'
import type { SharedView } from '../volume/sharing/view'
import type { Volume } from '../volume/volume'
import { HandleTable } from './handles'
import { makeOps } from './ops'
import { OP_TIMEOUTS_MS, TunedFuse } from './tuned-fuse'
import { ReadyResource } from '../common/resource'

export interface MountOptions {
  allowOther?: boolean
  debug?: boolean
  log?: (line: string) => void
  /** Other users' shares, shown read-only under /@shared. */
  shares?: SharedView
  /** How long close() waits for the store before it unmounts anyway (default 1 s; Volume.close goes on with the rest). */
  syncTimeoutMs?: number
}

export class PeerstoreMount extends ReadyResource {
  readonly mountpoint: string
  readonly volume: Volume
  readonly handles = new HandleTable()
  private fuse: TunedFuse | null = null
  /** Per-op counts and latency when PEERSTORE_FUSE_STATS is set; printed at unmount. */
  readonly stats = process.env.PEERSTORE_FUSE_STATS ? new Map<string, { calls: number; ms: number }>() : null
  private readonly opts: MountOptions

  constructor(mountpoint: string, volume: Volume, opts: MountOptions = {}) {
    super()
    this.mountpoint = path.resolve(mountpoint)
    this.volume = volume
    this.opts = opts
  }

  protected override async _open(): Promise<void> {
    let fuseRef: TunedFuse | null = null
    const ops = makeOps(this.volume, this.handles, {
      log: this.opts.log,
      stats: this.stats ?? undefined,
      caller: () => fuseRef?.caller ?? null,
      shares: this.opts.shares
    })
    const fuse = new TunedFuse(this.mountpoint, ops, {
      // A dead mount left by a crash (ENOTCONN) is lazily unmounted first
      // (prepareMountpoint in mountpoint.ts already does; this is the backstop).
      force: true,
      mkdir: true,
      // No autoUnmount: after a crash the dead mount stays, so programs' writes
      // fail with ENOTCONN instead of landing on the local disk (mountpoint.ts).
      // Invalidate the page cache when size or mtime changed at open; no kernel_cache (stale reads).
      autoCache: true,
      allowOther: this.opts.allowOther,
      // With other users in, let the kernel enforce the stored modes and owners.
      defaultPermissions: this.opts.allowOther,
      // Entries may be cached for 1 s: this mount is the only writer of its view. Attributes are
      // not cached (attr_timeout=0 in tuned-fuse.ts).
      entryTimeout: 1,
      debug: this.opts.debug,
      // wrap.ts answers every op before these (opDeadlineMs) with a real errno.
      timeout: { ...OP_TIMEOUTS_MS },
      // utimens gets BigInt nanoseconds (ops/attributes.ts takes milliseconds too, from an unpatched binding).
      nanosecondTimes: true
    })
    fuseRef = fuse
    await assertMountable(this.mountpoint)
    await new Promise<void>((resolve, reject) => fuse.mount((err) => (err ? reject(err) : resolve())))
    this.fuse = fuse
  }

  /**
   * Flushes the volume to the store (for at most syncTimeoutMs: with the
   * ring down Volume.close() leaves the rest to the next mount), then unmounts.
   */
  protected override async _close(): Promise<void> {
    const fuse = this.fuse
    if (!fuse) return
    await settlesWithin(this.volume.sync(), this.opts.syncTimeoutMs ?? 1000, (err) =>
      this.opts.log?.(`peerstore: flush before unmount: ${err.message}`)
    )
    this.fuse = null
    if (this.stats) {
      for (const [op, s] of [...this.stats].sort((a, b) => b[1].ms - a[1].ms)) {
        this.opts.log?.(
          `fuse-stats ${op}: ${s.calls} calls, ${(s.ms / s.calls).toFixed(3)} ms mean, ${s.ms.toFixed(0)} ms total`
        )
      }
    }
    await new Promise<void>((resolve) =>
      fuse.unmount(() => {
        // An error here means someone already ran fusermount -u: nothing left to do.
        resolve()
      })
    )
  }
}

/** A non-empty plain directory would fail with libfuse's opaque "fuse failed". */
async function assertMountable(dir: string): Promise<void> {
  let names: string[]
  try {
    names = await fs.promises.readdir(dir)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    // ENOTCONN: a stale mount, which `force` clears; ENOENT: `mkdir` creates it.
    if (code === 'ENOTCONN' || code === 'ENOENT' || code === 'ENXIO') return
    throw err
  }
  if (names.length > 0) throw codedError('ENOTEMPTY', `mountpoint ${dir} is not empty`)
}
