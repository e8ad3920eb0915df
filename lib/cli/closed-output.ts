// Output whose reader went away: `peerstore ls | head -1` (EPIPE once head
// has its line), `serve | tee log` after Ctrl-C ended tee first, a terminal
// that was closed (EIO). Node reports these as an 'error' event on stdout or
// stderr, which with no listener ends the process with a stack trace; in a
// mount or serve that is the end of the graceful leave, flush and unmount.
// Here the stream is marked closed instead and writes to it are dropped
// (a destroyed stream drops them without another event), so the command
// finishes its work (a mount still flushes) and exits quietly.

/** Codes of a write that failed because nobody reads the output any more. */
const CLOSED_OUTPUT_CODES = new Set(['EPIPE', 'EIO', 'ECONNRESET', 'ENOTCONN', 'ERR_STREAM_DESTROYED'])

export interface OutputWatch {
  /** True once a stream failed: its reader is gone. */
  closed(): boolean
  /** An error that only says the output is gone (the command's work is not at fault). */
  isClosedOutputError(err: unknown): boolean
  release(): void
}

export function watchOutput(streams: NodeJS.WritableStream[]): OutputWatch {
  let closed = false
  // Any error on an output stream means it cannot be written any more: nothing to report it on either.
  const onError = () => {
    closed = true
  }
  for (const s of streams) s.on('error', onError)
  return {
    closed: () => closed,
    isClosedOutputError(err) {
      const code = (err as { code?: unknown } | null)?.code
      return closed && typeof code === 'string' && CLOSED_OUTPUT_CODES.has(code)
    },
    release() {
      for (const s of streams) s.removeListener('error', onError)
    }
  }
}
