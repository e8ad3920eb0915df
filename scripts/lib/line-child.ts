// A benchmark helper process spoken to in lines: the parent writes a command
// line on the child's stdin, the child answers with one line on stdout. The
// child exits when its stdin closes, so it never outlives the parent; close()
// SIGKILLs it if it has not exited after a grace period.

import { type ChildProcess, spawn } from 'node:child_process'
import readline from 'node:readline'

export class LineChild {
  private readonly child: ChildProcess
  private readonly exited: Promise<void>
  private readonly lines: string[] = []
  private readonly waiting: { resolve: (line: string) => void; reject: (err: Error) => void }[] = []
  private exitError: Error | null = null

  constructor(script: string, args: string[], opts: { execArgv?: string[]; label?: string } = {}) {
    const label = opts.label ?? script
    this.child = spawn(process.execPath, [...(opts.execArgv ?? []), script, ...args], {
      stdio: ['pipe', 'pipe', 'inherit']
    })
    this.exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()))
    readline.createInterface({ input: this.child.stdout! }).on('line', (l) => {
      const w = this.waiting.shift()
      if (w) w.resolve(l)
      else this.lines.push(l)
    })
    this.child.once('exit', (code) => {
      this.exitError = new Error(`${label} exited with code ${code}`)
      for (const w of this.waiting.splice(0)) w.reject(this.exitError)
    })
  }

  /** The next line the child prints. */
  next(): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const l = this.lines.shift()
      if (l !== undefined) return resolve(l)
      if (this.exitError) return reject(this.exitError)
      this.waiting.push({ resolve, reject })
    })
  }

  /** Sends one command line and resolves with the child's one-line answer, parsed as JSON. */
  async ask<T>(command: string): Promise<T> {
    this.child.stdin!.write(`${command}\n`)
    return JSON.parse(await this.next()) as T
  }

  async close(graceMs = 15_000): Promise<void> {
    this.child.stdin!.end()
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs)
    await this.exited
    clearTimeout(timer)
  }
}

/** Child side: answers each stdin line with handler(line) as one JSON line; resolves when stdin closes. */
export function serveLines(handler: (line: string) => unknown | Promise<unknown>): Promise<void> {
  const rl = readline.createInterface({ input: process.stdin })
  let chain = Promise.resolve()
  rl.on('line', (l) => {
    // In order, one answer per line, even when a handler is async.
    chain = chain.then(async () => {
      const answer = await handler(l.trim())
      process.stdout.write(`${JSON.stringify(answer ?? null)}\n`)
    })
  })
  return new Promise<void>((resolve) => rl.once('close', () => resolve(chain)))
}
