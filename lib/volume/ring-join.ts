// A mount whose home names bootstrap nodes belongs to a ring that exists
// already. Its node starts as a ring of one and merges in when it finds a
// peer; the Volume must not read its root before that, or it would find only
// this machine's copies and could start a new, empty tree over the real one.
//
// A member that has once been part of a larger ring and now sees no other
// machine is *isolated*: its own node store is not the ring. Its record
// writes would land on this one machine at versions the others may also
// write meanwhile (two different records at one version, which repair cannot
// reconcile), so MemberValueStore refuses them while isolated: they wait in
// the journal like a client-only mount's, and merge by compare-and-swap when
// the ring is back. The first machine of a new network (never joined) goes on
// alone as before.

import fs from 'node:fs'
import path from 'node:path'
import type { RingNode } from '../node/ring-node'

const POLL_MS = 100
/** In the home once its node has been in a ring with another member. */
export const RING_JOINED_FILE = 'ring-joined'

/** True while another member is among the node's successors. */
export function hasOtherMember(node: RingNode): boolean {
  const self = node.chord.address
  return node.chord.vnodes.some((v) => v.successors.some((s) => s.address !== self))
}

/** True once another member is among the node's successors; false after `timeoutMs` (offline). */
export async function waitForRing(node: RingNode, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!hasOtherMember(node)) {
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
  return true
}

/** Tells, for a member node, whether it is isolated (see above), remembering in the home that it has joined. */
export class Isolation {
  private joinedBefore: boolean
  private readonly file: string

  constructor(private readonly node: RingNode) {
    this.file = path.join(node.home, RING_JOINED_FILE)
    this.joinedBefore = fs.existsSync(this.file)
  }

  get isolated(): boolean {
    if (this.node.config.bootstrap.length === 0) return false
    if (hasOtherMember(this.node)) {
      if (!this.joinedBefore) {
        this.joinedBefore = true
        try {
          fs.writeFileSync(this.file, `${new Date().toISOString()}\n`, { mode: 0o600 })
        } catch {
          // Only a hint for the next start: the in-memory flag still holds for this one.
        }
      }
      return false
    }
    return this.joinedBefore
  }
}
