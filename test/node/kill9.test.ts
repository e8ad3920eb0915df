import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { randomBytes } from '../../lib/crypto'
import { runPeerstore } from '../helpers/cli'
import { startDaemon } from '../helpers/processes'
import { tempDir } from '../helpers/temp-dir'
import { waitFor } from '../helpers/wait'

const PORT = 50_000 + Math.floor(Math.random() * 1000)

async function status(home: string): Promise<{ peers: number; keys: number; member: boolean }> {
  const res = await runPeerstore(['status', '--home', home, '--json'])
  return JSON.parse(res.stdout)
}

test('kill -9 two of six serve processes at once: every block stays readable and is back on 3 nodes', async (t) => {
  t.timeout(360_000)
  const boot = startDaemon(t, ['bootstrap', '--port', String(PORT)])
  await boot.waitFor('listening on')
  const homes = Array.from({ length: 6 }, () => tempDir(t, 'home'))
  t.is((await runPeerstore(['init', '--home', homes[0], '--bootstrap', `127.0.0.1:${PORT}`])).code, 0)
  const token = (await runPeerstore(['invite', '--home', homes[0]])).stdout.trim()
  for (const home of homes.slice(1)) t.is((await runPeerstore(['join', '--home', home, token])).code, 0)
  const servers = homes.map((home) => startDaemon(t, ['serve', '--home', home, '--repair-interval', '1000']))
  await Promise.all(servers.map((s) => s.waitFor('serving node')))
  await waitFor('every node sees the five others', async () => (await status(homes[0])).peers >= 5, {
    timeoutMs: 90_000,
    intervalMs: 1000
  })

  const dir = tempDir(t, 'home')
  const keys: string[] = []
  const files: string[] = []
  for (let i = 0; i < 12; i++) {
    const file = path.join(dir, `b${i}`)
    fs.writeFileSync(file, randomBytes(10_000 + i))
    const put = await runPeerstore(['block', 'put', file, '--home', homes[i % 3]])
    t.is(put.code, 0, put.stderr)
    keys.push(put.stdout.trim())
    files.push(file)
  }
  const held = async (alive: string[]) => {
    let total = 0
    for (const home of alive) total += (await status(home)).keys
    return total
  }
  await waitFor('three copies of each block', async () => (await held(homes)) >= keys.length * 3, {
    timeoutMs: 60_000,
    intervalMs: 1000
  })

  await Promise.all([servers[1].stop('SIGKILL'), servers[4].stop('SIGKILL')])
  const alive = homes.filter((_, i) => i !== 1 && i !== 4)
  const readStart = Date.now()
  for (let i = 0; i < keys.length; i++) {
    const get = await runPeerstore(['block', 'get', keys[i], '--home', alive[i % alive.length]], { timeoutMs: 120_000 })
    t.is(get.code, 0, `block ${i} readable after two nodes were killed: ${get.stderr}`)
    t.ok(get.stdoutBytes.equals(fs.readFileSync(files[i])), `block ${i} intact`)
  }
  t.comment(`all blocks read in ${Date.now() - readStart} ms after the kills`)
  const ms = await waitFor(
    'every block back on 3 of the 4 live nodes',
    async () => (await held(alive)) >= keys.length * 3,
    { timeoutMs: 120_000, intervalMs: 1000 }
  )
  t.comment(`re-replicated ${ms} ms after the reads`)
  for (const home of alive) t.ok((await status(home)).member, 'survivors are ring members')
})
