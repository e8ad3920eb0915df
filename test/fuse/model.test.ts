// Randomized model test: thousands of random operations applied both to the
// mount and to a reference directory on local disk; after every step the
// touched paths and the whole tree's shape are compared, and all contents
// every 200 steps, after a remount in the middle, and at the end.
// Reproduce a failure with PEERSTORE_MODEL_SEED=<seed printed>.

import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import test from 'brittle'
import { startMount } from '../helpers/mount'
import { tempDir } from '../helpers/temp-dir'

const STEPS = Number(process.env.PEERSTORE_MODEL_STEPS || 3000)
const MiB = 1024 * 1024

function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Outcome = { ok: true; value?: string } | { ok: false; code: string }

function attempt(fn: () => unknown): Outcome {
  try {
    const value = fn()
    return { ok: true, value: typeof value === 'string' ? value : undefined }
  } catch (err) {
    return { ok: false, code: (err as NodeJS.ErrnoException).code ?? String(err) }
  }
}

/** Shape of a tree: every path with its type and size, sorted. */
function shape(root: string): string[] {
  const out: string[] = []
  const walk = (dir: string, rel: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name)
      const st = fs.lstatSync(p)
      out.push(`${rel}${name} ${st.isDirectory() ? 'd' : `f ${st.size}`}`)
      if (st.isDirectory()) walk(p, `${rel}${name}/`)
    }
  }
  walk(root, '')
  return out
}

function contents(root: string): string[] {
  const out: string[] = []
  const walk = (dir: string, rel: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name)
      if (fs.lstatSync(p).isDirectory()) walk(p, `${rel}${name}/`)
      else out.push(`${rel}${name} ${createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`)
    }
  }
  walk(root, '')
  return out
}

