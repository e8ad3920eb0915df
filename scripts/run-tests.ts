// Runs every compiled test file in its own node process (tests mount FUSE and
// start swarms, so one crashing file must not take the others with it), then
// prints the plain `N passed, N failed` line that CI reads.
//
//   node dist/scripts/run-tests.js [substring ...]
//
// Files listed in PURE (no FUSE, no ring of processes or swarm, nothing but
// their own temp dirs) run several at a time, alongside the other files, which
// run one after another as before: those start swarms and mounts on fixed
// 127.0.0.1 ports and are timing-sensitive, so they never overlap each other.
// A pure file's output is held and printed whole once the serial file running
// at that moment is done, so no two files' lines interleave.
//
// Files listed in ALONGSIDE have FUSE mounts of their own but no ring, no
// swarm and no fixed port, and spend their minutes waiting on the kernel: they
// run one at a time in a lane of their own, beside the serial files.
//
// PEERSTORE_TEST_TIMEOUT_MS bounds each file (default 10 minutes).
// PEERSTORE_TEST_JOBS sets how many pure files run at once (default: the
// machine's available parallelism).

import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/**
 * Test files (relative to test/, without the extension) that may run in
 * parallel with any other file. Add a file here only when it needs no FUSE
 * mount, no `peerstore serve`/`mount`/`bootstrap` process, no swarm or
 * testnet and no fixed port; every file not listed runs serially, so
 * forgetting one costs only time. A name here that is not a test file stops
 * the run, so the list cannot silently rot when a file moves.
 */
const PURE = [
  'chord/forged.test',
  'chord/interval.test',
  'chord/ring.test',
  'chord/sim.test', // one `peerstore sim` child: a simulated network, no sockets
  'cli/cli.test', // the CLI on homes with no bootstrap address: no sockets
  'cli/home.test', // verbs refused before any node starts, and whoami: no sockets
  'cli/input.test', // flag checks before any node starts, get on a home with no bootstrap: no sockets
  'cli/wedged.test', // a stand-in control socket of its own home that never answers: no network
  'cli/device.test',
  'cli/share.test',
  'cli/tokens.test',
  'common/common.test',
  'crypto/checked-token.test',
  'crypto/crypto.test',
  'crypto/device-records.test',
  'net/chord-messages.test',
  'net/messages.test',
  'net/watch-messages.test',
  'node/config.test',
  'node/machine-stats.test',
  'node/repair-messages.test',
  'storage/claims.test',
  'storage/crash.test', // a writer child of its own, SIGKILLed on a local store
  'storage/disk-full.test', // a tmpfs of its own
  'storage/known-hash.test', // a FileService and RingClient on a fake router, no sockets
  'storage/node-store.test',
  'storage/tombstones.test',
  'volume/chunk-crypto.test',
  'volume/backup.test',
  'volume/cli-verbs.test',
  'volume/gc.test',
  'volume/lifecycle.test',
  'volume/local-value-store.test',
  'volume/namespace.test',
  'volume/share.test',
  'volume/sync.test',
  'volume/tree-check.test',
  'volume/tree-offline.test',
  'volume/volume.test'
  // Left out on purpose: volume/uploads.test times its backoff and close(), which a
  // neighbour on the same two cores can stretch (it failed once that way).
]

/**
 * Files whose FUSE mounts are all of the embedded one-node default: no ring,
 * no swarm, no fixed port, nothing shared with another file. They spend most
 * of their time waiting on the kernel and their mount, so they run one at a
 * time in a lane of their own beside the serial files (which took the CI run
 * past 30 minutes when these ran in it). Longest first: the lane starts with
 * the POSIX suite (~100 s). A file that starts a ring or a second computer
 * stays serial.
 */
const ALONGSIDE = [
  'fuse/pjdfstest.test',
  'fuse/model.test',
  'fuse/tools.test',
  'fuse/roundtrip.test',
  'fuse/apps.test',
  'fuse/check.test',
  'fuse/cli.test',
  'fuse/local-users.test',
  'fuse/gc.test',
  'fuse/crash.test',
  'fuse/posix.test',
  'fuse/errno.test',
  'fuse/allow-other.test',
  'fuse/owner-files.test',
  'fuse/first-mount.test'
]

const root = path.join(__dirname, '..', 'test')
const filters = process.argv.slice(2)
const fileTimeoutMs = Number(process.env.PEERSTORE_TEST_TIMEOUT_MS || 10 * 60_000)
const jobs = Math.max(1, Number(process.env.PEERSTORE_TEST_JOBS || os.availableParallelism()))

function listTests(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.test.js'))
    .map((name) => path.join(dir, name))
    .sort()
}

const nameOf = (file: string) => path.relative(root, file).replace(/\.js$/, '')

interface FileResult {
  file: string
  passed: number
  failed: number
  todo: number
  ms: number
}

/**
 * Runs one file. `write` receives its stdout (and the runner's own notes on
 * it); `writeErr` its stderr, or null to let it go straight to ours.
 */
