// A hostile member (it holds the network key and a user key of its own, not
// the victim's) against six `peerstore serve` processes with k = 3
// (docs/trust-model.md). It tries every way issue 12 found to destroy or
// block another user's data: deletes without proof, with forged proofs, with
// its own signed deletes; repair tombstones dated ahead and back-dated;
// values dated ahead; deletes and tombstones at record keys; SyncKeys to
// enumerate keys. Afterwards a cold client of the victim reads every byte
// back and the victim writes new versions of its records.

import test from 'brittle'
import c from 'compact-encoding'
import {
  type ChunkClaim,
  chunkClaimEncoding,
  createChunkClaim,
  createChunkDelete,
  createRecord,
  encodeRecord,
  type KeyPair,
  keyPairFromSeed,
  randomBytes,
  recordKey,
  sha256
} from '../../lib/crypto'
import {
  DeleteFileRequest,
  DeleteFileResponse,
  DeleteProofKind,
  FileKind,
  METHODS,
  PostFileRequest,
  PostFileResponse
} from '../../lib/node/file-messages'
import type { Encoding } from '../../lib/net'
import {
  REPAIR_GET_METHOD,
  REPAIR_POST_METHOD,
  RepairGetRequest,
  RepairGetResponse,
  RepairKind,
  RepairPostRequest,
  RepairPostResponse,
  SYNC_KEYS_METHOD,
  SyncKeysRequest,
  SyncKeysResponse
} from '../../lib/node/repair-messages'
import type { NodeRef } from '../../lib/chord'
import { readConfig } from '../../lib/node/config'
import { RingNode } from '../../lib/node/ring-node'
import { RingValueStore } from '../../lib/app/ring-value-store'
import { nodeKey } from '../../lib/node/router'
import { runPeerstore } from '../helpers/cli'
import { startDaemon } from '../helpers/processes'
import { tempDir } from '../helpers/temp-dir'
import { sleep, waitFor } from '../helpers/wait'

const PORT = 52_000 + Math.floor(Math.random() * 1000)
const SERVERS = 6
const CHUNKS = 24
const RECORDS = 8

interface Tally {
  accepted: number
  refused: Map<string, number>
}

function tally(): Tally {
  return { accepted: 0, refused: new Map() }
}

function describe(t: Tally): string {
  const refused = [...t.refused].map(([code, n]) => `${n} ${code}`).join(', ')
  return `${t.accepted} accepted, refused: ${refused || 'none'}`
}

