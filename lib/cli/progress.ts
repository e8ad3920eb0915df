// Progress of a long transfer (`backup`, `get`) on stderr: on a terminal one
// line redrawn in place; otherwise (a log, cron mail) a plain line every few
// seconds, so short runs print none; nothing at all when quiet.
// PEERSTORE_PROGRESS_MS overrides both intervals (tests set it low to see the lines).

const MiB = 1024 * 1024
const REDRAW_MS = 200
const LOG_EVERY_MS = 5_000

export interface ProgressTotals {
  files: number
  bytes: number
}

export function formatMiB(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`
}

export function formatDuration(secs: number): string {
  if (!Number.isFinite(secs)) return '?'
  const s = Math.round(secs)
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
}

export class Progress {
  readonly done: ProgressTotals = { files: 0, bytes: 0 }
  private readonly started = Date.now()
  private lastShown: number
  private readonly tty: boolean
  private drawn = false

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly label: string,
    private readonly total: ProgressTotals,
    private readonly quiet = false
  ) {
    this.tty = (out as NodeJS.WriteStream).isTTY === true
    this.lastShown = this.started
  }

  /** Seconds since the start. */
  elapsed(): number {
    return (Date.now() - this.started) / 1000
  }

  add(files: number, bytes: number): void {
    this.done.files += files
    this.done.bytes += bytes
    if (this.quiet) return
    const now = Date.now()
    if (now - this.lastShown < this.interval()) return
    this.lastShown = now
    this.show()
  }

  /** Clears the redrawn line, so what follows starts on a clean one. */
  finish(): void {
    if (this.drawn) this.out.write('\r\x1b[K')
    this.drawn = false
  }

  line(): string {
    const secs = Math.max(0.001, this.elapsed())
    const rate = this.done.bytes / secs
    const left = this.total.bytes - this.done.bytes
    // The first second's rate says little (startup, a first small file).
    const eta = rate > 0 && secs >= 1 ? formatDuration(left / rate) : '?'
    return (
      `${this.label}: ${this.done.files}/${this.total.files} files, ` +
      `${formatMiB(this.done.bytes)}/${formatMiB(this.total.bytes)}, ` +
      `${(rate / MiB).toFixed(1)} MiB/s, ETA ${eta}`
    )
  }

  private interval(): number {
    const set = Number(process.env.PEERSTORE_PROGRESS_MS)
    if (Number.isFinite(set) && set >= 0 && process.env.PEERSTORE_PROGRESS_MS !== '') return set
    return this.tty ? REDRAW_MS : LOG_EVERY_MS
  }

  private show(): void {
    if (this.tty) {
      // Cut to the terminal's width: a wrapped line would not be redrawn in place.
      const columns = (this.out as NodeJS.WriteStream).columns || 80
      this.out.write(`\r\x1b[K${this.line().slice(0, columns - 1)}`)
      this.drawn = true
    } else {
      this.out.write(`${this.line()}\n`)
    }
  }
}
