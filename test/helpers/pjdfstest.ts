// Runs the POSIX conformance suite pjdfstest (built by
// scripts/build-pjdfstest.sh) in a directory and collects every assertion's
// result. Its test files are shell scripts printing TAP; they run here a few
// at once (each uses its own random names) instead of through `prove`, so
// that each failure is known by file and number and can be held against the
// documented list in test/fuse/pjdfstest-known.ts.

import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

export interface PjdfstestResult {
  /** Assertions that passed (tests/chmod/00.t is 'chmod/00.t'). */
  passed: number
  /** Failures the suite itself marks `# TODO` (what POSIX allows and Linux does differently); prove counts them as passed. */
  todo: number
  /** 'chmod/00.t#22' → the line the suite printed for it. */
  failed: Map<string, string>
  /** Files that printed fewer results than their plan: 'file' → how many are missing. */
  missing: Map<string, number>
  files: number
  ms: number
}

/** Every test file of the suite, as 'dir/NN.t', sorted. */
export function listPjdfstestFiles(testsDir: string): string[] {
  return fs
    .readdirSync(testsDir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.t'))
    .sort()
}

function runOne(testsDir: string, file: string, cwd: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', [path.join(testsDir, file)], { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', () => {
      clearTimeout(timer)
      resolve(out)
    })
  })
}

/** Reads one file's TAP: its plan, the numbers that passed and the failures. */
export function parseTap(file: string, tap: string, result: PjdfstestResult): void {
  let planned = 0
  let seen = 0
  for (const line of tap.split('\n')) {
    const plan = /^1\.\.(\d+)/.exec(line)
    if (plan) planned = Number(plan[1])
    const ok = /^(not )?ok (\d+)/.exec(line)
    if (!ok) continue
    seen++
    if (/# TODO/.test(line)) result.todo++
    else if (ok[1]) result.failed.set(`${file}#${ok[2]}`, line)
    else result.passed++
  }
  if (seen < planned) result.missing.set(file, planned - seen)
}

export async function runPjdfstest(
  testsDir: string,
  cwd: string,
  opts: { concurrency?: number; fileTimeoutMs?: number; only?: string[] } = {}
): Promise<PjdfstestResult> {
  const started = Date.now()
  const files = listPjdfstestFiles(testsDir).filter((f) => !opts.only || opts.only.some((o) => f.startsWith(o)))
  const result: PjdfstestResult = {
    passed: 0,
    todo: 0,
    failed: new Map(),
    missing: new Map(),
    files: files.length,
    ms: 0
  }
  const queue = [...files]
  const worker = async () => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      parseTap(file, await runOne(testsDir, file, cwd, opts.fileTimeoutMs ?? 120_000), result)
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, worker))
  result.ms = Date.now() - started
  return result
}
