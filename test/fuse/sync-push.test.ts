// Push between two real `peerstore mount` processes of one user (members of
// one ring on 127.0.0.1), with the poller slowed to 30 s on both
// (`--sync-interval 30000`): a change made through mount A shows in running
// mount B within a few seconds only because the machines holding the sync
// beacon push its new version (docs/volume.md, "Sync between a user's
// computers"). Each step's deadline is far below the poll period, so this
// test fails without push. Latencies are printed, never asserted beyond the
// deadline.

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { startTwoDevices } from '../helpers/ring-mounts'
import { sleep, waitFor } from '../helpers/wait'

const PORT = 49_000 + Math.floor(Math.random() * 1000)
const SLOW_POLL = ['--sync-interval', '30000']
/** Far below the 30 s poll period: only push gets a change across in time. */
const DEADLINE_MS = 6_000

const ls = (dir: string) => fs.readdirSync(dir).sort().join(',')
const cat = (file: string) => fs.readFileSync(file, 'utf8')

test('two mounts of one user with the poller at 30 s: changes cross in seconds by push', {
  timeout: 300_000
}, async (t) => {
  const { a, b } = await startTwoDevices(t, { port: PORT, prefix: 'push', args: SLOW_POLL })
  // A failed step is reported with t.fail, not thrown: brittle then runs the teardown (unmount both).
  const took: string[] = []
  try {
    const A = a.dir
    const B = b.dir
    // Both mounts have just started and may still be settling their subscriptions; one listing
    // through each makes the roots watched, and a short pause lets the ring calm (no event
    // tells when a subscription is placed at every holder).
    t.is(ls(B), '', 'B starts empty')
    t.is(ls(A), '', 'A starts empty')
    await sleep(2000)
    const step = async (what: string, check: () => boolean) => {
      const ms = await waitFor(what, check, { timeoutMs: DEADLINE_MS, intervalMs: 25, retryErrors: true }).catch(
        (err: Error) => {
          throw new Error(`${err.message}\n--- mount A:\n${a.output()}\n--- mount B:\n${b.output()}`)
        }
      )
      took.push(`${what} ${ms} ms`)
      t.pass(`${what}: ${ms} ms`)
    }

    fs.writeFileSync(path.join(A, 'note.txt'), 'hello\n')
    await step('A→B create+write', () => ls(B) === 'note.txt' && cat(path.join(B, 'note.txt')) === 'hello\n')

    fs.mkdirSync(path.join(A, 'docs'))
    await step('A→B mkdir', () => ls(B) === 'docs,note.txt' && ls(path.join(B, 'docs')) === '')

    fs.renameSync(path.join(A, 'note.txt'), path.join(A, 'docs', 'moved.txt'))
    await step('A→B rename', () => ls(B) === 'docs' && ls(path.join(B, 'docs')) === 'moved.txt')

    fs.writeFileSync(path.join(A, 'docs', 'moved.txt'), 'changed\n')
    await step('A→B overwrite', () => cat(path.join(B, 'docs', 'moved.txt')) === 'changed\n')

    fs.mkdirSync(path.join(B, 'docs', 'from-b'))
    await step('B→A mkdir', () => ls(path.join(A, 'docs')) === 'from-b,moved.txt')

    fs.unlinkSync(path.join(A, 'docs', 'moved.txt'))
    await step('A→B delete', () => ls(path.join(B, 'docs')) === 'from-b')
  } catch (err) {
    t.fail((err as Error).message)
    return
  }
  t.comment(`push latency with the poller at 30 s (flush ≤ 1 s, kernel caches 1 s): ${took.join('; ')}`)
  t.is(await b.stop(), 0, 'B flushes and unmounts')
  t.is(await a.stop(), 0, 'A flushes and unmounts')
})
