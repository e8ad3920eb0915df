// Issue 12 item 12: a member holding only the network key sends hundreds of
// forged Chord messages (leave naming a live machine, hint and notify naming
// machines that do not exist or with ids that are not theirs) to a ring of 4
// real serve processes. Every honest node's view must stay at the 4 real
// machines, writes must keep working, and every block must keep 3 copies.

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { randomBytes } from '../../lib/crypto'
import { LineChild } from '../../scripts/lib/line-child'
import { runPeerstore } from '../helpers/cli'
import { startDaemon } from '../helpers/processes'
import { tempDir } from '../helpers/temp-dir'
import { sleep, waitFor } from '../helpers/wait'

const PORT = 50_000 + Math.floor(Math.random() * 1000)
/** Serve processes run with the default 16 virtual nodes. */
const VNODES = 16

interface Status {
  nodeKey: string
  peers: number
  keys: number
  member: boolean
  ringMachines: number
  predecessor: string | null
  successors: string[]
}

async function status(home: string): Promise<Status> {
  const res = await runPeerstore(['status', '--home', home, '--json'])
  return JSON.parse(res.stdout)
}

interface AttackResult {
  sent: number
  answered: number
  refused: number
  errors: Record<string, number>
}

test('forged leave, hint and notify from a member holding the network key change no honest view; writes and 3 copies survive', async (t) => {
  t.timeout(600_000)
  const boot = startDaemon(t, ['bootstrap', '--port', String(PORT)])
  await boot.waitFor('listening on')
  const homes = Array.from({ length: 4 }, () => tempDir(t, 'home'))
  const hostileHome = tempDir(t, 'home')
  t.is((await runPeerstore(['init', '--home', homes[0], '--bootstrap', `127.0.0.1:${PORT}`])).code, 0)
  const token = (await runPeerstore(['invite', '--home', homes[0]])).stdout.trim()
  for (const home of [...homes.slice(1), hostileHome]) {
    t.is((await runPeerstore(['join', '--home', home, token])).code, 0)
  }
  const servers = homes.map((home) => startDaemon(t, ['serve', '--home', home, '--repair-interval', '1000']))
  await Promise.all(servers.map((s) => s.waitFor('serving node')))
  const keys = (await Promise.all(homes.map(status))).map((s) => s.nodeKey)
  const real = new Set(keys)
  const settled = async () => {
    const all = await Promise.all(homes.map(status))
    return all.every((s) => s.member && s.ringMachines === 4 && s.peers >= 3)
  }
  await waitFor('a settled ring of 4', settled, { timeoutMs: 120_000, intervalMs: 1000 })

  const dir = tempDir(t, 'home')
  const blocks: { key: string; file: string }[] = []
  const put = async (i: number) => {
    const file = path.join(dir, `b${i}`)
    fs.writeFileSync(file, randomBytes(5_000 + i))
    const started = Date.now()
    const res = await runPeerstore(['block', 'put', file, '--home', homes[i % homes.length]], { timeoutMs: 120_000 })
    t.is(res.code, 0, `block ${i} written: ${res.stderr.trim()}`)
    if (res.code === 0) blocks.push({ key: res.stdout.trim(), file })
    return Date.now() - started
  }
  for (let i = 0; i < 8; i++) await put(i)
  const held = async () => {
    let total = 0
    for (const home of homes) total += (await status(home)).keys
    return total
  }
  await waitFor('3 copies of the first blocks', async () => (await held()) >= blocks.length * 3, {
    timeoutMs: 90_000,
    intervalMs: 1000
  })

  const hostile = new LineChild(path.join(__dirname, 'hostile-chord-child.js'), [hostileHome], { label: 'hostile' })
  t.teardown(() => hostile.close(5_000), { order: 0 })
  const hello = await hostile.ask<{ publicKey?: string; error?: string }>(`peers ${keys.join(',')}`)
  t.ok(hello.publicKey, `the hostile member is connected to every machine ${hello.error ?? ''}`)

  // Watch every honest view while the attack runs and for a while after.
  let watching = true
  let maxMachines = 0
  const foreign = new Set<string>()
  const watcher = (async () => {
    while (watching) {
      for (const home of homes) {
        const s = await status(home).catch(() => null)
        if (!s) continue
        maxMachines = Math.max(maxMachines, s.ringMachines)
        for (const e of [s.predecessor, ...s.successors]) {
          const address = e?.split('@')[1]
          if (address && !real.has(address)) foreign.add(address)
        }
      }
    }
  })()

  const attack = (async () => {
    const results: AttackResult[] = []
    for (let wave = 0; wave < 3; wave++) {
      results.push(await hostile.ask<AttackResult>(`attack ${keys.join(',')} ${VNODES}`))
      // On purpose: the waves are spread out, so that the ring stabilizes between them.
      await sleep(1000)
    }
    return results
  })()
  const putTimes: number[] = []
  for (let i = 8; i < 16; i++) putTimes.push(await put(i))
  const results = await attack
  const sent = results.reduce((n, r) => n + r.sent, 0)
  t.comment(`forged messages sent: ${sent}; answered/refused per wave: ${JSON.stringify(results)}`)
  t.ok(sent >= 500, 'hundreds of forged messages were sent')
  t.comment(`writes during the attack took ${putTimes.join(', ')} ms`)
  // On purpose: the watch goes on a while after the attack, to see that no forged entry shows up late.
  await sleep(15_000)
  watching = false
  await watcher

  t.ok(maxMachines <= 4, `every honest view stayed at the 4 real machines (largest seen: ${maxMachines})`)
  t.is(foreign.size, 0, `no made-up machine appeared as predecessor or successor (${[...foreign].join(', ')})`)
  t.ok(await settled(), 'the ring is still the 4 real machines')
  const copies = await waitFor('3 copies of every block', async () => (await held()) >= blocks.length * 3, {
    timeoutMs: 120_000,
    intervalMs: 1000
  })
    .then((ms) => `within ${ms} ms`)
    .catch(() => null)
  t.ok(copies, `every block back on 3 machines after the attack ended (${copies ?? `held ${await held()}`})`)
  for (let i = 0; i < blocks.length; i++) {
    const get = await runPeerstore(['block', 'get', blocks[i].key, '--home', homes[(i + 1) % homes.length]])
    t.is(get.code, 0, `block ${i} readable: ${get.stderr.trim()}`)
    t.ok(get.stdoutBytes.equals(fs.readFileSync(blocks[i].file)), `block ${i} intact`)
  }
})
