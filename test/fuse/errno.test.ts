// The errno table (lib/fuse/errno.ts) and the one adapter (lib/fuse/wrap.ts),
// without a mount: internal codes never reach an application under their own
// name, every op is answered before fuse-native's timeout, and each failure
// is logged once per cause.

import os from 'node:os'
import test from 'brittle'
import { errnoName, errnoOf, INTERNAL, isKnownErrno } from '../../lib/fuse/errno'
import { OP_TIMEOUTS_MS, opDeadlineMs } from '../../lib/fuse/tuned-fuse'
import { makeWrap, reply } from '../../lib/fuse/wrap'
import { storeError } from '../../lib/storage/errors'
import { volumeError } from '../../lib/volume/errors'
import { netError } from '../../lib/net/errors'

const ERRNO = os.constants.errno as Record<string, number>
const coded = (code: string) => Object.assign(new Error(`failed with ${code}`), { code })

test('internal codes map to errnos with the meaning an application expects', (t) => {
  // The cases the issue found: each used to reach programs under its own (wrong) name.
  t.is(
    errnoOf(storeError('ESTALE', 'version 3 is not above 3')),
    -ERRNO.EIO,
    'a record version race is EIO, not "stale file handle"'
  )
  t.is(
    errnoOf(netError('EBUSY', 'too many requests queued')),
    -ERRNO.EAGAIN,
    'the peer limiter is EAGAIN, not "device busy"'
  )
  t.is(errnoOf(netError('EMSGSIZE', 'message too large')), -ERRNO.EIO, 'EMSGSIZE is EIO')
  t.is(errnoOf(netError('ETIMEDOUT', 'no answer')), -ERRNO.EIO, 'a peer timeout is EIO, not ETIMEDOUT')
  t.is(errnoOf(storeError('ENOSPC', 'disk full')), -ERRNO.ENOSPC, 'a full store is ENOSPC')
  t.is(errnoOf(coded('EDQUOT')), -ERRNO.EDQUOT, 'EDQUOT passes')
  t.is(errnoOf(storeError('ECONFLICT', 'expected 2')), -ERRNO.EIO)
  t.is(errnoOf(coded('EREPLICAS')), -ERRNO.EIO)
  t.is(errnoOf(coded('EPEERUNREACHABLE')), -ERRNO.EIO)
  t.is(errnoOf(storeError('ETOOBIG', 'too big')), -ERRNO.EFBIG)
  t.is(errnoOf(volumeError('ENOTSUP')), -ERRNO.EOPNOTSUPP)
  t.is(errnoOf(coded('ERR_OUT_OF_RANGE')), -ERRNO.EINVAL)
})

test('POSIX answers pass; anything else, with or without a code, is EIO', (t) => {
  for (const code of [
    'ENOENT',
    'EEXIST',
    'ENOTDIR',
    'EISDIR',
    'ENOTEMPTY',
    'EINVAL',
    'EPERM',
    'EACCES',
    'EROFS',
    'ENODATA',
    'ENAMETOOLONG',
    'EBADF'
  ]) {
    t.is(errnoOf(volumeError(code)), -ERRNO[code], `${code} passes`)
    t.ok(isKnownErrno(volumeError(code)), `${code} is a plain answer, not logged`)
  }
  // Local-disk errors that mean nothing to a file-system caller.
  for (const code of ['EMFILE', 'ECONNREFUSED', 'EPIPE', 'ENOTCONN', 'ESTALE', 'EBUSY', 'EMSGSIZE', 'ETIMEDOUT']) {
    t.is(
      errnoOf(coded(code)),
      code in INTERNAL ? -ERRNO[INTERNAL[code]] : -ERRNO.EIO,
      `${code} does not pass as itself`
    )
  }
  t.is(errnoOf(new Error('no code')), -ERRNO.EIO, 'no code: EIO')
  t.is(errnoOf(coded('EWHATEVER')), -ERRNO.EIO, 'unknown code: EIO')
  t.is(errnoOf(undefined), -ERRNO.EIO, 'not even an Error: EIO')
  t.is(errnoOf(Object.assign(new Error('x'), { code: 5 })), -ERRNO.EIO, 'a numeric code: EIO')
  t.absent(isKnownErrno(coded('ENOSPC')), 'ENOSPC is logged')
  t.absent(isKnownErrno(coded('EIO')), 'EIO is logged')
  t.absent(isKnownErrno(coded('ESTALE')), 'an internal code is logged')
  for (const [code, name] of Object.entries(INTERNAL)) {
    t.is(typeof ERRNO[name], 'number', `${code} → ${name} is a real errno`)
    t.not(errnoName(code), code === name ? '' : code, `${code} never reaches an application as itself`)
  }
})

