// Machines that recently failed to answer (a timeout, an unreachable peer, a
// closed connection) or whose connection closed are tried last for a while,
// so a read or write after a crash goes to a live replica first instead of
// waiting out a timeout on the dead one.

import type { NodeRef } from '../chord'
import { hasCode } from '../common/errors'

/** How long a machine that failed to answer is tried last. */
const SUSPECT_MS = 15_000

export class Suspects {
  /** Machines that recently timed out or were unreachable, with when they did. */
  private readonly since = new Map<string, number>()

  /** The same machines, those that just failed us last. */
  order(targets: NodeRef[]): NodeRef[] {
    const now = Date.now()
    const suspect = (n: NodeRef) => (this.since.get(n.address) ?? 0) > now - SUSPECT_MS
    return [...targets.filter((n) => !suspect(n)), ...targets.filter(suspect)]
  }

  add(address: string): void {
    this.since.set(address, Date.now())
  }

  delete(address: string): void {
    this.since.delete(address)
  }

  /** A failure that says the machine is not answering now (not a refusal) makes it a suspect. */
  noteFailure(target: NodeRef, err: unknown): void {
    if (hasCode(err, 'ETIMEDOUT', 'EPEERUNREACHABLE', 'ECHANNELCLOSED')) this.add(target.address)
  }
}
