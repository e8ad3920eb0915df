// Runs fn over items with at most `limit` calls in flight: the flusher's
// records and the sync poller's re-reads, both bounded so that a long list
// does not open hundreds of requests at once.

/** Every item is tried; the first failure is thrown once all have settled. */
export async function runLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let firstError: unknown = null
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]
      try {
        await fn(item)
      } catch (err) {
        firstError ??= err
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (firstError) throw firstError
}