/** Runs one wrapped handler and resolves with what fuse-native's callback got. */
function call(wrap: ReturnType<typeof makeWrap>, op: string, handler: () => unknown): Promise<unknown[]> {
  return new Promise((resolve) => wrap(op, handler as never)((...values: unknown[]) => resolve(values)))
}

test('every op is answered before fuse-native times it out, with EIO, and logged once', async (t) => {
  for (const op of ['getattr', 'read', 'write', 'fsync', 'flush', 'release', 'mkdir']) {
    const timeout = OP_TIMEOUTS_MS[op] ?? OP_TIMEOUTS_MS.default
    t.ok(
      opDeadlineMs(op) < timeout && opDeadlineMs(op) >= timeout - 5000,
      `${op}: answered at ${opDeadlineMs(op)} ms, before ${timeout}`
    )
  }
  const logs: string[] = []
  const wrap = makeWrap({
    deadlineMs: () => 100,
    onUnexpectedError: (op, err) => logs.push(`${op}: ${(err as Error).message}`)
  })
  const never = () => new Promise(() => {})
  t.alike(await call(wrap, 'read', never), [-ERRNO.EIO], 'a read that never finishes gets EIO')
  t.alike(await call(wrap, 'read', never), [-ERRNO.EIO], 'and again')
  t.is(logs.length, 1, `logged once: ${logs.join(' | ')}`)
  // A late result after the deadline is dropped: the callback runs exactly once.
  let calls = 0
  let finish: (v: ReturnType<typeof reply>) => void = () => {}
  await new Promise<void>((resolve) => {
    wrap(
      'getattr',
      () => new Promise<ReturnType<typeof reply>>((r) => (finish = r))
    )(() => {
      calls++
      resolve()
    })
  })
  finish(reply({ mode: 0 }))
  await new Promise((r) => setTimeout(r, 50)) // on purpose: time for a late reply to go out, which must not
  t.is(calls, 1, 'the late reply is not sent')
})

test('a failure is logged once per cause, with its hex ids folded', async (t) => {
  const logs: string[] = []
  const wrap = makeWrap({ onUnexpectedError: (op, err) => logs.push(`${op}: ${(err as Error).message}`) })
  const missing = (hex: string) => () => Promise.reject(volumeError('EIO', `chunk ${hex} is missing`))
  t.alike(await call(wrap, 'read', missing('a'.repeat(64))), [-ERRNO.EIO])
  t.alike(await call(wrap, 'read', missing('b'.repeat(64))), [-ERRNO.EIO])
  t.alike(await call(wrap, 'read', () => Promise.reject(storeError('ESTALE', 'version 1 is not above 1'))), [
    -ERRNO.EIO
  ])
  t.alike(await call(wrap, 'getattr', () => Promise.reject(volumeError('ENOENT'))), [-ERRNO.ENOENT])
  t.alike(
    await call(wrap, 'getattr', () => {
      throw new Error('a bug')
    }),
    [-ERRNO.EIO],
    'a synchronous throw is answered too'
  )
  t.is(logs.length, 3, `two causes of read and the bug, not ENOENT: ${logs.join(' | ')}`)
})
