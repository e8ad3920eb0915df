// Nanosecond times in the Volume: the record's wire form (old records without
// the nanosecond fields still read, as whole milliseconds), utimens to the
// nanosecond surviving a close and reopen (record and journal), and the
// clock's digits below the millisecond.

import test from 'brittle'
import { stateFromWire, stateToWire } from '../../lib/volume/inode'
import { keepLater, nowNs, setTime, type Times, timeNs } from '../../lib/volume/times'
import { tempDir } from '../helpers/temp-dir'
import { openVolume } from '../helpers/volume'

const T = 1577934245123456789n // 2020-01-02 03:04:05.123456789 UTC

test('a record written before nanosecond times reads as whole milliseconds', (t) => {
  const old = { t: 'f', m: 0o100644, u: 0, g: 0, at: 1_000, mt: 2_000, ct: 3_000, s: 0, ch: '' }
  const s = stateFromWire(old)
  t.is(timeNs(s, 'atime'), 1_000_000_000n)
  t.is(timeNs(s, 'mtime'), 2_000_000_000n)
  t.is(timeNs(s, 'ctime'), 3_000_000_000n)
  t.absent('an' in stateToWire(s) || 'mn' in stateToWire(s) || 'cn' in stateToWire(s), 'no nanosecond fields when 0')
})

test('the wire form keeps the nanoseconds and ignores remainders out of range', (t) => {
  const s = stateFromWire({ t: 'f', m: 0o100644, u: 0, g: 0, at: 0, mt: 0, ct: 0 })
  setTime(s, 'mtime', T)
  setTime(s, 'atime', T + 1n)
  const w = stateToWire(s)
  t.is(w.mt, 1577934245123, 'milliseconds stay where old readers look')
  t.is(w.mn, 456789)
  t.is(timeNs(stateFromWire(w), 'mtime'), T)
  t.is(timeNs(stateFromWire(w), 'atime'), T + 1n)
  const hostile = stateFromWire({ ...w, mn: 5_000_000, an: -3 })
  t.is(timeNs(hostile, 'mtime'), 1577934245123000000n, 'a remainder of a millisecond or more is not one')
  t.is(timeNs(hostile, 'atime'), 1577934245123000000n)
})

test('setTime before 1970, milliseconds as a Number, keepLater', (t) => {
  const s: Times = { atime: 0, mtime: 0, ctime: 0 }
  setTime(s, 'mtime', -1n)
  t.is(s.mtime, -1, 'floor division')
  t.is(s.mtimeNs, 999_999)
  t.is(timeNs(s, 'mtime'), -1n)
  setTime(s, 'atime', 1234)
  t.is(timeNs(s, 'atime'), 1_234_000_000n)
  t.absent('atimeNs' in s)
  const theirs: Times = { atime: 0, mtime: 0, ctime: 0 }
  setTime(theirs, 'ctime', T)
  setTime(s, 'ctime', T - 1n)
  keepLater(s, theirs, 'ctime')
  t.is(timeNs(s, 'ctime'), T, 'a later time by one nanosecond wins')
})

test('nowNs follows the wall clock and has digits below the millisecond', (t) => {
  const seen = new Set<bigint>()
  for (let i = 0; i < 50; i++) {
    const before = BigInt(Date.now())
    const now = nowNs()
    const after = BigInt(Date.now())
    if (now / 1_000_000n < before || now / 1_000_000n > after) t.fail(`${now} outside [${before}, ${after}] ms`)
    seen.add(now % 1_000_000n)
  }
  t.ok(seen.size > 1, 'sub-millisecond digits vary')
})

test('utimens to the nanosecond survives close and reopen', async (t) => {
  const home = tempDir(t, 'home')
  const storeDir = tempDir(t, 'store')
  const v1 = await openVolume(home, storeDir, { chunkSize: 4096 })
  const f = await v1.create('/f', 0o644)
  await v1.closeFile(f)
  v1.utimens(f, T, T + 7n)
  const d = await v1.mkdir('/d', 0o755)
  v1.utimens(d, T + 100n, T + 200n)
  await v1.close()

  const v2 = await openVolume(home, storeDir)
  const f2 = await v2.resolve('/f')
  t.is(timeNs(f2.state, 'atime'), T)
  t.is(timeNs(f2.state, 'mtime'), T + 7n)
  const d2 = await v2.resolve('/d')
  t.is(timeNs(d2.state, 'mtime'), T + 200n)
  await v2.close()
})
