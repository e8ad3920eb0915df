// A verb that waits for the ring (or for the node running this home) says
// so once the wait passes a second, on stderr, so a silent pause never
// looks like a hang and stdout stays the verb's own output.

import type { CommandContext } from './command'

const QUIET_WAIT_MS = 1000

/** Resolves as `work` does; prints "peerstore VERB: connecting to the ring…" if it takes more than a second. */
export async function announceSlow<T>(
  ctx: Pick<CommandContext, 'stderr'>,
  verb: string,
  work: Promise<T>,
  what = 'connecting to the ring…'
): Promise<T> {
  const timer = setTimeout(() => ctx.stderr.write(`peerstore ${verb}: ${what}\n`), QUIET_WAIT_MS)
  try {
    return await work
  } finally {
    clearTimeout(timer)
  }
}
