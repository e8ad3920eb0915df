// A machine whose disk is full (its home on a small tmpfs, filled) among the
// k machines responsible for a value: it refuses the copy with ENOSPC over
// the wire, the next machine on the ring stands in, and the write succeeds
// on k machines with room (before: EREPLICAS after four rounds). The full
// machine keeps serving what it held.

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { createChunkClaim, keyPairFromSeed, randomBytes, sha256 } from '../../lib/crypto'
import { FileKind, METHODS, PostFileRequest, PostFileResponse } from '../../lib/node/file-messages'
import { copiesOf, createTestRing, responsibleOf, ringConsistent } from '../helpers/ring'
import { smallDisk } from '../helpers/tmpfs'
import { waitFor } from '../helpers/wait'

const MiB = 1024 * 1024
/** The user who stores these values (chunks travel with their uploader's signed claim). */
const user = keyPairFromSeed(randomBytes(32))

test('a full replica refuses with ENOSPC and the next machine stands in', { timeout: 180_000 }, async (t) => {
  const ring = await createTestRing(t, { replicas: 2 })
  const writer = await ring.add()
  const other = await ring.add()
  const full = await ring.add({ home: smallDisk(t, 24, 'full-replica') })
  await waitFor('a consistent 3-node ring', () => ringConsistent(ring.nodes), 60_000)

  // A value the full node already holds, stored while it had room.
  let held: Buffer | null = null
  for (let i = 0; i < 200 && !held; i++) {
    const bytes = randomBytes(1000 + i)
    if (responsibleOf(ring.nodes, sha256(bytes), 2).includes(full)) {
      await writer.client.putImmutable(bytes, user)
      held = bytes
    }
  }
  t.ok(held, 'a value placed on the full node first')

  // Fill its disk.
  const filler = path.join(full.home, 'filler')
  const fd = fs.openSync(filler, 'w')
  try {
    for (;;) fs.writeSync(fd, Buffer.alloc(MiB))
  } catch (err) {
    t.is((err as NodeJS.ErrnoException).code, 'ENOSPC', 'the full node has no room left')
  } finally {
    fs.closeSync(fd)
  }

  // Values for which the writer and the full node are the two responsible machines.
  let tried = 0
  for (let i = 0; i < 2000 && tried < 3; i++) {
    const bytes = randomBytes(256 * 1024)
    const key = sha256(bytes)
    const holders = responsibleOf(ring.nodes, key, 2)
    if (!(holders.includes(writer) && holders.includes(full))) continue
    tried++
    await writer.client.putImmutable(bytes, user)
    t.is(await copiesOf([writer, other], key), 2, 'stored on the two machines with room')
    t.absent(await full.store!.stat(key), 'not on the full one')
  }
  t.is(tried, 3, 'three such values written')

  // A direct copy to the full node is refused with a clear code over the wire.
  const bytes = randomBytes(256 * 1024)
  let code: string | null = null
  try {
    await writer.network.request(
      full.publicKey,
      METHODS.PostFile,
      {
        key: sha256(bytes),
        kind: FileKind.Immutable,
        bytes,
        replicate: false,
        claim: createChunkClaim(user, sha256(bytes))
      },
      PostFileRequest,
      PostFileResponse
    )
  } catch (err) {
    code = (err as { code?: string }).code ?? null
  }
  t.is(code, 'ENOSPC', 'the full node answers ENOSPC')
  const got = await full.store!.get(sha256(held!))
  t.ok(got?.bytes.equals(held!), 'and still serves what it held')
  fs.rmSync(filler, { force: true })
})
