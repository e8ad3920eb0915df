// `peerstore share` and `unshare` change the sharer's tree (re-keying) and
// records, so they need the home's Volume, which a running mount holds (one
// process per home). The mount therefore answers them on a control socket of
// its own, <home>/mount-control/control.sock (owner only), with the same
// JSON-lines protocol as the node's control socket; with no mount running
// the CLI opens the Volume itself. `peerstore check` and `devices` use the same socket,
// and so do `ls`, `get` and `backup` (tree-access.ts) and a second `mount`
// of the home, which asks where this one is mounted.

import fs from 'node:fs'
import path from 'node:path'
import { ControlClient, ControlServer, controlSocketPath } from '../node/control'
import { openVolume } from './open-volume'
import { errorCode } from '../common/errors'
import { treeHandlers } from './tree-access'
import { listGrants, shareWith, unshareWith } from '../volume/sharing/share'
import type { Volume } from '../volume/volume'
import { deviceKeyOf } from '../volume/devices/device-identity'
import { readDevices } from '../volume/devices/device-list'
import { revokeDevice } from '../volume/devices/revoke'
import { resignFixedRecordsOf, resignRecordsOf } from '../volume/devices/resign'
import { REVOCATION_CACHE_MS } from '../node/device-revocations'
import { sleep } from '../common/retry'

function controlDir(home: string): string {
  return path.join(home, 'mount-control')
}

export type ShareMethod = 'share' | 'unshare' | 'grants' | 'check' | 'devices' | 'revoke-device'

/** Re-keying a big tree or checking it can take long; still bounded, so a stuck mount never hangs the CLI. */
const SHARE_CALL_TIMEOUT_MS = 10 * 60_000

/** Where the home's running mount is, as it answers 'mount.info'. */
export interface MountInfoReply {
  mountpoint: string
  pid: number
}

async function runLocal(volume: Volume, method: ShareMethod, params: Record<string, unknown>): Promise<unknown> {
  const to = Buffer.from(String(params.to ?? ''), 'hex')
  if (method === 'share') return shareWith(volume, String(params.path), to)
  if (method === 'unshare') return unshareWith(volume, String(params.path), to)
  if (method === 'check') {
    const report = await volume.checkAll(params.repair === true)
    // Repairs are in the store before the answer, as a share is.
    if (report.repaired.length > 0) await volume.sync()
    return report
  }
  if (method === 'devices') {
    const self = deviceKeyOf(volume.home)?.toString('hex')
    return (await readDevices(volume.store, volume.keys)).map((d) => ({ ...d, thisComputer: d.key === self }))
  }
  if (method === 'revoke-device') {
    const device = await revokeDevice(volume.store, volume.keys, String(params.device), deviceKeyOf(volume.home))
    const key = Buffer.from(device.key, 'hex')
    // Until every storage node has dropped the list it held before, one may
    // still take the revoked device's writes; what this computer re-signs
    // after that can no longer be overwritten by it.
    await sleep(REVOCATION_CACHE_MS + 1000)
    const resigned = await resignRecordsOf(volume, key)
    const resignedOther = await resignFixedRecordsOf(volume, key)
    return { ...device, resigned, resignedOther }
  }
  return listGrants(volume)
}

/** Started by the mount: serves share/unshare, check and the tree verbs on its Volume. */
export async function startShareControl(
  home: string,
  volume: Volume,
  info: { mountpoint: string }
): Promise<ControlServer> {
  fs.mkdirSync(controlDir(home), { recursive: true, mode: 0o700 })
  const run = (method: ShareMethod) => (params: Record<string, unknown>) => runLocal(volume, method, params)
  const mountInfo: MountInfoReply = { mountpoint: info.mountpoint, pid: process.pid }
  const server = new ControlServer(controlDir(home), {
    share: run('share'),
    unshare: run('unshare'),
    grants: run('grants'),
    check: run('check'),
    'mount.info': async () => mountInfo,
    devices: run('devices'),
    'revoke-device': run('revoke-device'),
    ...treeHandlers(volume)
  })
  await server.ready()
  return server
}

/** A client of the home's running mount, or null when no mount of it runs (it is still starting, at most). */
export function connectToMount(home: string): Promise<ControlClient | null> {
  return ControlClient.connect(controlSocketPath(controlDir(home)))
}

/** Where the home's running mount is, or null when none runs. */
export async function runningMount(home: string): Promise<MountInfoReply | null> {
  const client = await connectToMount(home)
  if (!client) return null
  try {
    return await client.call<MountInfoReply>('mount.info')
  } catch (err) {
    // A mount of an older version knows no 'mount.info': it is mounted, somewhere.
    if (errorCode(err) === 'EINVAL') return { mountpoint: '(a mount of an older peerstore)', pid: 0 }
    throw err
  } finally {
    client.close()
  }
}

/** Runs a share method in the home's running mount, or on the Volume opened here when none runs. */
export async function onOwnVolume<T>(
  home: string,
  method: ShareMethod,
  params: Record<string, unknown>,
  /** Wraps opening the Volume here (the CLI says "connecting to the ring…" when it is slow). */
  opening: <V>(started: Promise<V>) => Promise<V> = (started) => started
): Promise<T> {
  const client = await connectToMount(home)
  if (client) {
    try {
      return await client.call<T>(method, params, { timeoutMs: SHARE_CALL_TIMEOUT_MS })
    } finally {
      client.close()
    }
  }
  const opened = await opening(openVolume(home))
  try {
    return (await runLocal(opened.volume, method, params)) as T
  } finally {
    await opened.close()
  }
}
