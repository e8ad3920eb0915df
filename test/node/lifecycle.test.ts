// Lifecycles of the node's long-lived parts: a second ready() is the first
// one's promise, close() and destroy() share one shutdown, and a service that
// closes stops serving its RPCs on a network that lives on (a request for its
// method then gets EUNKNOWNMETHOD, as from a node that never served it).

import fs from 'node:fs'
import test, { type Test } from 'brittle'
import { ChordNode } from '../../lib/chord'
import { keyPairFromSeed, randomBytes } from '../../lib/crypto'
import { type Encoding, PeerNetwork } from '../../lib/net'
import { NetChordTransport } from '../../lib/node/chord-transport'
import { ControlServer } from '../../lib/node/control'
import { FileService } from '../../lib/node/file-service'
import { GetFileRequest, GetFileResponse, METHODS } from '../../lib/node/file-messages'
import { RecordWatcher } from '../../lib/node/record-watcher'
import { SYNC_KEYS_METHOD, SyncKeysRequest, SyncKeysResponse } from '../../lib/node/repair-messages'
import { RingNode } from '../../lib/node/ring-node'
import { SyncKeysResponder } from '../../lib/node/sync-keys-responder'
import { UnwatchResponse, WATCH_METHODS, WatchEvent } from '../../lib/node/watch-messages'
import { NodeStore } from '../../lib/storage'
import { tempDir } from '../helpers/temp-dir'

async function loneNetwork(t: Test): Promise<PeerNetwork> {
  const net = new PeerNetwork({ keyPair: keyPairFromSeed(randomBytes(32)), networkKey: randomBytes(32), bootstrap: [] })
  t.teardown(() => net.close())
  await net.ready()
  return net
}

async function openStore(t: Test): Promise<NodeStore> {
  const store = new NodeStore(tempDir(t, 'lifecycle'))
  t.teardown(() => store.close())
  await store.ready()
  return store
}

/** The code a request to this node itself fails with, or null when it is answered. */
async function selfCall<Req, Res>(
  net: PeerNetwork,
  method: string,
  req: Req,
  reqEnc: Encoding<Req>,
  resEnc: Encoding<Res>
): Promise<string | null> {
  try {
    await net.request(net.publicKey, method, req, reqEnc, resEnc)
    return null
  } catch (err) {
    return (err as { code?: string }).code ?? 'no code'
  }
}

test('RingNode: a second ready() is the first one, and destroy() shares close()', async (t) => {
  const node = new RingNode({
    home: tempDir(t, 'lifecycle'),
    config: { networkKey: randomBytes(32), bootstrap: [], replicas: 1 }
  })
  const first = node.ready()
  t.is(node.ready(), first, 'a second ready() returns the first call’s promise')
  await first
  t.ok(node.chord.isMember, 'a lone node is a ring of one')
  const destroyed = node.destroy()
  t.is(node.close(), destroyed, 'close() after destroy() is the same shutdown')
  await destroyed
})

test('NodeStore and ControlServer: a second ready() is the first one', async (t) => {
  const store = new NodeStore(tempDir(t, 'lifecycle'))
  const opening = store.ready()
  t.is(store.ready(), opening)
  await opening
  const closing = store.close()
  t.is(store.close(), closing)
  await closing

  const home = tempDir(t, 'lifecycle')
  const control = new ControlServer(home, { ping: async () => 'pong' })
  const listening = control.ready()
  t.is(control.ready(), listening)
  await listening
  t.teardown(() => control.close())
  const second = new ControlServer(home, {})
  await t.exception(second.ready(), /already running/, 'a second node of the same home is refused (EBUSY)')
  await second.close()
  t.ok(fs.existsSync(control.socketPath), 'and the refused one leaves the running node’s socket alone')
})

test('FileService serves its RPCs from start() until close()', async (t) => {
  const net = await loneNetwork(t)
  const store = await openStore(t)
  const files = new FileService({ network: net, store, router: { responsible: async () => [] }, replicas: 1 })
  const get = () => selfCall(net, METHODS.GetFile, { key: randomBytes(32), start: 0 }, GetFileRequest, GetFileResponse)
  t.is(await get(), 'EUNKNOWNMETHOD', 'nothing is served before start()')
  files.start()
  t.is(await get(), null, 'served after start()')
  files.close()
  t.is(await get(), 'EUNKNOWNMETHOD', 'a closed service answers as one that never served')
})

test('RecordWatcher takes watch events and follows peers only until close()', async (t) => {
  const net = await loneNetwork(t)
  const before = net.listenerCount('peer-add') + net.listenerCount('peer-remove')
  const watcher = new RecordWatcher({ network: net, responsible: async () => [] })
  watcher.start()
  const event = () =>
    selfCall(net, WATCH_METHODS.WatchEvent, { key: randomBytes(32), version: 1 }, WatchEvent, UnwatchResponse)
  t.is(await event(), null, 'served after start()')
  t.is(net.listenerCount('peer-add') + net.listenerCount('peer-remove'), before + 2)
  watcher.close()
  t.is(await event(), 'EUNKNOWNMETHOD', 'not served after close()')
  t.is(net.listenerCount('peer-add') + net.listenerCount('peer-remove'), before, 'its peer listeners are gone')
})

test('SyncKeysResponder answers SyncKeys only until close()', async (t) => {
  const net = await loneNetwork(t)
  const store = await openStore(t)
  const transport = new NetChordTransport(net)
  transport.start()
  t.teardown(() => transport.close())
  const chord = new ChordNode({ publicKey: net.publicKey, transport })
  t.teardown(() => chord.close())
  await chord.create()
  const responder = new SyncKeysResponder({ chord, network: net, store, replicas: 1 })
  responder.start()
  const sync = () =>
    selfCall(
      net,
      SYNC_KEYS_METHOD,
      { from: Buffer.alloc(32), to: Buffer.alloc(32, 0xff), keys: [] },
      SyncKeysRequest,
      SyncKeysResponse
    )
  t.not(await sync(), 'EUNKNOWNMETHOD', 'served (answered or refused by its own rule) after start()')
  responder.close()
  t.is(await sync(), 'EUNKNOWNMETHOD', 'not served after close()')
})
