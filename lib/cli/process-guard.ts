// The last line of defence of a long-running process (`mount`, `serve`): a
// promise rejection nobody handled, or an exception thrown from a callback,
// is logged and the process goes on. Node's default ends it, and a mount
// process that ends leaves ENOTCONN for every program using the mount. Every
// known background task catches its own errors; this catches the ones we
// missed (or a library's, like lmdb-js's rejected commit promises).

/** Causes logged at most this many times each, so a loop of failures does not flood the log. */
const MAX_REPEATS = 3

export function guardProcess(log: (line: string) => void): () => void {
  const seen = new Map<string, number>()
  const report = (what: string, err: unknown) => {
    const e = err as { message?: unknown; stack?: unknown; code?: unknown }
    const cause = `${what} ${String(e?.code ?? '')} ${String(e?.message ?? err)}`
    const n = (seen.get(cause) ?? 0) + 1
    if (seen.size > 1000) seen.clear()
    seen.set(cause, n)
    if (n > MAX_REPEATS) return
    const detail = typeof e?.stack === 'string' ? e.stack : String(err)
    log(`peerstore: unexpected ${what} (kept running${n === MAX_REPEATS ? '; not logged again' : ''}): ${detail}`)
  }
  const onRejection = (reason: unknown) => report('unhandled rejection', reason)
  const onException = (err: Error) => report('uncaught exception', err)
  process.on('unhandledRejection', onRejection)
  process.on('uncaughtException', onException)
  return () => {
    process.removeListener('unhandledRejection', onRejection)
    process.removeListener('uncaughtException', onException)
  }
}
