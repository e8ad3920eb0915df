// A process that holds a home's control socket but never answers (stuck):
// every verb that asks it gives a clear error and a non-zero exit in bounded
// time, never a hang (issue 16). The socket here is a stand-in that accepts
// connections and reads requests without answering, as a wedged node would.

import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import test from 'brittle'
import { initHome, runPeerstore } from '../helpers/cli'
import { tempDir } from '../helpers/temp-dir'

async function stuckSocket(t: { teardown(fn: () => unknown): void }, socketPath: string): Promise<void> {
  fs.mkdirSync(path.dirname(socketPath), { recursive: true })
  const sockets = new Set<net.Socket>()
  const server = net.createServer((s) => {
    sockets.add(s)
    s.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(socketPath, resolve))
  t.teardown(async () => {
    for (const s of sockets) s.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
}

const env = { PEERSTORE_CONTROL_TIMEOUT_MS: '2000' }

test('a stuck node or mount: status, ls, get and a second mount fail clearly in bounded time', async (t) => {
  const home = await initHome(tempDir(t, 'home'))
  await stuckSocket(t, path.join(home, 'control.sock'))
  await stuckSocket(t, path.join(home, 'mount-control', 'control.sock'))
  const mnt = tempDir(t, 'mnt')
  for (const args of [['status'], ['ls', '/'], ['get', '/a', tempDir(t, 'out')], ['mount', mnt]]) {
    const started = Date.now()
    const res = await runPeerstore([...args, '--home', home], { env, timeoutMs: 30_000 })
    const ms = Date.now() - started
    t.is(res.code, 1, `${args[0]}: exit 1`)
    t.ok(ms < 10_000, `${args[0]}: gave up in ${ms} ms`)
    t.ok(res.stderr.includes('did not answer'), `${args[0]}: ${res.stderr.trim()}`)
  }
})
