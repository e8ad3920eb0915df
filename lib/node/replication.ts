// Replication: a value the owner just stored is copied to the other k−1
// responsible machines before the writer is answered. A record that one of
// them does not take (it holds a newer one, or another of the same version)
// is reported as ERECORDNOTSTORED with that machine's record as `current`.

import { codedError, hasCode, type PeerStoreError } from '../common/errors'
import { retry } from '../common/retry'
import type { ChunkClaim } from '../crypto'
import type { EncodedRequest, PeerNetwork } from '../net/peer-network'
import { type FileKind, METHODS, PostFileRequest, PostFileResponse } from './file-messages'
import { nodeKey, type Router } from './router'

export interface ReplicationContext {
  network: PeerNetwork
  router: Router
  replicas: number
  timeoutMs: number
  /** Aborts the wait before another round (the service closed). */
  signal: AbortSignal
}

/**
 * A record write that did not land as asked on one holder: it keeps another
 * record at that version (a fork) or a newer one. The owner answers the
 * writer `ok: false` with `current`, as for a failed compare-and-swap.
 */
const NOT_STORED = 'ERECORDNOTSTORED'

type RecordNotStored = PeerStoreError & { readonly current: Buffer }

export function recordNotStored(current: Buffer): RecordNotStored {
  return codedError(NOT_STORED, 'a replica holds another record at this version or a newer one', { current })
}

export function isRecordNotStored(err: unknown): err is RecordNotStored {
  return hasCode(err, NOT_STORED)
}

const REPLICATE_ATTEMPTS = 4
/** First delay and cap between replication rounds (lib/common/retry.ts adds jitter). */
const REPLICATE_BACKOFF = { baseMs: 250, capMs: 750 }

/**
 * Copies a value this node just stored to the other responsible machines.
 * Resolves when the first k live machines responsible for the key hold it;
 * a machine that cannot be reached is not live, so the next machine on the
 * ring takes its place (and repair catches it up if it comes back). So the
 * ack means k live copies, or every live machine of a smaller ring.
 */
export async function replicate(
  ctx: ReplicationContext,
  key: Buffer,
  kind: FileKind,
  bytes: Buffer,
  claim?: ChunkClaim
): Promise<void> {
  const self = ctx.network.publicKey.toString('hex')
  const done = new Set<string>([self])
  const unreachable = new Set<string>()
  let lastError: unknown = null
  // Encoded once for every replica and retry: one 1 MiB copy, not one per replica.
  let copy: EncodedRequest<PostFileRequest> | null = null
  // Only a round that left replicas out is tried again (a lookup failure or a refusal is final).
  let roundFailed: unknown = null
  const round = async (): Promise<void> => {
    const candidates = await ctx.router.responsible(key, ctx.replicas + unreachable.size)
    const live = candidates.filter((n) => !unreachable.has(n.address)).slice(0, ctx.replicas)
    const targets = live.filter((n) => !done.has(n.address))
    if (targets.length === 0) return
    copy ??= ctx.network.encodeRequest(METHODS.PostFile, { key, kind, bytes, replicate: false, claim }, PostFileRequest)
    const body = copy
    const results = await Promise.allSettled(
      targets.map((n) => ctx.network.send(nodeKey(n), body, PostFileResponse, { timeoutMs: ctx.timeoutMs }))
    )
    for (const r of results) {
      // A replica that keeps another record: the write did not land there, whatever the others say.
      if (r.status === 'fulfilled' && !r.value.ok) throw recordNotStored(r.value.current ?? Buffer.alloc(0))
    }
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') {
        done.add(targets[i].address)
        return
      }
      lastError = r.reason
      const code = (r.reason as { code?: string }).code
      // A full machine (ENOSPC) takes no new values, like one that is down: the next machine stands in.
      if (code === 'EPEERUNREACHABLE' || code === 'ETIMEDOUT' || code === 'ECHANNELCLOSED' || code === 'ENOSPC') {
        unreachable.add(targets[i].address)
      }
    })
    if (results.every((r) => r.status === 'fulfilled')) return
    // Every machine tried was full: the ring is, so the writer gets ENOSPC.
    const full = (lastError as { code?: string })?.code === 'ENOSPC'
    roundFailed = codedError(
      full ? 'ENOSPC' : 'EREPLICAS',
      `could not reach every replica: ${(lastError as Error)?.message ?? 'unknown error'}`
    )
    throw roundFailed
  }
  await retry(round, {
    attempts: REPLICATE_ATTEMPTS,
    ...REPLICATE_BACKOFF,
    signal: ctx.signal,
    retryIf: (err) => err === roundFailed
  })
}
