// A value a node writes to its own store is hashed once: the ring client
// hands the key it computed to this node's file service, which passes it to
// the store as `knownHash` (node-store.test.ts shows the store then skips its
// own hash). The hint rides only in the request object a node gives itself;
// what comes over the wire is always hashed. The network here is a stand-in
// that does what PeerNetwork does: a directLocal method called on this node
// itself gets the caller's object, everything else goes through the wire
// encoding.

import test, { type Test } from 'brittle'
import c from 'compact-encoding'
import { createChunkClaim, keyPairFromSeed, randomBytes, sha256 } from '../../lib/crypto'
import type { Encoding, PeerNetwork } from '../../lib/net'
import { FileKind, METHODS } from '../../lib/node/file-messages'
import { FileService, type PostFileCall } from '../../lib/node/file-service'
import { RingClient } from '../../lib/node/ring-client'
import type { Router } from '../../lib/node/router'
import type { NodeStore, PutImmutableOptions } from '../../lib/storage'
import { codeOf, openStore } from './helpers'

interface Responder {
  requestEncoding: Encoding<unknown>
  responseEncoding: Encoding<unknown>
  handler: (req: unknown, peer: { publicKey: Buffer }) => Promise<unknown>
  directLocal: boolean
}

interface Machine {
  hex: string
  store: NodeStore
  client: RingClient
  /** The knownHash of every putImmutable this machine's store was asked for. */
  hints: (Buffer | undefined)[]
  /** Sends one request as another machine would: through the wire encoding. */
  receive(method: string, req: unknown): Promise<unknown>
}

function overWire<T>(encoding: Encoding<T>, value: T): T {
  return c.decode(encoding, c.encode(encoding, value))
}

/** Machines on a stand-in network, all responsible for every key in the order `order` gives. */
async function machines(t: Test, count: number, replicas: number): Promise<Machine[]> {
  const all: Machine[] = []
  const router: Router = {
    async responsible(_key, k) {
      return all.slice(0, k).map((m) => ({ id: 0n, address: m.hex }))
    }
  }
  for (let i = 0; i < count; i++) {
    const publicKey = randomBytes(32)
    const hex = publicKey.toString('hex')
    const responders = new Map<string, Responder>()
    const peer = (key: Buffer) => {
      const m = all.find((x) => x.hex === key.toString('hex'))
      if (!m) throw new Error('no such machine')
      return m
    }
    const network = {
      publicKey,
      respond(
        method: string,
        requestEncoding: Encoding<unknown>,
        responseEncoding: Encoding<unknown>,
        handler: Responder['handler'],
        opts: { directLocal?: boolean } = {}
      ) {
        responders.set(method, { requestEncoding, responseEncoding, handler, directLocal: opts.directLocal ?? false })
      },
      async request(peerKey: Buffer, method: string, req: unknown) {
        const target = peer(peerKey)
        if (target.hex === hex && responders.get(method)?.directLocal) {
          return responders.get(method)!.handler(req, { publicKey })
        }
        return target.receive(method, req)
      },
      encodeRequest(method: string, value: unknown, requestEncoding: Encoding<unknown>) {
        return { method, value, requestEncoding, body: c.encode(requestEncoding, value) }
      },
      async send(peerKey: Buffer, encoded: { method: string; value: unknown }) {
        return peer(peerKey).receive(encoded.method, encoded.value)
      }
    } as unknown as PeerNetwork
    const store = await openStore(t)
    const hints: (Buffer | undefined)[] = []
    const putImmutable = store.putImmutable.bind(store)
    store.putImmutable = (key: Buffer, bytes: Buffer, opts?: PutImmutableOptions) => {
      hints.push(opts?.knownHash)
      return putImmutable(key, bytes, opts)
    }
    new FileService({ network, store, router, replicas })
    all.push({
      hex,
      store,
      hints,
      client: new RingClient(network, router, replicas),
      async receive(method, req) {
        const r = responders.get(method)
        if (!r) throw new Error(`unknown method ${method}`)
        const res = await r.handler(overWire(r.requestEncoding, req), { publicKey: randomBytes(32) })
        return overWire(r.responseEncoding, res)
      }
    })
  }
  return all
}

test('a value this node writes to its own store carries its known hash there, and only there', async (t) => {
  const [a, b] = await machines(t, 2, 2)
  const signer = keyPairFromSeed(randomBytes(32))
  const bytes = randomBytes(64 * 1024)
  const key = await a.client.putImmutable(bytes, signer)
  t.alike(key, sha256(bytes))
  t.alike(a.hints, [key], "the writer's own store is given the hash it computed")
  t.alike(b.hints, [undefined], 'the replica it copies to hashes the bytes itself')
  t.alike((await b.store.get(key))?.bytes, bytes)

  // A sealed chunk whose key a crypto worker computed takes the same path.
  const sealed = randomBytes(1000)
  await a.client.putImmutableKnown(sha256(sealed), sealed, signer)
  t.alike(a.hints[1], sha256(sealed))
  t.is(b.hints[1], undefined)
})

test('a value sent to another machine is hashed there, even with a hint in the request', async (t) => {
  const [b, a] = await machines(t, 2, 1)
  const signer = keyPairFromSeed(randomBytes(32))
  const bytes = randomBytes(1000)
  // b alone is responsible: a's write crosses the wire and b hashes it.
  const key = await a.client.putImmutable(bytes, signer)
  t.alike(b.hints, [undefined], 'no hint reaches a store from another machine')
  t.alike(a.hints, [], 'nothing stored on the writer')

  // A sender that vouches for a wrong key: the field does not exist on the wire, so b hashes and refuses.
  const wrong = sha256(randomBytes(16))
  const forged: PostFileCall = {
    key: wrong,
    kind: FileKind.Immutable,
    bytes,
    replicate: false,
    claim: createChunkClaim(signer, wrong),
    knownHash: wrong
  }
  t.is(await codeOf(b.receive(METHODS.PostFile, forged)), 'EBADKEY', 'a value whose key is not its hash is refused')
  t.is(await b.store.get(wrong), null, 'nothing stored for it')
  t.alike((await b.store.get(key))?.bytes, bytes)
})