test('a hostile member cannot delete, back-date, squat or enumerate another user’s values (6 serve processes, k = 3)', async (t) => {
  t.timeout(600_000)
  const boot = startDaemon(t, ['bootstrap', '--port', String(PORT), '--host', '127.0.0.1'])
  await boot.waitFor('listening on 127.0.0.1')
  const homes = Array.from({ length: SERVERS }, () => tempDir(t, 'hostile-serve'))
  t.is((await runPeerstore(['init', '--home', homes[0], '--bootstrap', `127.0.0.1:${PORT}`])).code, 0)
  const token = (await runPeerstore(['invite', '--home', homes[0]])).stdout.trim()
  for (const home of homes.slice(1)) t.is((await runPeerstore(['join', '--home', home, token])).code, 0)
  const servers = homes.map((home) => startDaemon(t, ['serve', '--home', home, '--repair-interval', '1000']))
  await Promise.all(servers.map((s) => s.waitFor('serving node', 60_000)))
  const ringMachines = async (home: string) =>
    JSON.parse((await runPeerstore(['status', '--home', home, '--json'])).stdout).ringMachines as number
  await waitFor(
    'one ring of six serve processes',
    async () => (await Promise.all(homes.map(ringMachines))).every((n) => n === SERVERS),
    { timeoutMs: 120_000, intervalMs: 1000 }
  )
  const config = readConfig(homes[0])!

  const nodes: RingNode[] = []
  t.teardown(async () => {
    await Promise.allSettled(nodes.map((n) => n.destroy()))
  })
  const client = async (clientOnly: boolean) => {
    const node = new RingNode({
      home: tempDir(t, 'hostile-client'),
      config,
      clientOnly,
      repairIntervalMs: 1000
    })
    nodes.push(node)
    await node.ready()
    if (clientOnly) await node.waitForGateway(60_000)
    return node
  }

  // The victim writes chunks (with its claims) and records, as a mount would.
  const victim = keyPairFromSeed(randomBytes(32))
  const victimNode = await client(true)
  const victimStore = new RingValueStore(victimNode, victim)
  const values = Array.from({ length: CHUNKS }, (_, i) => randomBytes(1000 + i * 7000))
  const keys: Buffer[] = []
  for (const v of values) keys.push(await victimStore.putImmutable(v))
  const names = Array.from({ length: RECORDS }, () => randomBytes(32))
  const recordKeys = names.map((n) => recordKey(victim.publicKey, n))
  for (const name of names) await victimStore.putRecord(createRecord(victim, name, 1, randomBytes(300)), 0)
  // A record the victim has not written yet: the attacker squats its key first.
  const laterName = randomBytes(32)
  const laterKey = recordKey(victim.publicKey, laterName)

  // The hostile member: the network key (the invite token) and its own user key.
  const mallory = keyPairFromSeed(randomBytes(32))
  const hostile = await client(false)
  await waitFor(
    'the hostile member in one ring with the six serve processes, connected to each',
    async () =>
      (await hostile.status()).ringMachines === SERVERS + 1 &&
      hostile.network.peers().filter((pk) => !pk.equals(victimNode.publicKey)).length >= SERVERS,
    120_000
  )
  const self = hostile.publicKey.toString('hex')
  // The machines a read of key asks, other than the attacker itself. A lookup
  // answered while a machine is slow may list fewer; the attacker simply asks
  // again, as a real one would, so every attack below reaches k machines.
  const targetsOf = async (key: Buffer): Promise<NodeRef[]> => {
    let targets: NodeRef[] = []
    for (let attempt = 0; attempt < 5 && targets.length < config.replicas; attempt++) {
      if (attempt > 0) await sleep(1000)
      targets = (await hostile.client.responsible(key, config.replicas + 5)).filter((n) => n.address !== self)
    }
    return targets
  }
  const send = async <Req, Res>(
    tl: Tally,
    target: NodeRef,
    method: string,
    req: Req,
    reqEnc: Encoding<Req>,
    resEnc: Encoding<Res>
  ): Promise<Res | null> => {
    try {
      const res = await hostile.network.request(nodeKey(target), method, req, reqEnc, resEnc, { timeoutMs: 20_000 })
      tl.accepted++
      return res
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'unknown'
      tl.refused.set(code, (tl.refused.get(code) ?? 0) + 1)
      return null
    }
  }
  const deleteEverywhere = async (tl: Tally, key: Buffer, proofKind: DeleteProofKind, proof: Buffer) => {
    for (const target of await targetsOf(key)) {
      await send(tl, target, METHODS.DeleteFile, { key, proofKind, proof }, DeleteFileRequest, DeleteFileResponse)
    }
  }
  const encodeClaim = (cl: ChunkClaim) => c.encode(chunkClaimEncoding, cl) as Buffer
  t.ok((await targetsOf(keys[0])).length >= config.replicas, 'the attacker reaches the machines a read asks')
  const holdersNow = async (key: Buffer) => victimNode.client.holders(key)

  // 1. DeleteFile with an empty proof, on every machine a read would ask.
  const empty = tally()
  for (const key of keys) await deleteEverywhere(empty, key, DeleteProofKind.ChunkDelete, Buffer.alloc(0))
  t.comment(`empty-proof DeleteFile of ${CHUNKS} chunks: ${describe(empty)}`)
  t.is(empty.accepted, 0, 'no empty-proof delete is accepted')

  // 2. Forged proofs: the victim named as owner but signed by mallory; junk; a record tombstone of mallory's.
  const forged = tally()
  for (const key of keys) {
    const asVictim = { ...createChunkDelete(mallory, key), owner: victim.publicKey }
    await deleteEverywhere(forged, key, DeleteProofKind.ChunkDelete, encodeClaim(asVictim))
    await deleteEverywhere(forged, key, DeleteProofKind.ChunkDelete, randomBytes(106))
    const tomb = encodeRecord(createRecord(mallory, randomBytes(32), 9, Buffer.alloc(0), true))
    await deleteEverywhere(forged, key, DeleteProofKind.RecordTombstone, tomb)
  }
  t.comment(`forged-proof DeleteFile: ${describe(forged)}`)
  t.is(forged.accepted, 0, 'no forged delete is accepted')

  // 3. Mallory's own signed deletes, then her own claim on the victim's bytes and its delete.
  const own = tally()
  for (const key of keys)
    await deleteEverywhere(own, key, DeleteProofKind.ChunkDelete, encodeClaim(createChunkDelete(mallory, key)))
  t.comment(
    `mallory's own signed deletes of the victim's chunks: ${describe(own)} (accepted only where nothing is held)`
  )
  t.ok((own.refused.get('EPERM') ?? 0) >= CHUNKS * 2, 'refused as "not an owner" by the holders')
  const reposted = keys.slice(0, 4)
  for (let i = 0; i < reposted.length; i++) {
    await hostile.client.post(reposted[i], FileKind.Immutable, values[i], createChunkClaim(mallory, reposted[i]))
    const r = await hostile.client.deleteImmutable(reposted[i], mallory)
    // Taken where her claim landed (the k machines responsible now); machines
    // still holding an older copy without her claim refuse it as "not an owner".
    t.ok(r.done > 0, 'mallory may delete the claim she added by re-posting the bytes')
    t.ok(
      r.refused.every((e) => (e as { code?: string }).code === 'EPERM'),
      'refused only where she holds no claim'
    )
  }

  // 4. Repair tombstones: unsigned (the old format), dated ahead, back-dated, forged as the victim's.
  const repair = tally()
  // The serve processes: every peer but the victim's client.
  const servePeers = hostile.network
    .peers()
    .filter((pk) => !pk.equals(victimNode.publicKey))
    .map((pk) => ({ id: 0n, address: pk.toString('hex') }))
  t.is(servePeers.length, SERVERS, 'the hostile member reaches all six serve processes')
  const now = Date.now()
  for (const key of keys) {
    const copies: RepairPostRequest[] = [
      { key, kind: RepairKind.Tombstone, bytes: Buffer.alloc(0), version: 4e15, claims: [] },
      {
        key,
        kind: RepairKind.Tombstone,
        bytes: Buffer.alloc(0),
        version: now,
        claims: [createChunkDelete(mallory, key, now + 3_600_000)]
      },
      {
        key,
        kind: RepairKind.Tombstone,
        bytes: Buffer.alloc(0),
        version: 1,
        claims: [createChunkDelete(mallory, key, 1)]
      },
      {
        key,
        kind: RepairKind.Tombstone,
        bytes: Buffer.alloc(0),
        version: now,
        claims: [{ ...createChunkDelete(mallory, key, now + 60_000), owner: victim.publicKey }]
      },
      {
        key,
        kind: RepairKind.Tombstone,
        bytes: Buffer.alloc(0),
        version: 1,
        claims: [{ ...createChunkDelete(mallory, key, 1), owner: victim.publicKey }]
      }
    ]
    for (const target of servePeers) {
      for (const copy of copies)
        await send(repair, target, REPAIR_POST_METHOD, copy, RepairPostRequest, RepairPostResponse)
    }
  }
  t.comment(`RepairPost tombstones (unsigned, ahead, back-dated, forged) to every serve node: ${describe(repair)}`)
  t.ok(
    repair.accepted <= CHUNKS * SERVERS,
    'only mallory’s own back-dated delete is taken (it touches her claims only)'
  )

  // 5. Values dated ahead: a claim at 2^53−1, an unclaimed repair copy at 2^53−1.
  const future = tally()
  const bytes = randomBytes(2000)
  const fkey = sha256(bytes)
  for (const target of servePeers) {
    await send(
      future,
      target,
      METHODS.PostFile,
      {
        key: fkey,
        kind: FileKind.Immutable,
        bytes,
        replicate: false,
        claim: createChunkClaim(mallory, fkey, 2 ** 53 - 1)
      },
      PostFileRequest,
      PostFileResponse
    )
    await send(
      future,
      target,
      REPAIR_POST_METHOD,
      { key: keys[0], kind: RepairKind.Immutable, bytes: values[0], version: 2 ** 53 - 1, claims: [], unclaimed: true },
      RepairPostRequest,
      RepairPostResponse
    )
  }
  t.comment(`values dated 2^53−1: ${describe(future)}`)
  t.is(future.accepted, 0, 'no value dated far ahead is accepted')

  // 6. Record keys: empty proofs, mallory's chunk deletes, signed repair tombstones, before and after the record exists.
  const squat = tally()
  for (const key of [...recordKeys, laterKey]) {
    await deleteEverywhere(squat, key, DeleteProofKind.ChunkDelete, Buffer.alloc(0))
    await deleteEverywhere(squat, key, DeleteProofKind.ChunkDelete, encodeClaim(createChunkDelete(mallory, key)))
    for (const target of servePeers) {
      const copy: RepairPostRequest = {
        key,
        kind: RepairKind.Tombstone,
        bytes: Buffer.alloc(0),
        version: now,
        claims: [createChunkDelete(mallory, key)]
      }
      await send(squat, target, REPAIR_POST_METHOD, copy, RepairPostRequest, RepairPostResponse)
    }
  }
  t.comment(`deletes and tombstones at record keys: ${describe(squat)}`)
  let squatted = 0
  for (const key of [...recordKeys, laterKey]) {
    for (const target of servePeers) {
      const res = await send(tally(), target, REPAIR_GET_METHOD, { key }, RepairGetRequest, RepairGetResponse)
      if (res?.copy && res.copy.kind !== RepairKind.Record) squatted++
    }
  }
  t.is(squatted, 0, 'no serve node keeps anything but the record at a record key')

  // 7. SyncKeys to enumerate: the whole ring, and a range mallory is not responsible for.
  const sync = tally()
  let revealed = 0
  for (const target of servePeers) {
    const zero = Buffer.alloc(32)
    const whole = await send(
      sync,
      target,
      SYNC_KEYS_METHOD,
      { from: zero, to: zero, keys: [] },
      SyncKeysRequest,
      SyncKeysResponse
    )
    revealed += whole?.extra.length ?? 0
    const wide = { from: Buffer.alloc(32, 0x10), to: Buffer.alloc(32, 0xf0), keys: [] }
    const res = await send(sync, target, SYNC_KEYS_METHOD, wide, SyncKeysRequest, SyncKeysResponse)
    revealed += res?.extra.length ?? 0
  }
  t.comment(
    `SyncKeys enumeration (whole ring, 15/16 of it) on every serve node: ${describe(sync)}, ${revealed} keys revealed`
  )
  t.is(sync.accepted, 0, 'no enumeration answered')
  t.is(revealed, 0, 'no key revealed')

  // Let repair run a few rounds (1 s interval) so anything that spreads has spread: on purpose,
  // the reads below check that nothing forged did.
  await sleep(6000)

  // A cold client of the victim reads every byte back. A lookup may time out
  // on a loaded box (the cold client routes through a gateway): a chunk is
  // asked again until it reads back (a value that is gone stays absent), all
  // of them within one deadline, so that a client that cannot read fails here
  // and says what it saw instead of running into the runner's file timeout.
  const cold = await client(true)
  const COLD_READ_MS = 180_000
  const coldStart = Date.now()
  const deadline = coldStart + COLD_READ_MS
  const pastDeadline = new Promise<'deadline'>((resolve) => {
    const timer = setTimeout(() => resolve('deadline'), COLD_READ_MS)
    t.teardown(() => clearTimeout(timer))
  })
  let intact = 0
  const unread: string[] = []
  for (let i = 0; i < keys.length; i++) {
    let seen = 'not asked before the deadline'
    while (Date.now() < deadline) {
      let error = ''
      const got = await Promise.race([
        cold.client.get(keys[i]).catch((err: { code?: string; message?: string }) => {
          error = `${err.code ?? 'error'} ${err.message ?? ''}`
          return null
        }),
        pastDeadline
      ])
      if (got === 'deadline') {
        seen = `a read still running at the deadline (before it: ${seen})`
        break
      }
      if (got) {
        const ok = sha256(got.bytes).equals(keys[i]) && got.bytes.equals(values[i])
        if (ok) intact++
        seen = ok ? '' : `${got.bytes.byteLength} bytes that are not the chunk`
        break
      }
      seen = error || 'absent'
      await new Promise((r) => setTimeout(r, 1000))
    }
    if (seen) unread.push(`chunk ${i}: ${seen}`)
  }
  t.comment(`cold client read ${intact} of ${CHUNKS} chunks in ${Date.now() - coldStart} ms`)
  t.is(
    intact,
    CHUNKS,
    `every chunk reads back intact from a cold client within ${COLD_READ_MS / 1000} s (${intact} of ${CHUNKS}; ` +
      `${cold.network.peers().length} peers; ${unread.length ? unread.join('; ') : 'none unread'})`
  )
  const copies = await Promise.all(keys.map(holdersNow))
  t.comment(`copies per chunk among its 3 responsible machines after the attacks: ${copies.join(' ')}`)
  t.ok(
    copies.every((n) => n >= 2),
    'every chunk is still on its responsible machines'
  )

  // Records still take writes (what fsync does), including the key squatted
  // before its first write. A timed-out lookup on this loaded box is tried
  // again, as the Volume's flush does; any refusal by a store fails the test.
  const transient = (err: unknown) =>
    ['ETIMEDOUT', 'EPEERUNREACHABLE', 'ECHANNELCLOSED', 'EUNAVAILABLE'].includes((err as { code?: string }).code ?? '')
  const write = async (name: Buffer, version: number, value: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await victimStore.putRecord(createRecord(victim, name, version, Buffer.from(value)), version - 1)
      } catch (err) {
        if (!transient(err) || attempt >= 5) throw err
      }
    }
  }
  for (let i = 0; i < names.length; i++) await write(names[i], 2, `v2 ${i}`)
  await write(laterName, 1, 'later')
  t.pass('every record took its new version')
  const coldStore = new RingValueStore(cold, victim as KeyPair)
  for (let i = 0; i < names.length; i++) {
    t.is((await coldStore.getRecord(recordKeys[i]))?.value.toString(), `v2 ${i}`, `record ${i} at version 2`)
  }
  t.is((await coldStore.getRecord(laterKey))?.value.toString(), 'later', 'the squatted key took its first record')
})
