// `peerstore devices` (docs/devices.md): two computers of one user on a real
// ring each register themselves in the user's device list when they mount
// (name from --device-name, kept for later mounts; first and last seen), and
// both list the same two computers, each marking itself. A remount keeps the
// first-seen time and moves the last-seen one.

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { keyPairFromSeed } from '../../lib/crypto'
import { runPeerstore } from '../helpers/cli'
import { startMount } from '../helpers/mount'
import { startTwoDevices } from '../helpers/ring-mounts'
import { waitFor } from '../helpers/wait'

const PORT = 46_000 + Math.floor(Math.random() * 1000)

interface Listed {
  key: string
  name: string
  firstSeen: number
  lastSeen: number
  thisComputer: boolean
}

async function devices(home: string): Promise<Listed[]> {
  const res = await runPeerstore(['devices', '--json', '--home', home])
  if (res.code !== 0) throw new Error(res.stderr)
  return JSON.parse(res.stdout) as Listed[]
}

const deviceKey = (home: string) =>
  keyPairFromSeed(fs.readFileSync(path.join(home, 'device.seed'))).publicKey.toString('hex')

test('devices: two computers of one user list each other, with first and last seen', {
  timeout: 300_000
}, async (t) => {
  const started = Date.now()
  const { a, b, homeA, homeB } = await startTwoDevices(t, {
    port: PORT,
    prefix: 'devices',
    argsA: ['--device-name', 'laptop'],
    argsB: ['--device-name', 'desktop']
  })
  t.is(fs.statSync(path.join(homeA, 'device.seed')).mode & 0o777, 0o600, 'a device key of its own, owner only')
  t.not(deviceKey(homeA), deviceKey(homeB), 'each computer has its own device key')
  t.alike(fs.readFileSync(path.join(homeA, 'user.seed')), fs.readFileSync(path.join(homeB, 'user.seed')), 'one user')

  let listA: Listed[] = []
  await waitFor(
    'both computers in the list seen from A',
    async () => {
      listA = await devices(homeA)
      return listA.length === 2
    },
    { timeoutMs: 30_000, intervalMs: 250, retryErrors: true }
  ).catch((err: Error) =>
    t.fail(`${err.message}: ${JSON.stringify(listA)}\n--- A:\n${a.output()}\n--- B:\n${b.output()}`)
  )
  const byName = new Map(listA.map((d) => [d.name, d]))
  t.alike([...byName.keys()].sort(), ['desktop', 'laptop'])
  t.is(byName.get('laptop')?.key, deviceKey(homeA), "laptop is A's device key")
  t.is(byName.get('desktop')?.key, deviceKey(homeB), "desktop is B's device key")
  t.ok(byName.get('laptop')?.thisComputer && !byName.get('desktop')?.thisComputer, 'A marks itself')
  for (const d of listA) {
    t.ok(d.firstSeen >= started && d.firstSeen <= d.lastSeen && d.lastSeen <= Date.now(), `${d.name}: sane times`)
  }
  const listB = await devices(homeB)
  t.alike(
    listB.map((d) => [d.key, d.name, d.thisComputer]).sort(),
    listA.map((d) => [d.key, d.name, d.key === deviceKey(homeB)]).sort(),
    'B lists the same computers and marks itself'
  )
  const human = await runPeerstore(['devices', '--home', homeB])
  t.is(human.code, 0, human.stderr)
  t.ok(/desktop .*\(this computer\)/.test(human.stdout) && human.stdout.includes('laptop'), human.stdout)

  // B remounts without the flag: same name, same first seen, a later last seen.
  const before = byName.get('desktop')!
  t.is(await b.stop(), 0)
  const b2 = await startMount(t, { home: homeB, args: ['--host', '127.0.0.1'], readyTimeoutMs: 60_000 })
  let after: Listed | undefined
  await waitFor(
    "B's remount in the list",
    async () => {
      after = (await devices(homeA)).find((d) => d.key === before.key)
      return after !== undefined && after.lastSeen > before.lastSeen
    },
    { timeoutMs: 30_000, intervalMs: 250, retryErrors: true }
  ).catch((err: Error) => t.fail(`${err.message}\n--- B:\n${b2.output()}`))
  t.is(after?.name, 'desktop', 'the name given once is kept')
  t.is(after?.firstSeen, before.firstSeen, 'first seen stays')
  t.is((await devices(homeA)).length, 2, 'still two computers, not three')
})
