// `peerstore mount DIR`: the product. Runs in the foreground with a one-line
// status; Ctrl-C or SIGTERM (also what `peerstore unmount` sends) flushes and
// unmounts; a dead mount from a crash is cleared first, and files programs
// wrote into the bare directory after a crash are moved aside (mountpoint.ts).

import path from 'node:path'
import { findMountProcesses, isFuseMounted, isPeerstoreFs, isStaleMount, mountAt } from '../../fuse/mount-process'
import { findMount, prepareRegistry, registerMount, unregisterMount } from '../../fuse/mount-registry'
import { mountEnded, prepareMountpoint } from '../../fuse/mountpoint'
import { checkFuse } from '../../fuse/prerequisites'
import { offlineNote } from '../../volume/offline-note'
import { ago } from '../../volume/chunks/chunk-store'
import { openVolume } from '../../app/open-volume'
import { runningMount, startShareControl } from '../../app/share-control'
import { type DevicePresence, startDevicePresence } from '../../app/device-presence'
import { checkDeviceName, deviceIdentity } from '../../volume/devices/device-identity'
import { SHARED_DIR_NAME } from '../../volume/sharing/names'
import { SharedView } from '../../volume/sharing/view'
import { type Command, parseArgs, requirePositionals } from '../command'
import { guardProcess } from '../process-guard'
import { hasUserIdentity, homeExists, newIdentityNotice } from '../home'
import { configFromFlags, NETWORK_FLAGS, STOP_SIGNALS } from '../node-flags'

const MiB = 1024 * 1024

// libuv's thread pool is sized for the mount by bin/peerstore.ts, before
// lib/cli is loaded (lib/fuse/threadpool.ts says why it cannot be here).

