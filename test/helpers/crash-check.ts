// SIGKILL a mount right after close() of a large file returned, remount,
// check; then right after fsync() returned, remount, check: the remount shows
// the same tree (a marker file written first) and every confirmed byte
// (sha256). Returns the last remount.

import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { Test } from 'brittle'
import { type Mount, sh, startMount } from './mount'
import { waitForOneRing, waitForPeers } from './peers'
import { tempDir } from './temp-dir'
import { waitFor } from './wait'

const MiB = 1024 * 1024

function sha(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

export async function crashAndCheck(
  t: Test,
  mount: Mount,
  opts: {
    label: string
    args: string[]
    sizeMiB?: number
    markerVia?: Mount
    /** A member mount: the machines of the whole ring, which it must be part of again before the reads. */
    ringMachines?: number
  }
): Promise<Mount> {
  // The marker: written (and fsync'd) through `markerVia` (another computer) or this mount.
  const writer = opts.markerVia ?? mount
  if (!fs.existsSync(path.join(writer.dir, 'marker.txt'))) {
    fs.writeFileSync(path.join(writer.dir, 'marker.txt'), 'the one tree\n')
    sh(`sync ${writer.dir}/marker.txt ${writer.dir}`)
  }
  await waitFor('the marker', () => fs.readFileSync(path.join(mount.dir, 'marker.txt'), 'utf8') === 'the one tree\n', {
    timeoutMs: 60_000,
    intervalMs: 500,
    retryErrors: true
  })
  const src = tempDir(t, 'crash-src')
  const expected = new Map<string, string>()
  let current = mount
  for (const how of ['close', 'fsync'] as const) {
    const name = `${opts.label}-${how}.bin`
    fs.writeFileSync(path.join(src, name), randomBytes((opts.sizeMiB ?? 16) * MiB + 11))
    expected.set(name, sha(path.join(src, name)))
    // cp returns after close(); dd conv=fsync after fsync(). The kill follows at once.
    if (how === 'close') sh(`cp ${src}/${name} ${current.dir}/${name}`)
    else sh(`dd if=${src}/${name} of=${current.dir}/${name} bs=1M conv=fsync status=none`)
    await current.kill()
    const started = Date.now()
    current = await startMount(t, { home: current.home, dir: current.dir, args: opts.args, readyTimeoutMs: 180_000 })
    t.comment(`${opts.label} remounted ${Date.now() - started} ms after a SIGKILL right after ${how}`)
    // On a loaded machine the remount may come up before its node reaches the ring (it then works
    // offline from what it has seen, and chunks held elsewhere answer EIO): check once it is back.
    await waitForPeers([current.home], 1, 120_000)
    // A member's first peer is not yet its place in the ring: a read routed before it has one found no
    // holder and answered EIO once on a loaded CI machine. Wait for the whole ring, as a user would see
    // in `peerstore status`.
    if (opts.ringMachines) await waitForOneRing([current.home], opts.ringMachines, 120_000)
    t.is(
      fs.readFileSync(path.join(current.dir, 'marker.txt'), 'utf8'),
      'the one tree\n',
      `${opts.label}: the same tree`
    )
    for (const [file, sum] of expected) {
      let got: string
      try {
        got = sha(path.join(current.dir, file))
      } catch (err) {
        got = `${(err as Error).message}; mount output:\n${current.output()}`
      }
      t.is(got, sum, `${file}: every confirmed byte`)
    }
  }
  return current
}
