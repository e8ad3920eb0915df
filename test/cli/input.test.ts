// Input checks (issue 16): numeric flags out of range are usage errors
// (exit 2, before anything starts); `get` makes a missing DEST/ folder,
// refuses to overwrite without --force (having written nothing), and errors
// name the path they are about.

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { initHome, runPeerstore } from '../helpers/cli'
import { tempDir } from '../helpers/temp-dir'

test('numeric flags out of range are usage errors, exit 2', async (t) => {
  const home = await initHome(tempDir(t, 'home'))
  for (const [args, text] of [
    [['serve', '--port', '70000'], '--port must be a whole number from 0 to 65535'],
    [['serve', '--port=-1'], '--port must be a whole number from 0 to 65535'],
    [['serve', '--port', '80.5'], '--port must be a whole number'],
    [['serve', '--port', '0x50'], "got '0x50'"],
    [['serve', '--repair-interval', '0'], '--repair-interval must be a whole number of at least 100'],
    [['status', '--replicas', '0'], '--replicas must be a whole number from 1 to 16'],
    [['bootstrap', '--port', '65536'], '--port must be a whole number from 1 to 65535'],
    [['unmount', '/tmp/x', '--timeout=-3'], '--timeout must be a number of at least 0'],
    [['mount', '/tmp/x', '--sync-interval', 'soon'], '--sync-interval must be a number of at least 0']
  ] as [string[], string][]) {
    const res = await runPeerstore([...args, '--home', home], { timeoutMs: 30_000 })
    t.is(res.code, 2, `${args.join(' ')}: exit 2`)
    t.ok(res.stderr.includes(text), `${args.join(' ')}: ${res.stderr.split('\n')[0]}`)
  }
})

test('get: DEST/ is made, an existing file is kept without --force, errors name the path', async (t) => {
  const root = tempDir(t, 'get')
  const home = await initHome(path.join(root, 'home'))
  const src = path.join(root, 'src')
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true })
  fs.writeFileSync(path.join(src, 'a.txt'), 'from the store')
  fs.writeFileSync(path.join(src, 'sub', 'b.txt'), 'b')
  t.is((await runPeerstore(['backup', src, '--to', '/docs', '--home', home])).code, 0)

  // A missing folder written as one (trailing slash) is made, and the file goes inside it.
  const into = path.join(root, 'out', 'new')
  const made = await runPeerstore(['get', '/docs/a.txt', `${into}/`, '--home', home])
  t.is(made.code, 0, made.stderr)
  t.is(fs.readFileSync(path.join(into, 'a.txt'), 'utf8'), 'from the store')

  // An existing file is refused, and left as it was.
  fs.writeFileSync(path.join(into, 'a.txt'), 'mine')
  const refused = await runPeerstore(['get', '/docs/a.txt', into, '--home', home])
  t.is(refused.code, 1)
  t.ok(
    refused.stderr.includes(`${path.join(into, 'a.txt')} already exists`) && refused.stderr.includes('--force'),
    refused.stderr
  )
  t.is(fs.readFileSync(path.join(into, 'a.txt'), 'utf8'), 'mine', 'not overwritten')

  // A folder with one existing file inside: nothing of it is written.
  const tree = path.join(root, 'tree')
  fs.mkdirSync(path.join(tree, 'sub'), { recursive: true })
  fs.writeFileSync(path.join(tree, 'sub', 'b.txt'), 'kept')
  const folder = await runPeerstore(['get', '/docs', tree, '--home', home])
  t.is(folder.code, 1)
  t.absent(fs.existsSync(path.join(tree, 'a.txt')), 'nothing restored')
  t.is(fs.readFileSync(path.join(tree, 'sub', 'b.txt'), 'utf8'), 'kept')

  const forced = await runPeerstore(['get', '/docs', tree, '--force', '--home', home])
  t.is(forced.code, 0, forced.stderr)
  t.is(fs.readFileSync(path.join(tree, 'sub', 'b.txt'), 'utf8'), 'b', '--force overwrites')

  const missing = await runPeerstore(['get', '/docs/nope.txt', root, '--home', home])
  t.is(missing.code, 1)
  t.ok(missing.stderr.includes('/docs/nope.txt') && missing.stderr.includes('ENOENT'), missing.stderr.trim())
  const notDir = await runPeerstore(['ls', '/docs/a.txt/x', '--home', home])
  t.is(notDir.code, 1)
  t.ok(notDir.stderr.includes('/docs/a.txt/x'), notDir.stderr.trim())
})
