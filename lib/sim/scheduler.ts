// Virtual time for the simulator: a priority queue of events and the Timers
// interface lib/chord runs on. Time is whole milliseconds, so that the many
// events of a large run share ticks; after each tick the loop yields once to
// the event loop, which lets every promise continuation of that tick run
// before virtual time moves on.

import type { TimerHandle, Timers } from '../chord/transport'

interface SimEvent {
  time: number
  seq: number
  fn: () => void
  cancelled: boolean
}

export class Scheduler implements Timers {
  private heap: SimEvent[] = []
  private seq = 0
  private time = 0
  /** Events run so far. */
  events = 0
  /** Called after every tick, once its promise continuations have run (tests check invariants here). */
  afterTick: (() => void) | null = null

  now(): number {
    return this.time
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.at(this.time + Math.max(0, Math.round(ms)), fn)
  }

  clearTimeout(handle: TimerHandle): void {
    ;(handle as SimEvent).cancelled = true
  }

  /** Runs fn at absolute virtual time t (not before now). */
  at(t: number, fn: () => void): SimEvent {
    const ev: SimEvent = { time: Math.max(this.time, Math.round(t)), seq: this.seq++, fn, cancelled: false }
    this.push(ev)
    return ev
  }

  get pending(): number {
    return this.heap.length
  }

  /** Runs every event up to virtual time t, then sets the clock to t. */
  async runUntil(t: number): Promise<void> {
    while (this.heap.length > 0 && this.heap[0].time <= t) {
      const tick = this.heap[0].time
      this.time = tick
      while (this.heap.length > 0 && this.heap[0].time === tick) {
        const ev = this.pop()
        if (ev.cancelled) continue
        this.events++
        ev.fn()
      }
      await yieldToEventLoop()
      if (this.afterTick) this.afterTick()
    }
    if (t > this.time) this.time = t
  }

  async runFor(ms: number): Promise<void> {
    await this.runUntil(this.time + ms)
  }

  private push(ev: SimEvent): void {
    const h = this.heap
    h.push(ev)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (before(h[p], ev)) break
      h[i] = h[p]
      i = p
    }
    h[i] = ev
  }

  private pop(): SimEvent {
    const h = this.heap
    const top = h[0]
    const last = h.pop()!
    if (h.length > 0) {
      let i = 0
      const n = h.length
      for (;;) {
        const l = 2 * i + 1
        if (l >= n) break
        const r = l + 1
        const c = r < n && before(h[r], h[l]) ? r : l
        if (before(last, h[c])) break
        h[i] = h[c]
        i = c
      }
      h[i] = last
    }
    return top
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq)
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
