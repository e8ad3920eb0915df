// A mount whose home finds other machines (a private network's bootstrap
// nodes, or the DHT) belongs to a ring that exists already. Its node starts
// as a ring of one and merges in when it finds a peer; the Volume must not
// read its root before that, or it would find only this machine's copies and
// could start a new, empty tree over the real one.
// (A member cut off later is "isolated": lib/node/isolation.ts.)

import type { RingNode } from '../node/ring-node'

export { RING_JOINED_FILE } from '../node/isolation'

/** True once another member is among the node's successors; false after `timeoutMs` (offline). */
export function waitForRing(node: RingNode, timeoutMs: number): Promise<boolean> {
  if (node.hasOtherMember) return Promise.resolve(true)
  return new Promise((resolve) => {
    const onMembers = (others: boolean) => {
      if (!others) return
      clearTimeout(timer)
      node.off('members', onMembers)
      resolve(true)
    }
    const timer = setTimeout(() => {
      node.off('members', onMembers)
      resolve(false)
    }, timeoutMs)
    node.on('members', onMembers)
  })
}
