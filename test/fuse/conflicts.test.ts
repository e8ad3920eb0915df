// The device-conflict matrix (docs/volume.md, "Concurrent operations on two
// computers"): one user, two real `peerstore mount` processes on one ring on
// 127.0.0.1, each pair of concurrent operations run through the two
// mountpoints, then both trees compared. Each scenario works in a folder of
// its own; a failed scenario is reported and the next one still runs, so one
// run shows the whole matrix. Waits poll up to a deadline; no timing is
// asserted. The pauses before some checks only give a wrong outcome the time
// to show (the bug this file was written for lost the edit ~8 s later).

import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { runPeerstore } from '../helpers/cli'
import { startTwoDevices } from '../helpers/ring-mounts'
import { sleep, waitFor } from '../helpers/wait'

const PORT = 50_000 + Math.floor(Math.random() * 1000)
const DEADLINE_MS = 40_000
/** Longer than a flush (1 s), a sync tick (1 s) and the tree check's settle delay together. */
const STABLE_MS = 8_000

const ls = (dir: string) => fs.readdirSync(dir).sort().join(',')
const cat = (file: string) => fs.readFileSync(file, 'utf8')

/** Every path under `dir` with a file's content or `/` for a folder, sorted: one string to compare. */
function tree(dir: string, rel = ''): string[] {
  const out: string[] = []
  for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
    const p = rel ? `${rel}/${name}` : name
    // A cycle would never end: a folder deeper than this is itself a failure (and shown as such).
    if (p.split('/').length > 8) return [`${p}/… (too deep)`]
    const st = fs.lstatSync(path.join(dir, p))
    if (st.isDirectory()) out.push(`${p}/`, ...tree(dir, p))
    else out.push(`${p}=${cat(path.join(dir, p))}`)
  }
  return out
}

/** The contents of the files directly in `dir`, sorted. */
const contents = (dir: string) =>
  fs
    .readdirSync(dir)
    .map((n) => cat(path.join(dir, n)))
    .sort()
    .join('|')

