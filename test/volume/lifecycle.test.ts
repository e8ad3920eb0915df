// The Volume's lifecycle (ready-resource): a second ready() is the first one,
// so a crashed session's journal is replayed once and one flusher runs.

import test from 'brittle'
import { recordCopyStoreFor } from '../../lib/app/record-copy-store'
import { randomBytes } from '../../lib/crypto'
import { ChunkReadCache } from '../../lib/volume/chunks/read-cache'
import { LocalValueStore } from '../../lib/volume/local-value-store'
import { Volume } from '../../lib/volume/volume'
import { tempDir } from '../helpers/temp-dir'
import { openVolume } from '../helpers/volume'

test('a second ready() neither replays the journal again nor opens the volume twice', async (t) => {
  const home = tempDir(t, 'home')
  const storeDir = tempDir(t, 'store')
  const v1 = await openVolume(home, storeDir)
  const inode = await v1.create('/a', 0o644)
  const data = randomBytes(1000)
  await v1.write(inode, data, 0)
  await v1.closeFile(inode)
  // Abandon v1 without close(): as if SIGKILLed, so the next open replays its journal.
  // Closed only once the test is over, before its folders go, so its timers write nowhere afterwards.
  t.teardown(() => v1.close().catch(() => {}))

  const store = new LocalValueStore(storeDir)
  await store.ready()
  const notices: string[] = []
  const v2 = new Volume({
    home,
    store,
    recordCopy: recordCopyStoreFor(home),
    readCacheBytes: 0,
    flushIntervalMs: 60_000,
    notice: (line) => notices.push(line)
  })
  const first = v2.ready()
  const second = v2.ready()
  t.is(second, first, 'a second ready() while opening is the first one')
  await Promise.all([first, second])
  await v2.ready()
  t.is(v2.ready(), first, 'a ready() after opening is the first one too')
  const replays = notices.filter((line) => line.startsWith('replaying '))
  t.is(replays.length, 1, `the journal is replayed once: ${notices.join(' | ')}`)

  const got = Buffer.alloc(data.length)
  const n = await v2.read(await v2.resolve('/a'), got, got.length, 0)
  t.alike(got.subarray(0, n), data, 'the replayed file reads back')

  const closing = v2.close()
  t.is(v2.close(), closing, 'a second close() is the first one')
  await closing
})

test('the local value store and the chunk read cache open once and close once', async (t) => {
  const store = new LocalValueStore(tempDir(t, 'store'))
  const opening = store.ready()
  t.is(store.ready(), opening, 'a second ready() of the store is the first one')
  await opening
  const closing = store.close()
  t.is(store.close(), closing, 'a second close() of the store is the first one')
  await closing

  const cache = new ChunkReadCache(tempDir(t, 'chunks'), 1024 * 1024)
  const ready = cache.ready()
  t.is(cache.ready(), ready, 'a second ready() of the read cache is the first one')
  await ready
})
