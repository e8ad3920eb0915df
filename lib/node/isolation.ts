// A member that has once been part of a ring with another member and now sees
// no other member is *isolated*: its own store is not the ring. A record it
// stores could meet a different record at the same version written meanwhile
// by the machines it cannot reach (a fork repair cannot settle), so while
// isolated it takes no record writes, from its own mount (MemberValueStore)
// or from clients routing through it (FileService.patch): they wait in the
// writers' journals and merge by compare-and-swap when the ring is back. The
// first machine of a new network (never joined) goes on alone as before.

import fs from 'node:fs'
import path from 'node:path'
import type { ChordNode } from '../chord'

/** In the home once its node has been in a ring with another member. */
export const RING_JOINED_FILE = 'ring-joined'

/** True while another member is among the node's successors. */
export function hasOtherMember(chord: ChordNode): boolean {
  const self = chord.address
  return chord.vnodes.some((v) => v.successors.some((s) => s.address !== self))
}

export class Isolation {
  private joinedBefore: boolean
  private readonly file: string

  constructor(
    home: string,
    /** True while another member is among the node's successors (RingNode.hasOtherMember). */
    private readonly hasOtherMember: () => boolean,
    /** Only a node configured to find others can be cut off from them. */
    private readonly networked: boolean
  ) {
    this.file = path.join(home, RING_JOINED_FILE)
    this.joinedBefore = fs.existsSync(this.file)
  }

  get isolated(): boolean {
    if (!this.networked) return false
    if (this.hasOtherMember()) {
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
