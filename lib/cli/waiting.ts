// A verb that waits for the ring says so once the wait passes a second, on
// stderr, so a silent pause never looks like a hang and stdout stays the
// verb's own output. A home that is alone (no discovery) is a ring of one on
// this machine: nothing to connect to, so nothing is said.

import { isNetworked, readConfig } from '../node/config'
import type { CommandContext } from './command'

const QUIET_WAIT_MS = 1000

/**
 * Resolves as `work` does; prints "peerstore VERB: connecting to the ring…"
 * if it takes more than a second and the home finds others (private or DHT
 * discovery: `ring`, by default read from the home's config).
 */
export async function announceSlow<T>(
  ctx: Pick<CommandContext, 'stderr' | 'home'>,
  verb: string,
  work: Promise<T>,
  ring: boolean = isNetworked(readConfig(ctx.home) ?? { bootstrap: [] })
): Promise<T> {
  const timer = ring
    ? setTimeout(() => ctx.stderr.write(`peerstore ${verb}: connecting to the ring…\n`), QUIET_WAIT_MS)
    : null
  try {
    return await work
  } finally {
    if (timer) clearTimeout(timer)
  }
}
