// backup / ls / get: the client verbs that work without FUSE.

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { randomBytes } from '../../lib/crypto'
import { initHome, runPeerstore } from '../helpers/cli'
import { tempDir } from '../helpers/temp-dir'

test('backup a tree, list it, get it back identical', async (t) => {
  const root = tempDir(t, 'verbs')
  const src = path.join(root, 'src')
  fs.mkdirSync(path.join(src, 'sub', 'deeper'), { recursive: true })
  fs.writeFileSync(path.join(src, 'a.txt'), 'hello')
  spawnSync('touch', ['-d', '2020-01-02 03:04:05.123456789 UTC', path.join(src, 'a.txt')])
  fs.writeFileSync(path.join(src, 'sub', 'big.bin'), randomBytes(2_500_000))
  fs.writeFileSync(path.join(src, 'sub', 'deeper', 'empty'), '')
  fs.symlinkSync('a.txt', path.join(src, 'link'))
  const home = await initHome(path.join(root, 'home'))

  const b = await runPeerstore(['backup', src, '--to', '/backups/src', '--home', home])
  t.is(b.code, 0, b.stderr)
  // Three files and a link.
  t.ok(b.stdout.includes('4 uploaded, 0 skipped, 0 deleted'), b.stdout)

  const ls = await runPeerstore(['ls', '/backups/src', '--json', '--home', home])
  t.is(ls.code, 0, ls.stderr)
  const names = ls.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).name)
  t.alike(names, ['a.txt', 'link', 'sub'])

  const out = path.join(root, 'out')
  const g = await runPeerstore(['get', '/backups/src', out, '--home', home])
  t.is(g.code, 0, g.stderr)
  t.alike(fs.readFileSync(path.join(out, 'sub', 'big.bin')), fs.readFileSync(path.join(src, 'sub', 'big.bin')))
  t.is(fs.readFileSync(path.join(out, 'a.txt'), 'utf8'), 'hello')
  // Stored to the nanosecond; Node's utimes takes seconds as a Number (libuv keeps microseconds).
  const off = fs.statSync(path.join(out, 'a.txt'), { bigint: true }).mtimeNs - 1577934245123456789n
  t.ok(off > -2000n && off < 2000n, `mtime within two microseconds (${off} ns off)`)
  t.is(fs.readlinkSync(path.join(out, 'link')), 'a.txt')
  t.is(fs.statSync(path.join(out, 'sub', 'deeper', 'empty')).size, 0)

  const missing = await runPeerstore(['get', '/nope', out, '--home', home])
  t.is(missing.code, 1)
  t.ok(missing.stderr.includes('ENOENT'), missing.stderr)
})