function runFile(file: string, write: (text: string) => void, writeErr: ((text: string) => void) | null) {
  const started = Date.now()
  return new Promise<FileResult>((resolve) => {
    const child = spawn(process.execPath, [file], {
      stdio: ['ignore', 'pipe', writeErr ? 'pipe' : 'inherit'],
      // A node in DHT mode must never reach the public DHT from a test: unless the
      // run names a DHT, nothing answers there (test/helpers/cli.ts sets it for every child too).
      env: { ...process.env, PEERSTORE_DHT_BOOTSTRAP: process.env.PEERSTORE_DHT_BOOTSTRAP ?? '127.0.0.1:9' },
      detached: true
    })
    let passed = 0
    let failed = 0
    let todo = 0
    let buffered = ''
    const timer = setTimeout(() => {
      write(`\nnot ok - ${file} timed out after ${fileTimeoutMs} ms\n`)
      failed++
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {}
    }, fileTimeoutMs)
    if (writeErr) child.stderr!.on('data', (data: Buffer) => writeErr(data.toString()))
    child.stdout!.on('data', (data: Buffer) => {
      write(data.toString())
      buffered += data.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        // Top-level results only: brittle indents subtest assertions. A TODO is a
        // known gap, reported as skipped, never as passed.
        if (/^(not )?ok \d+.*# TODO/.test(line)) todo++
        else if (/^ok \d+/.test(line)) passed++
        else if (/^not ok \d+/.test(line)) failed++
      }
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      if (code !== 0 && failed === 0) {
        write(`\nnot ok - ${file} exited with code ${code}\n`)
        failed++
      }
      if (passed + failed + todo === 0) {
        write(`\nnot ok - ${file} ran no test\n`)
        failed++
      }
      resolve({ file, passed, failed, todo, ms: Date.now() - started })
    })
  })
}

/** Output blocks of finished pure files, printed whole whenever no serial file is streaming. */
class Output {
  private serialRunning = false
  private readonly held: { out: string; err: string }[] = []

  serialStarts(file: string): void {
    this.serialRunning = true
    process.stdout.write(`\n# === ${nameOf(file)}\n`)
  }

  serialEnds(): void {
    this.serialRunning = false
    this.flush()
  }

  pureDone(file: string, out: string, err: string, result: FileResult): void {
    const head = `\n# === ${nameOf(file)} (in parallel, ${result.ms} ms)\n`
    this.held.push({ out: head + out, err })
    if (!this.serialRunning) this.flush()
  }

  private flush(): void {
    for (const block of this.held.splice(0)) {
      if (block.err) process.stderr.write(block.err)
      process.stdout.write(block.out)
    }
  }
}

async function runSerial(files: string[], output: Output, results: Map<string, FileResult>): Promise<void> {
  for (const file of files) {
    output.serialStarts(file)
    const write = (text: string) => process.stdout.write(text)
    results.set(file, await runFile(file, write, null))
    output.serialEnds()
  }
}

async function runParallel(
  files: string[],
  lanes: number,
  output: Output,
  results: Map<string, FileResult>
): Promise<void> {
  const queue = [...files]
  const worker = async () => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      let out = ''
      let err = ''
      const result = await runFile(
        file,
        (text) => {
          out += text
        },
        (text) => {
          err += text
        }
      )
      results.set(file, result)
      output.pureDone(file, out, err, result)
    }
  }
  await Promise.all(Array.from({ length: Math.min(lanes, files.length) }, worker))
}

async function main() {
  const all = listTests(root)
  const names = new Set(all.map(nameOf))
  const stale = [...PURE, ...ALONGSIDE].filter((name) => !names.has(name))
  if (stale.length > 0) {
    process.stdout.write(`scripts/run-tests.ts: PURE or ALONGSIDE names files that do not exist: ${stale.join(', ')}\n`)
    process.stdout.write('0 passed, 1 failed, 0 skipped\n')
    process.exitCode = 1
    return
  }
  const pure = new Set(PURE)
  const alongside = new Set(ALONGSIDE)
  const files = all.filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  const started = Date.now()
  const results = new Map<string, FileResult>()
  const output = new Output()
  await Promise.all([
    runSerial(
      files.filter((f) => !pure.has(nameOf(f)) && !alongside.has(nameOf(f))),
      output,
      results
    ),
    runParallel(
      files.filter((f) => pure.has(nameOf(f))),
      jobs,
      output,
      results
    ),
    runParallel(
      ALONGSIDE.flatMap((name) => files.filter((f) => nameOf(f) === name)),
      1,
      output,
      results
    )
  ])
  const ordered = files.map((f) => results.get(f)!)
  process.stdout.write('\n# per file\n')
  for (const r of ordered) {
    const how = pure.has(nameOf(r.file)) ? ' (parallel)' : alongside.has(nameOf(r.file)) ? ' (alongside)' : ''
    process.stdout.write(`#   ${nameOf(r.file)}.js: ${r.passed} passed, ${r.failed} failed, ${r.ms} ms${how}\n`)
  }
  process.stdout.write(`# wall time ${Date.now() - started} ms, up to ${jobs} pure files at once\n`)
  const passed = ordered.reduce((n, r) => n + r.passed, 0)
  const failed = ordered.reduce((n, r) => n + r.failed, 0)
  const skipped = ordered.reduce((n, r) => n + r.todo, 0)
  for (const r of ordered) if (r.todo) process.stdout.write(`# known gaps (TODO) in ${nameOf(r.file)}.js: ${r.todo}\n`)
  process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`)
  process.exitCode = failed === 0 && passed > 0 ? 0 : 1
}

main()
