// The shared building blocks of lib/common: errors, retry, semaphore, lifecycle.

import test from 'brittle'
import { codedError, errorCode, hasCode, PeerStoreError } from '../../lib/common/errors'
import { ReadyResource } from '../../lib/common/resource'
import { retry, waitFor } from '../../lib/common/retry'
import { KeyedMutex, Mutex, runLimited, Semaphore } from '../../lib/common/semaphore'

test('errors: one class with a code, extra fields typed, codes of foreign errors read', (t) => {
  const err = codedError('ECONFLICT', 'a newer record won', { current: 7 })
  t.ok(err instanceof PeerStoreError)
  t.is(err.code, 'ECONFLICT')
  t.is(err.current, 7)
  t.ok(hasCode(err, 'ESTALE', 'ECONFLICT'))
  t.is(errorCode(Object.assign(new Error('x'), { code: 'ENOENT' })), 'ENOENT')
  t.is(errorCode(new Error('plain')), undefined)
  t.is(errorCode(null), undefined)
})

test('retry: retries with backoff until success, stops on a non-retryable error', async (t) => {
  let calls = 0
  const value = await retry(
    async () => {
      if (++calls < 3) throw codedError('EBUSY', 'busy')
      return 'done'
    },
    { baseMs: 1, capMs: 2 }
  )
  t.is(value, 'done')
  t.is(calls, 3)

  calls = 0
  await t.exception(
    retry(
      async () => {
        calls++
        throw codedError('EACCES', 'no')
      },
      { baseMs: 1, retryIf: (err) => hasCode(err, 'EBUSY') }
    ),
    /no/
  )
  t.is(calls, 1, 'a non-retryable error is not retried')
})

test('retry: the attempt limit, the deadline and the abort signal end it', async (t) => {
  let calls = 0
  const failing = async () => {
    calls++
    throw codedError('EBUSY', `attempt ${calls}`)
  }
  await t.exception(retry(failing, { baseMs: 1, attempts: 4 }), /attempt 4/)
  t.is(calls, 4)

  calls = 0
  const started = Date.now()
  await t.exception(retry(failing, { baseMs: 20, capMs: 20, deadlineMs: 100 }))
  t.ok(Date.now() - started < 1000, 'the deadline ends the retries')
  t.ok(calls >= 2 && calls <= 11, `${calls} attempts within a 100 ms deadline`)

  const controller = new AbortController()
  calls = 0
  setTimeout(() => controller.abort(), 30)
  await t.exception(retry(failing, { baseMs: 10_000, signal: controller.signal }))
  t.is(calls, 1, 'abort cuts the wait short')
})

test('waitFor: resolves with the first truthy value, times out naming what it waited for', async (t) => {
  let n = 0
  t.is(await waitFor(() => (++n >= 3 ? n : 0), { intervalMs: 1 }), 3)
  await t.exception(
    waitFor(() => false, { timeoutMs: 30, intervalMs: 5, what: 'the moon' }),
    /the moon/
  )
  const err = await waitFor(
    () => {
      throw new Error('still broken')
    },
    { timeoutMs: 20, intervalMs: 5 }
  ).catch((e) => e)
  t.is(err.code, 'ETIMEDOUT')
  t.is(err.cause?.message, 'still broken', 'the last failure is the cause')
  t.is(err.waitedFor, 'a condition')
  await t.exception(
    waitFor(
      () => {
        throw new Error('fatal')
      },
      { timeoutMs: 10_000, retryErrors: false }
    ),
    /fatal/,
    'retryErrors: false ends the wait at the first throw'
  )
})

test('semaphore: at most limit at once, FIFO, bounded queue fails with EBUSY', async (t) => {
  const gate = new Semaphore(2, 1)
  let running = 0
  let peak = 0
  const order: number[] = []
  let release!: () => void
  const blocked = new Promise<void>((resolve) => {
    release = resolve
  })
  const task = (i: number) =>
    gate.run(async () => {
      running++
      peak = Math.max(peak, running)
      order.push(i)
      await blocked
      running--
    })
  const a = task(1)
  const b = task(2)
  const c = task(3)
  await t.exception(task(4), /too many requests/)
  release()
  await Promise.all([a, b, c])
  t.is(peak, 2)
  t.alike(order, [1, 2, 3])
  t.is(gate.busy, 0)
})

test('mutex, keyed mutex and runLimited', async (t) => {
  const mutex = new Mutex()
  const seen: string[] = []
  await Promise.all(
    ['a', 'b'].map((name) =>
      mutex.run(async () => {
        seen.push(`${name}+`)
        t.ok(mutex.locked)
        await new Promise((r) => setTimeout(r, 5))
        seen.push(`${name}-`)
      })
    )
  )
  t.alike(seen, ['a+', 'a-', 'b+', 'b-'], 'one at a time')
  t.absent(mutex.locked)

  const keyed = new KeyedMutex()
  const both = await Promise.all([keyed.run('x', () => 1), keyed.run('y', () => 2)])
  t.alike(both, [1, 2])

  let inFlight = 0
  let most = 0
  const done: number[] = []
  await t.exception(
    runLimited([1, 2, 3, 4, 5], 2, async (i) => {
      inFlight++
      most = Math.max(most, inFlight)
      await new Promise((r) => setTimeout(r, 2))
      inFlight--
      done.push(i)
      if (i === 2) throw new Error('two failed')
    }),
    /two failed/
  )
  t.is(most, 2)
  t.is(done.length, 5, 'every item is tried even after a failure')
})

test('ReadyResource: ready and close run once each', async (t) => {
  let opens = 0
  let closes = 0
  class Thing extends ReadyResource {
    protected override async _open() {
      opens++
    }
    protected override async _close() {
      closes++
    }
  }
  const thing = new Thing()
  await Promise.all([thing.ready(), thing.ready()])
  await thing.ready()
  await Promise.all([thing.close(), thing.close()])
  t.is(opens, 1)
  t.is(closes, 1)
  t.ok(thing.closed)
})
