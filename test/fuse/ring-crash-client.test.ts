// The client-only half of ring-crash.test.ts: a client-only mount (the same
// user's second computer) on four `peerstore serve` processes (k = 3) and a
// member mount is SIGKILLed right after close() of a large file returned, and
// right after fsync() returned; each remount shows the same tree and every
// confirmed byte (sha256).

import test from 'brittle'
import { crashAndCheck } from '../helpers/crash-check'
import { startMount } from '../helpers/mount'
import { startServeRing } from '../helpers/serve-ring'
import { waitForPeers } from '../helpers/peers'

const PORT = 45_000 + Math.floor(Math.random() * 1000)

test('client-only mount, SIGKILL after close and after fsync: same tree, every confirmed byte', {
  timeout: 300_000
}, async (t) => {
  const ring = await startServeRing(t, { port: PORT, nodes: 4, client: true })
  const args = ['--host', '127.0.0.1']
  const m = await startMount(t, { home: ring.member, args, readyTimeoutMs: 90_000 })
  await waitForPeers([ring.member, ...ring.serveHomes], 4, 120_000)
  const c = await startMount(t, { home: ring.client!, args: [...args, '--client-only'], readyTimeoutMs: 180_000 })
  const after = await crashAndCheck(t, c, { label: 'client', args: [...args, '--client-only'], markerVia: m })
  t.is(await after.stop(), 0)
  t.is(await m.stop(), 0)
})
