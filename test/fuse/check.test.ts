// `peerstore check [--repair]` as a user runs it: a tree made through a real
// mount, then broken the way concurrent changes on two computers can break
// it (a folder that lists its own ancestor, a file listed in two folders, an
// entry naming a deleted file), written with the Volume's own flush (the
// test process opens the home while no mount runs). `check` through the
// running mount's control socket reports each problem and exits 1;
// `--repair` fixes them and exits 0, and the mount shows the repaired tree
// with every file's content; with no mount running, `check` opens the home
// itself and finds the tree sound.

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { openVolume } from '../../lib/app/open-volume'
import { runPeerstore } from '../helpers/cli'
import { startMount } from '../helpers/mount'
import { tempDir } from '../helpers/temp-dir'
import { sleep } from '../helpers/wait'

test('peerstore check finds a cycle, a double listing and a deleted entry; --repair fixes them', {
  timeout: 240_000
}, async (t) => {
  const home = tempDir(t, 'check-home')
  const first = await startMount(t, { home })
  fs.mkdirSync(path.join(first.dir, 'p', 'q'), { recursive: true })
  fs.writeFileSync(path.join(first.dir, 'p', 'f.txt'), 'in p\n')
  fs.writeFileSync(path.join(first.dir, 'p', 'q', 'g.txt'), 'in q\n')
  fs.writeFileSync(path.join(first.dir, 'gone.txt'), 'deleted\n')
  t.is(await first.stop(), 0, 'first mount flushes and stops')

  // Break the tree as merges can, through the Volume's own records.
  const opened = await openVolume(home)
  try {
    const v = opened.volume
    const p = await v.resolve('/p')
    const q = await v.resolve('/p/q')
    const f = await v.resolve('/p/f.txt')
    const gone = await v.resolve('/gone.txt')
    await v.unlink('/gone.txt')
    await v.sync()
    q.entries.set('back-to-p', { id: p.id, type: 'dir' })
    v.republish(q)
    v.root.entries.set('f-again.txt', { id: f.id, type: 'file' })
    v.root.entries.set('ghost.txt', { id: gone.id, type: 'file' })
    v.republish(v.root)
  } finally {
    await opened.close()
  }

  const m = await startMount(t, { home })
  const check = await runPeerstore(['check', '--home', home])
  t.is(check.code, 1, `problems: exit 1\n${check.stdout}${check.stderr}`)
  t.ok(/cycle: '\/p\/q' lists its own ancestor 'back-to-p'/.test(check.stdout), 'the cycle is reported')
  t.ok(/listed again as 'f\.txt' in '\/p'/.test(check.stdout), 'the double listing is reported')
  t.ok(/entry 'ghost\.txt' in '\/' names an inode that is deleted/.test(check.stdout), 'the deleted entry is reported')
  t.ok(check.stdout.includes("run 'peerstore check --repair'"), 'and says how to fix them')

  const repair = await runPeerstore(['check', '--repair', '--home', home])
  t.is(repair.code, 0, `repaired: exit 0\n${repair.stdout}${repair.stderr}`)
  t.ok(/3 repaired, 0 left/.test(repair.stdout), repair.stdout.trim().split('\n').pop())

  // The mount shows the repaired tree once the kernel's entries (cached for 1 s) are past their age.
  await sleep(1500)
  t.alike(fs.readdirSync(m.dir).sort(), ['f-again.txt', 'p'], 'the root: the nearer listing of f.txt stays, no ghost')
  t.alike(fs.readdirSync(path.join(m.dir, 'p')).sort(), ['q'], 'p no longer lists f.txt twice')
  t.alike(fs.readdirSync(path.join(m.dir, 'p', 'q')).sort(), ['g.txt'], 'q no longer lists p')
  t.is(fs.readFileSync(path.join(m.dir, 'f-again.txt'), 'utf8'), 'in p\n', 'f.txt content kept')
  t.is(fs.readFileSync(path.join(m.dir, 'p', 'q', 'g.txt'), 'utf8'), 'in q\n', 'g.txt content kept')
  t.is(await m.stop(), 0, 'the mount flushes and stops')

  const again = await runPeerstore(['check', '--home', home])
  t.is(again.code, 0, `no mount: the CLI opens the home itself\n${again.stdout}${again.stderr}`)
  t.ok(again.stdout.includes('the tree is sound'), again.stdout.trim())
})
