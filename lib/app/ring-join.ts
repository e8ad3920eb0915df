// A mount whose home names bootstrap nodes belongs to a ring that exists
// already. Its node starts as a ring of one and merges in when it finds a
// peer; the Volume must not read its root before that, or it would find only
// this machine's copies and could start a new, empty tree over the real one.
// (A member cut off later is "isolated": lib/node/isolation.ts.)

import { hasOtherMember } from '../node/isolation'
import type { RingNode } from '../node/ring-node'

export { RING_JOINED_FILE } from '../node/isolation'

const POLL_MS = 100

/** True once another member is among the node's successors; false after `timeoutMs` (offline). */
export async function waitForRing(node: RingNode, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!hasOtherMember(node.chord)) {
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
  return true
}