test('two mounts of one user: every pair of concurrent operations keeps what was written', {
  timeout: 900_000
}, async (t) => {
  const { a, b } = await startTwoDevices(t, { port: PORT, prefix: 'conflicts' })
  const A = a.dir
  const B = b.dir
  const dump = () => `\n--- mount A:\n${a.output().slice(-3000)}\n--- mount B:\n${b.output().slice(-3000)}`
  const wait = (what: string, check: () => boolean) =>
    waitFor(what, check, { timeoutMs: DEADLINE_MS, intervalMs: 100, retryErrors: true })
  /** Both mounts show the same tree under `dir` and it passes `ok`. */
  const agree = async (what: string, dir: string, ok: (entries: string[]) => boolean) => {
    let last = ''
    await waitFor(
      what,
      () => {
        const ta = tree(path.join(A, dir))
        const tb = tree(path.join(B, dir))
        last = `A: ${ta.join(' ')}\nB: ${tb.join(' ')}`
        return ta.join('\n') === tb.join('\n') && ok(ta)
      },
      { timeoutMs: DEADLINE_MS, intervalMs: 200, retryErrors: true }
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${last}`)
    })
    return last
  }
  /** Lets a wrong outcome show, then checks again. */
  const stays = async (what: string, dir: string, ok: (entries: string[]) => boolean) => {
    await agree(what, dir, ok)
    await sleep(STABLE_MS)
    return agree(`${what} (still, ${STABLE_MS / 1000} s later)`, dir, ok)
  }
  /** A folder with files made in A and seen in B. */
  const setup = async (dir: string, files: Record<string, string>, dirs: string[] = []) => {
    fs.mkdirSync(path.join(A, dir))
    for (const d of dirs) fs.mkdirSync(path.join(A, dir, d))
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(A, dir, name), text)
    const want = tree(path.join(A, dir)).join('\n')
    await wait(`${dir} set up in B`, () => tree(path.join(B, dir)).join('\n') === want)
  }
  // CONFLICTS_ONLY=word runs only the scenarios whose name has that word (when looking into one).
  const only = process.env.CONFLICTS_ONLY
  const scenario = async (name: string, fn: () => Promise<string | undefined>) => {
    if (only && !name.includes(only)) return
    try {
      const shown = await fn()
      t.pass(`${name}${shown ? `\n${shown}` : ''}`)
    } catch (err) {
      // What each mount's own tree check sees now (reports only: no --repair).
      const checks = await Promise.all(
        [a.home, b.home].map(async (home) => (await runPeerstore(['check', '--home', home])).stdout)
      )
      t.fail(`${name}: ${(err as Error).message}${dump()}\n--- check A:\n${checks[0]}--- check B:\n${checks[1]}`)
    }
  }

  await scenario('write/delete: A deletes, B appends 50 ms later: the append is kept', async () => {
    await setup('wd', { 'w.txt': 'base\n' })
    fs.unlinkSync(path.join(A, 'wd', 'w.txt'))
    await sleep(50)
    fs.appendFileSync(path.join(B, 'wd', 'w.txt'), 'more\n')
    return stays('the appended file on both', 'wd', (e) => e.length === 1 && e[0].endsWith('=base\nmore\n'))
  })

  await scenario('write/delete: B holds the file open for append, A deletes, B writes, fsyncs, closes', async () => {
    await setup('wd2', { 'h.txt': 'base\n' })
    const fd = fs.openSync(path.join(B, 'wd2', 'h.txt'), 'a')
    try {
      fs.unlinkSync(path.join(A, 'wd2', 'h.txt'))
      await wait('B no longer lists h.txt', () => ls(path.join(B, 'wd2')) === '')
      fs.writeSync(fd, 'after delete\n')
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    return stays('what B wrote after the delete, on both', 'wd2', (e) => e.join() === 'h.txt=base\nafter delete\n')
  })

  await scenario('read/delete: B holds the file open for reading, A deletes, B reads it whole', async () => {
    await setup('rd', { 'r.txt': 'still readable\n' })
    const fd = fs.openSync(path.join(B, 'rd', 'r.txt'), 'r')
    try {
      fs.unlinkSync(path.join(A, 'rd', 'r.txt'))
      await wait('B no longer lists r.txt', () => ls(path.join(B, 'rd')) === '')
      // Past the kernel's 1 s attribute cache: the read below makes it ask for the attributes again.
      await sleep(1500)
      t.is(fs.fstatSync(fd).size, 15, 'fstat on the open file still works')
      const buf = Buffer.alloc(64)
      const n = fs.readSync(fd, buf, 0, 64, 0)
      t.is(buf.subarray(0, n).toString(), 'still readable\n', 'read() on the open file still works')
    } finally {
      fs.closeSync(fd)
    }
    return stays('the file stays deleted (nothing was written to it)', 'rd', (e) => e.length === 0)
  })

  await scenario('create/create: both create one name with different contents: both kept', async () => {
    await setup('cc', {})
    fs.writeFileSync(path.join(A, 'cc', 'n.txt'), 'from a\n')
    fs.writeFileSync(path.join(B, 'cc', 'n.txt'), 'from b\n')
    const shown = await stays(
      'both contents on both',
      'cc',
      (e) => e.length === 2 && e.some((x) => x === 'n.txt=from a\n' || x === 'n.txt=from b\n')
    )
    const got = contents(path.join(A, 'cc'))
    if (got !== 'from a\n|from b\n') throw new Error(`contents ${JSON.stringify(got)}`)
    return shown
  })

  await scenario('write/write: both rewrite one file: both versions kept', async () => {
    await setup('ww', { 'f.txt': 'base\n' })
    fs.writeFileSync(path.join(A, 'ww', 'f.txt'), 'edit a\n')
    fs.writeFileSync(path.join(B, 'ww', 'f.txt'), 'edit b\n')
    const shown = await stays('both versions on both', 'ww', (e) => e.length === 2)
    const got = contents(path.join(A, 'ww'))
    if (got !== 'edit a\n|edit b\n') throw new Error(`contents ${JSON.stringify(got)}`)
    return shown
  })

  await scenario('rename/delete: A renames f to g, B deletes f: the renamed file is kept, once', async () => {
    await setup('rdl', { f: 'keep me\n' })
    fs.renameSync(path.join(A, 'rdl', 'f'), path.join(A, 'rdl', 'g'))
    fs.unlinkSync(path.join(B, 'rdl', 'f'))
    return stays('g on both, once', 'rdl', (e) => e.join() === 'g=keep me\n')
  })

  await scenario('rename/rename: one file renamed to two names: it ends under one name, on both', async () => {
    await setup('rr', { f: 'one file\n' })
    fs.renameSync(path.join(A, 'rr', 'f'), path.join(A, 'rr', 'by-a'))
    fs.renameSync(path.join(B, 'rr', 'f'), path.join(B, 'rr', 'by-b'))
    return stays('one name on both', 'rr', (e) => e.length === 1 && e[0].endsWith('=one file\n'))
  })

  await scenario('rename/rename cycle: A moves p into q, B moves q into p: no cycle, nothing lost', async () => {
    await setup('cy', { 'p/pf': 'in p\n', 'q/qf': 'in q\n' }, ['p', 'q'])
    fs.renameSync(path.join(A, 'cy', 'p'), path.join(A, 'cy', 'q', 'p'))
    fs.renameSync(path.join(B, 'cy', 'q'), path.join(B, 'cy', 'p', 'q'))
    return stays('p and q each once, both files kept', 'cy', (e) => {
      const dirs = e.filter((x) => x.endsWith('/')).map((x) => path.basename(x.slice(0, -1)))
      const files = e.filter((x) => !x.endsWith('/')).map((x) => `${path.basename(x.split('=')[0])}=${x.split('=')[1]}`)
      return dirs.sort().join() === 'p,q' && files.sort().join() === 'pf=in p\n,qf=in q\n'
    })
  })

  await scenario(
    'mkdir/rmdir: B removes an empty folder while A creates a file in it: the folder stays with the file',
    async () => {
      await setup('md', {}, ['d'])
      fs.writeFileSync(path.join(A, 'md', 'd', 'new.txt'), 'new\n')
      fs.rmdirSync(path.join(B, 'md', 'd'))
      return stays('d/new.txt on both', 'md', (e) => e.join() === 'd/,d/new.txt=new\n')
    }
  )

  t.is(await b.stop(), 0, 'B flushes and unmounts')
  t.is(await a.stop(), 0, 'A flushes and unmounts')
})