export const mountCommand: Command = {
  name: 'mount',
  home: 'creates',
  summary: 'mount your encrypted store as a directory (foreground; Ctrl-C unmounts)',
  positionals: 'DIR',
  flags: [
    ...NETWORK_FLAGS,
    {
      name: 'client-only',
      type: 'boolean',
      description: 'join as a client that stores nothing (a laptop beside always-on servers)'
    },
    {
      name: 'allow-other',
      type: 'boolean',
      description: 'let other local users in (allow_other + default_permissions; needs user_allow_other)'
    },
    {
      name: 'sync-interval',
      type: 'number',
      value: 'MS',
      min: 0,
      description:
        'how often to poll for changes made on your other computers (default 1000; while the ring pushes them, every 10 s or MS if longer; 0: never)'
    },
    {
      name: 'device-name',
      type: 'string',
      value: 'NAME',
      description: "this computer's name in 'peerstore devices' (kept for later mounts; default: the host name)"
    },
    { name: 'debug', type: 'boolean', description: 'print every FUSE request (libfuse debug)' }
  ],
  async run(args, ctx) {
    requirePositionals(args, 1, 'DIR')
    const mountpoint = path.resolve(args.positionals[0])
    // Asked first: reading the flags below writes a fresh home's config.
    const newHome = !homeExists(ctx.home)
    const hadIdentity = hasUserIdentity(ctx.home)
    // Parsed before anything is mounted, so a bad flag is a usage error, not a half-started mount.
    const config = configFromFlags(ctx.home, args)
    const clientOnly = Boolean(args.flags['client-only'])
    const syncIntervalMs = args.flags['sync-interval'] === undefined ? undefined : Number(args.flags['sync-interval'])
    const deviceName = args.flags['device-name'] === undefined ? undefined : String(args.flags['device-name'])
    if (deviceName !== undefined) checkDeviceName(deviceName)
    const problem = checkFuse()
    if (problem) {
      ctx.stderr.write(`peerstore mount: ${problem}\n`)
      return 1
    }
    // The registry must be ours alone before anything is written to it (docs/fuse.md, "Local users and crashes").
    prepareRegistry()
    const existing = mountAt(mountpoint)
    if (existing && isPeerstoreFs(existing) && !isStaleMount(mountpoint)) {
      const pid = findMount(mountpoint, mountDirOfArgs)?.pid ?? findMountProcesses(mountpoint, mountDirOfArgs)[0]
      ctx.stderr.write(`peerstore mount: ${mountpoint} is already mounted${pid ? ` by pid ${pid}` : ''}\n`)
      return 1
    }
    // One process per home owns its Volume: a second mount of the home says where the first one is.
    const other = await runningMount(ctx.home)
    if (other) {
      ctx.stderr.write(
        `peerstore mount: ${ctx.home} is already mounted at ${other.mountpoint}${other.pid ? ` (pid ${other.pid})` : ''}; ` +
          `'peerstore unmount ${other.mountpoint}' first, or use that mount\n`
      )
      return 1
    }
    // From here on an error we did not foresee is logged; it never ends the mount (ENOTCONN for every program).
    const unguard = guardProcess((line) => ctx.stderr.write(`\n${line}\n`))
    // Kept before the Volume opens, so that the certificate it makes for this computer has the name.
    if (deviceName !== undefined) deviceIdentity(ctx.home, deviceName)
    // Loaded only now: requiring fuse-native fails where libfuse2 is missing.
    const { PeerstoreMount } = await import('../../fuse/mount')
    const opened = await openVolume(
      ctx.home,
      {
        onError: (err) => ctx.stderr.write(`\npeerstore mount: background: ${err.message}\n`),
        ...(syncIntervalMs === undefined ? {} : { syncIntervalMs })
      },
      {
        config,
        host: args.flags.host as string | undefined,
        clientOnly,
        notice: (line) => ctx.stderr.write(`peerstore mount: ${line}\n`)
      }
    )
    const volume = opened.volume
    if (newHome) ctx.stderr.write(`peerstore mount: created a new PeerStore home at ${ctx.home}\n`)
    if (!hadIdentity && hasUserIdentity(ctx.home)) ctx.stderr.write(`peerstore mount: ${newIdentityNotice(ctx.home)}\n`)
    // Shares other users gave this one, read-only under DIR/@shared (docs/volume.md, "Sharing").
    const shares = new SharedView({
      home: ctx.home,
      store: volume.store,
      keys: volume.keys,
      chunks: volume.chunks,
      onError: (err) => ctx.stderr.write(`\npeerstore mount: shares: ${err.message}\n`)
    })
    if (volume.root.entries.has(SHARED_DIR_NAME)) {
      ctx.stderr.write(
        `peerstore mount: your own /${SHARED_DIR_NAME} (made by an older version) is hidden by the shares view; ` +
          `'peerstore get /${SHARED_DIR_NAME} DEST' restores it\n`
      )
    }
    const mount = new PeerstoreMount(mountpoint, volume, {
      allowOther: Boolean(args.flags['allow-other']),
      debug: Boolean(args.flags.debug),
      log: (line) => ctx.stderr.write(`${line}\n`),
      shares
    })
    // `peerstore share` / `unshare` from another shell reach this mount's Volume here.
    let control: Awaited<ReturnType<typeof startShareControl>> | null = null
    let presence: DevicePresence | null = null
    let prepared = false
    try {
      control = await startShareControl(ctx.home, volume, { mountpoint })
      // This computer in the user's device list ('peerstore devices'), refreshed while mounted.
      presence = startDevicePresence(volume, {
        name: deviceName,
        notice: (line) => ctx.stderr.write(`\npeerstore mount: ${line}\n`)
      })
      // With the home locked: no other mount of this home can be running.
      prepareMountpoint({
        mountpoint,
        home: ctx.home,
        notice: (line) => ctx.stderr.write(`peerstore mount: ${line}\n`)
      })
      prepared = true
      await mount.ready()
    } catch (err) {
      if (prepared) mountEnded(ctx.home)
      await presence?.stop()
      await control?.close()
      await opened.close()
      throw err
    }
    try {
      registerMount({ pid: process.pid, mountpoint, home: ctx.home })
    } catch (err) {
      // Checked before mounting; if it changed since, `unmount` still finds this process through /proc.
      ctx.stderr.write(`peerstore mount: not registered: ${(err as Error).message}\n`)
    }

    const tty = (ctx.stdout as NodeJS.WriteStream).isTTY === true
    const statusLine = () => {
      const s = opened.volume.status()
      const upload =
        s.pendingChunks > 0
          ? `uploading ${s.pendingChunks} chunks (${(s.pendingBytes / MiB).toFixed(1)} MiB)`
          : 'all uploaded'
      const others = s.fromOtherDevices > 0 ? ` · ${s.fromOtherDevices} updates from your other computers` : ''
      const failing = s.uploadFailure
        ? ` · uploads failing for ${ago(s.uploadFailure.since)} (${s.uploadFailure.code}: ${s.uploadFailure.message.slice(0, 80)}), retrying`
        : ''
      return `peerstore: mounted ${mountpoint}${offlineNote(s)} · ${s.inodes} inodes · ${s.dirty} unsaved · ${upload}${failing}${others} · Ctrl-C to unmount`
    }
    ctx.stdout.write(tty ? statusLine() : `peerstore: mounted ${mountpoint}\n`)

    // An interval, not waitFor(): it also redraws the status line, and it has
    // no deadline (the mount lives until a signal or an unmount from outside).
    const reason = await new Promise<string>((resolve) => {
      const timer = setInterval(() => {
        if (!isFuseMounted(mountpoint)) return resolve('unmounted from outside')
        if (tty) ctx.stdout.write(`\r\x1b[K${statusLine()}`)
      }, 1000)
      const onSignal = (sig: string) => {
        clearInterval(timer)
        resolve(sig)
        // A second signal means "now": exit without waiting for the flush.
        const force = () => process.exit(1)
        for (const s of STOP_SIGNALS) process.once(s, force)
      }
      for (const s of STOP_SIGNALS) process.once(s, () => onSignal(s))
    })
    if (tty) ctx.stdout.write('\n')
    ctx.stdout.write(`peerstore: ${reason}: flushing and unmounting ${mountpoint}\n`)
    const started = Date.now()
    let unmounted = started
    try {
      await presence.stop()
      await control.close()
      await mount.close()
      unmounted = Date.now()
      await opened.close()
      // Only now: a mount that failed to flush counts as a crash for the next one (mountpoint.ts).
      mountEnded(ctx.home)
    } finally {
      unregisterMount(mountpoint)
    }
    const secs = (ms: number) => (ms / 1000).toFixed(1)
    ctx.stdout.write(
      `peerstore: unmounted (${secs(unmounted - started)} s; ${secs(Date.now() - unmounted)} s more to close the store and leave the ring)\n`
    )
    unguard()
    // After an unmount from outside, fuse-native skips its native cleanup and
    // its thread keeps the event loop alive: everything is flushed, so leave.
    setTimeout(() => process.exit(0), 1000).unref()
    return 0
  }
}

/** DIR of a `peerstore mount` command line (the arguments after `mount`), as the CLI itself parses it. */
export function mountDirOfArgs(args: string[]): string | undefined {
  try {
    return parseArgs(args, mountCommand.flags).positionals[0]
  } catch {
    return undefined
  }
}
