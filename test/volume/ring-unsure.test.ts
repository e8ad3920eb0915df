// "Not found" versus "could not tell" on a real ring (issue 12, item 9): six
// `peerstore serve` processes (k = 3) and a client-only node in this process.
// A record is written; the three machines responsible for it are stopped
// (SIGSTOP: their connections stay open, they just do not answer, as a
// loaded or half-dead machine). The machines after them answer "not found".
// RingClient.getRecord must not call that absent: it throws EUNSURE. When the
// holders answer again, the record reads.

import test from 'brittle'
import { createRecord, recordKey } from '../../lib/crypto/record'
import { effectiveConfig } from '../../lib/node/config'
import { RingNode } from '../../lib/node/ring-node'
import { UNSURE } from '../../lib/volume/value-store'
import { keyPairFromSeed, randomBytes } from '../../lib/crypto'
import { startServeRing } from '../helpers/serve-ring'
import { waitForOneRing } from '../helpers/peers'
import { waitFor } from '../helpers/wait'

const PORT = 46_000 + Math.floor(Math.random() * 1000)
const SERVE_NODES = 6

test('getRecord: holders that do not answer make EUNSURE, never "absent"', { timeout: 300_000 }, async (t) => {
  const ring = await startServeRing(t, { port: PORT, nodes: SERVE_NODES })
  const clientHome = ring.member
  const servers = ring.servers
  const keys = ring.nodeKeys
  await waitForOneRing(ring.serveHomes, SERVE_NODES, 120_000)

  const node = new RingNode({
    home: clientHome,
    config: effectiveConfig(clientHome, {}),
    host: '127.0.0.1',
    clientOnly: true
  })
  t.teardown(() => node.destroy())
  await node.ready()
  await node.waitForGateway(60_000)

  const user = keyPairFromSeed(randomBytes(32))
  const name = randomBytes(32)
  const key = recordKey(user.publicKey, name)
  await node.client.putRecord(createRecord(user, name, 1, Buffer.from('the tree')), 0, key)
  t.is((await node.client.getRecord(key))?.version, 1, 'read while every holder answers')

  const holders = (await node.client.responsible(key)).map((n) => n.address)
  const stopped = servers.filter((_, i) => holders.includes(keys[i]))
  t.comment(`responsible: ${holders.map((a) => a.slice(0, 8)).join(', ')}`)
  t.is(stopped.length, 3, 'the three responsible machines are serve processes')
  t.teardown(() => {
    for (const s of stopped) s.child.kill('SIGCONT')
  })
  for (const s of stopped) s.child.kill('SIGSTOP')

  const started = Date.now()
  const err = await node.client.getRecord(key).then(
    (rec) => rec,
    (e: Error & { code?: string }) => e
  )
  t.comment(
    `answer after ${Date.now() - started} ms: ${err instanceof Error ? `${err.code} ${err.message}` : JSON.stringify(err)}`
  )
  t.ok(err instanceof Error, 'not null: the ring could not tell')
  t.is((err as { code?: string }).code, UNSURE, 'EUNSURE')

  for (const s of stopped) s.child.kill('SIGCONT')
  // Resumed machines may have been taken for dead by their neighbours
  // meanwhile and must be welcomed back first: on a loaded two-core CI
  // machine that took longer than 30 s once, so the wait is generous.
  const resumed = Date.now()
  let rec = null as Awaited<ReturnType<typeof node.client.getRecord>>
  let lastError = ''
  await waitFor(
    'the record read again',
    async () => {
      const got = await node.client.getRecord(key).catch((e: Error & { code?: string }) => {
        lastError = `${e.code} ${e.message}`
        return null
      })
      rec = got
      return got !== null
    },
    { timeoutMs: 120_000, intervalMs: 1000, failOnTimeout: false }
  )
  t.comment(`read again ${Date.now() - resumed} ms after SIGCONT${rec ? '' : `; last error: ${lastError}`}`)
  t.is(rec?.version, 1, 'read again once the holders answer')
})