test('random operations agree with a local reference directory', { timeout: 240_000 }, async (t) => {
  const seed = Number(process.env.PEERSTORE_MODEL_SEED || Math.floor(Math.random() * 2 ** 31))
  t.comment(`seed ${seed} (PEERSTORE_MODEL_SEED=${seed} to replay)`)
  const rand = mulberry32(seed)
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]
  const int = (n: number) => Math.floor(rand() * n)

  const ref = tempDir(t, 'model-ref')
  t.teardown(() => fs.rmSync(ref, { recursive: true, force: true }))
  let m = await startMount(t)
  const roots = () => [m.dir, ref]

  const dirNames = ['', 'a', 'b', 'a/c']
  const fileNames = ['f1', 'f2', 'f3', 'big', 'x.txt']
  const anyDir = () => pick(dirNames)
  const anyFile = () => {
    const d = anyDir()
    return d ? `${d}/${pick(fileNames)}` : pick(fileNames)
  }
  const anyPath = () => (rand() < 0.8 ? anyFile() : pick(dirNames.filter(Boolean)))
  const payload = (len: number) => {
    const b = Buffer.alloc(len)
    let x = int(2 ** 31)
    for (let i = 0; i < len; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0
      b[i] = x >>> 24
    }
    return b
  }
  const offset = () => (rand() < 0.3 ? pick([0, MiB - 1, MiB, MiB + 1, 2 * MiB - 3]) : int(3 * MiB))

  const ops: Record<string, () => { desc: string; run: (root: string) => unknown; touched: string[] }> = {
    write: () => {
      const f = anyFile()
      const pos = offset()
      const data = payload(rand() < 0.7 ? 1 + int(8192) : 1 + int(400_000))
      return {
        desc: `write ${f} @${pos} len ${data.length}`,
        touched: [f],
        run: (root) => {
          const fd = fs.openSync(path.join(root, f), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644)
          try {
            fs.writeSync(fd, data, 0, data.length, pos)
          } finally {
            fs.closeSync(fd)
          }
        }
      }
    },
    append: () => {
      const f = anyFile()
      const data = payload(1 + int(20_000))
      return {
        desc: `append ${f} ${data.length}`,
        touched: [f],
        run: (root) => fs.appendFileSync(path.join(root, f), data)
      }
    },
    truncate: () => {
      const f = anyFile()
      const size = rand() < 0.3 ? 0 : offset()
      return { desc: `truncate ${f} ${size}`, touched: [f], run: (root) => fs.truncateSync(path.join(root, f), size) }
    },
    read: () => {
      const f = anyFile()
      const pos = offset()
      const len = 1 + int(300_000)
      return {
        desc: `read ${f} @${pos} ${len}`,
        touched: [],
        run: (root) => {
          const fd = fs.openSync(path.join(root, f), 'r')
          try {
            const buf = Buffer.alloc(len)
            const n = fs.readSync(fd, buf, 0, len, pos)
            return createHash('sha256').update(buf.subarray(0, n)).digest('hex')
          } finally {
            fs.closeSync(fd)
          }
        }
      }
    },
    rename: () => {
      const from = anyPath()
      const to = rand() < 0.5 ? anyFile() : anyPath()
      return {
        desc: `rename ${from} -> ${to}`,
        touched: [from, to],
        run: (root) => fs.renameSync(path.join(root, from), path.join(root, to))
      }
    },
    unlink: () => {
      const f = anyFile()
      return { desc: `unlink ${f}`, touched: [f], run: (root) => fs.unlinkSync(path.join(root, f)) }
    },
    mkdir: () => {
      const d = pick(dirNames.filter(Boolean))
      return { desc: `mkdir ${d}`, touched: [d], run: (root) => fs.mkdirSync(path.join(root, d)) }
    },
    rmdir: () => {
      const d = pick(dirNames.filter(Boolean))
      return { desc: `rmdir ${d}`, touched: [d], run: (root) => fs.rmdirSync(path.join(root, d)) }
    }
  }
  const weights: [string, number][] = [
    ['write', 30],
    ['append', 8],
    ['truncate', 10],
    ['read', 15],
    ['rename', 12],
    ['unlink', 8],
    ['mkdir', 10],
    ['rmdir', 7]
  ]
  const total = weights.reduce((n, [, w]) => n + w, 0)
  const nextOp = () => {
    let r = rand() * total
    for (const [name, w] of weights) {
      r -= w
      if (r < 0) return ops[name]()
    }
    return ops.write()
  }

  const compareAll = (step: number, what: string): boolean => {
    const [a, b] = roots().map(contents)
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      t.alike(a, b, `contents differ ${what} at step ${step} (seed ${seed})`)
      return false
    }
    return true
  }

  let failed = false
  for (let step = 1; step <= STEPS && !failed; step++) {
    const op = nextOp()
    const [got, want] = roots().map((root) => attempt(() => op.run(root)))
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      t.alike(got, want, `step ${step}: ${op.desc} (seed ${seed})`)
      failed = true
      break
    }
    const [sa, sb] = roots().map(shape)
    if (JSON.stringify(sa) !== JSON.stringify(sb)) {
      t.alike(sa, sb, `tree shape after step ${step}: ${op.desc} (seed ${seed})`)
      failed = true
      break
    }
    for (const p of op.touched) {
      const [x, y] = roots().map((root) =>
        attempt(() => {
          const full = path.join(root, p)
          if (fs.lstatSync(full).isDirectory()) return 'dir'
          return createHash('sha256').update(fs.readFileSync(full)).digest('hex')
        })
      )
      if (JSON.stringify(x) !== JSON.stringify(y)) {
        t.alike(x, y, `content of ${p} after step ${step}: ${op.desc} (seed ${seed})`)
        failed = true
      }
    }
    if (!failed && step % 200 === 0) failed = !compareAll(step, 'in full')
    if (!failed && step === Math.floor(STEPS / 2)) {
      const home = m.home
      const dir = m.dir
      t.is(await m.stop(), 0, 'clean unmount in the middle')
      m = await startMount(t, { home, dir })
      failed = !compareAll(step, 'after remount')
    }
  }
  if (!failed) {
    t.ok(compareAll(STEPS, 'at the end'), `${STEPS} steps agree (seed ${seed})`)
    const home = m.home
    const dir = m.dir
    await m.stop()
    m = await startMount(t, { home, dir })
    t.ok(compareAll(STEPS, 'after the final remount'), 'everything reads back after remount')
  }
  await m.stop()
})
