// The replica side of anti-entropy (repair.ts is the owner's side): SyncKeys
// compares the keys an owner holds in one of its ranges with ours.
//
// SyncKeys tells the asker which keys of a range this machine holds, so it
// answers only a machine that is responsible for that whole range in this
// machine's view: enough for repair, no enumeration for anyone else.

import { type ChordNode, idFromBuffer, idToBuffer } from '../chord'
import type { PeerNetwork } from '../net'
import { type KeyVersion, SYNC_BATCH, SYNC_KEYS_METHOD, SyncKeysRequest, SyncKeysResponse } from './repair-messages'
import { type EntryKind, type NodeStore, shouldSend } from '../storage'
import { codedError } from './errors'

const ID_SPACE = 1n << 256n

/** How long a SyncKeys range checked for an asker stays allowed without a new lookup (three default repair rounds). */
const SYNC_CHECK_MS = 30_000

export interface SyncKeysResponderOptions {
  chord: ChordNode
  network: PeerNetwork
  store: NodeStore
  replicas: number
}

/** What SyncKeys lists for a key held here; null for what is never sent (an unsigned tombstone). */
export async function keyVersion(
  store: NodeStore,
  item: { key: Buffer; kind: EntryKind; version: number }
): Promise<KeyVersion | null> {
  const digest = await store.syncDigest(item.key, item.kind)
  if (item.kind === 'tombstone' && digest === 0) return null
  return {
    key: item.key,
    tombstone: item.kind === 'tombstone',
    record: item.kind === 'record',
    version: item.version,
    digest
  }
}

export class SyncKeysResponder {
  /** SyncKeys ranges recently checked for an asker (asker:from:to → valid until, ms). */
  private readonly allowedSyncs = new Map<string, number>()

  constructor(private readonly opts: SyncKeysResponderOptions) {
    opts.network.respond(SYNC_KEYS_METHOD, SyncKeysRequest, SyncKeysResponse, (req, peer) =>
      this.onSyncKeys(req, peer.publicKey.toString('hex'))
    )
  }

  /**
   * The replica side: which of the owner's keys do we lack, which does the
   * owner lack. Answered only to a machine responsible for the whole range
   * (from, to] in our view: the owner of `to` must own from + 1 too (no
   * virtual node between them), and the asker must be among the k machines
   * responsible for it.
   */
  private async onSyncKeys(req: SyncKeysRequest, asker: string): Promise<SyncKeysResponse> {
    const { store } = this.opts
    await this.checkSyncAsker(req.from, req.to, asker)
    const theirs = new Map<string, KeyVersion>()
    const missing: number[] = []
    for (let i = 0; i < req.keys.length; i++) {
      const kv = req.keys[i]
      theirs.set(kv.key.toString('hex'), kv)
      const entry = await store.entry(kv.key)
      const mine = entry ? await keyVersion(store, { key: kv.key, ...entry }) : null
      if (shouldSend(kv, mine)) missing.push(i)
    }
    const extra: KeyVersion[] = []
    for await (const item of store.scan(req.from, req.to)) {
      const mine = await keyVersion(store, item)
      if (!mine) continue
      if (shouldSend(mine, theirs.get(item.key.toString('hex')) ?? null)) extra.push(mine)
      if (extra.length >= SYNC_BATCH) break
    }
    return { missing, extra }
  }

  private async checkSyncAsker(from: Buffer, to: Buffer, asker: string): Promise<void> {
    // An owner asks about the same ranges every round: a check passed a moment ago stands.
    const memo = `${asker}:${from.toString('hex')}:${to.toString('hex')}`
    const now = Date.now()
    if ((this.allowedSyncs.get(memo) ?? 0) > now) return
    await this.lookUpSyncAsker(from, to, asker)
    if (this.allowedSyncs.size >= 4096) this.allowedSyncs.clear()
    this.allowedSyncs.set(memo, now + SYNC_CHECK_MS)
  }

  private async lookUpSyncAsker(from: Buffer, to: Buffer, asker: string): Promise<void> {
    const { chord, replicas } = this.opts
    const refuse = (why: string) =>
      codedError('EPERM', `SyncKeys refused: ${why}; keys are listed only to machines responsible for the range`)
    if (from.equals(to)) {
      // The whole ring: only in a ring whose every machine holds everything.
      const all = await chord.responsibleNodes(to, replicas + 1)
      if (all.length > replicas || !all.some((n) => n.address === asker)) throw refuse('the whole ring was asked for')
      return
    }
    const next = idToBuffer((idFromBuffer(from) + 1n) % ID_SPACE)
    const [first, last] = await Promise.all([chord.findSuccessor(next), chord.findSuccessor(to)])
    if (first.node.id !== last.node.id) throw refuse('the range spans more than one virtual node')
    const holders = await chord.responsibleNodes(to, replicas)
    if (!holders.some((n) => n.address === asker)) throw refuse('the asking machine is not responsible for it')
  }
}
