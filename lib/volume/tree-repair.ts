// Keeps the tree invariant (tree-check.ts) on a live mount: a check soon
// after another device's folder was taken in or merged, a slow sweep behind
// it, and `peerstore check`. A problem found after a merge is settled only
// once it lasts, since another device's rename is briefly listed in both
// folders.

import type { VolumeContext } from './context'
import { type DirEntry, linkCount, setLinkCount } from './inode'
import type { Inode } from './loaded-inode'
import { conflictName } from './merge'
import { runLimited } from '../common/semaphore'
import {
  type CheckNode,
  describeProblem,
  findProblems,
  placeOrphans,
  problemKey,
  type TreeProblem,
  type WalkResult
} from './tree-check'
import { DEFAULT_TREE_SETTLE_MS } from './volume-options'

/** The check after a merge waits this long for more merges to come in. */
const TREE_CHECK_DELAY_MS = 500
/** The sweep behind it (Volume.ready). */
const TREE_SWEEP_MS = 30_000

/** What `peerstore check` prints. */
export interface TreeReport {
  /** Inodes reached from the root. */
  inodes: number
  problems: string[]
  repaired: string[]
  /** What is still wrong after the repairs (peerstore check). */
  remaining?: string[]
}

type CheckOptions = { repair?: boolean; settledOnly?: boolean; full?: boolean }
type InodeStates = Map<string, 'deleted' | 'missing'>

export class TreeRepair {
  private timer: NodeJS.Timeout | null = null
  /** Folders came in from other devices since the last sweep without starting a check (see start()). */
  private stale = false
  private sweep: NodeJS.Timeout | null = null
  /** A check in progress (close() waits for it). */
  running: Promise<void> | null = null
  /** Tree problems seen, by key, with when each was first seen (checkTree). */
  private readonly suspects = new Map<string, number>()
  private readonly settleMs: number

  constructor(
    private readonly ctx: VolumeContext,
    settleMs?: number
  ) {
    this.settleMs = settleMs ?? DEFAULT_TREE_SETTLE_MS
  }

  /**
   * A slow sweep behind the check after merges: any folder taken in since the last one
   * (even one that looked harmless) gets the tree checked, at most once per period.
   */
  start(): void {
    if (this.sweep) return
    this.sweep = setInterval(() => {
      if (!this.stale) return
      this.stale = false
      this.schedule(0)
    }, TREE_SWEEP_MS)
    this.sweep.unref()
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    if (this.sweep) clearInterval(this.sweep)
    this.timer = null
    this.sweep = null
  }

  /** A folder's entries changed from `before` to `after` by another device: checked soon, or by the sweep. */
  noteFolderChange(before: Map<string, DirEntry>, after: Map<string, DirEntry>): void {
    if (this.touchesLoaded(before, after)) this.schedule()
    else this.stale = true
  }

  /**
   * True when a folder's entries change by an inode this mount has loaded
   * (listed anew, or no longer listed): only such a change can make a
   * problem the check can see (a second listing, an orphan, a cycle). New
   * files from another device, the usual change, cost no check.
   */
  private touchesLoaded(before: Map<string, DirEntry>, after: Map<string, DirEntry>): boolean {
    const loaded = (e: DirEntry) => {
      const x = this.ctx.table.get(e.id.toString('hex'))
      return x !== undefined && !x.deleted
    }
    for (const [name, e] of after) if (!before.get(name)?.id.equals(e.id) && loaded(e)) return true
    for (const [name, e] of before) if (!after.get(name)?.id.equals(e.id) && loaded(e)) return true
    return false
  }

  /** A check soon after another device's folder was taken in or merged (debounced). */
  schedule(delayMs = TREE_CHECK_DELAY_MS): void {
    if (this.ctx.closed || this.timer || this.settleMs === 0) return
    this.timer = setTimeout(() => {
      this.timer = null
      if (this.ctx.closed) return
      this.checkTree({ repair: true, settledOnly: true }).catch((err) => this.ctx.onError(err))
    }, delayMs)
    this.timer.unref()
  }

  /**
   * Finds listings that break the tree invariant (a second parent, a cycle,
   * an orphan) and, with `repair`, settles them. `settledOnly` (the check
   * after merges): a problem is settled only once it was seen again at least
   * settleMs after it was first seen, after re-reading the records
   * involved, since another device's rename is briefly listed in both
   * folders. `full` (peerstore check): loads the whole tree first, and also
   * reports entries whose inode is deleted (removed on repair) or missing
   * in the store (only reported: the ring may not be answering).
   */
  async checkTree(opts: CheckOptions = {}): Promise<TreeReport> {
    if (this.running) return this.running.then(() => this.checkTree(opts))
    const run = this.checkOnce(opts)
    this.running = run.then(
      () => {},
      () => {}
    )
    try {
      return await run
    } finally {
      this.running = null
    }
  }

  /**
   * `peerstore check`: the whole tree; with `repair`, passes until nothing
   * more is repaired (a cycle takes two: its orphan goes back, then the
   * listing that closes the cycle goes).
   */
  async checkAll(repair: boolean): Promise<TreeReport> {
    const first = await this.checkTree({ repair, full: true })
    if (!repair) return { ...first, remaining: first.problems }
    const repaired = [...first.repaired]
    let last = first
    for (let i = 0; i < 4 && last.repaired.length > 0; i++) {
      last = await this.checkTree({ repair: true, full: true })
      repaired.push(...last.repaired)
    }
    const after = last.repaired.length > 0 ? await this.checkTree({ full: true }) : last
    return { inodes: after.inodes, problems: first.problems, repaired, remaining: after.problems }
  }

  private async checkOnce(opts: CheckOptions): Promise<TreeReport> {
    const { ctx } = this
    const states: InodeStates = new Map()
    if (opts.full) await this.loadWholeTree(states)
    const state = (h: string) => states.get(h) ?? 'live'
    // First from memory alone: the usual answer, no problem, costs no read.
    const candidates = this.orphanCandidates()
    const first = findProblems(ctx.root.hex, this.checkNode, candidates, state)
    const unreached = candidates.filter((h) => !first.reached.has(h))
    if (first.problems.length === 0 && unreached.length === 0) {
      this.suspects.clear()
      return this.report([], [], first.reached.size)
    }
    // Re-read what is involved: a problem may only be a view older than the store (an inode
    // deleted elsewhere whose folder came in before its tombstone is not an orphan).
    const involved = new Set<Inode>()
    for (const hex of [
      ...unreached,
      ...first.problems.flatMap((p) => (p.kind === 'orphan' ? [p.id] : [p.dir, p.id]))
    ]) {
      const inode = ctx.table.get(hex)
      if (inode) involved.add(inode)
      if (inode?.parent) involved.add(inode.parent)
    }
    await runLimited([...involved], 8, async (inode) => {
      await ctx.remoteApply.takeRemote(inode).catch(() => false)
    })
    await this.walkTree(states)
    return ctx.ns.run(() => {
      // Nothing awaits from here: the walk and the repairs see one state.
      const final = findProblems(ctx.root.hex, this.checkNode, this.orphanCandidates(), (h) => states.get(h) ?? 'live')
      const now = Date.now()
      const seen = new Set<string>()
      const act: TreeProblem[] = []
      for (const p of final.problems) {
        if (p.kind === 'dangling' && p.state === 'missing') continue
        if (p.kind === 'extra-entry' && p.name.startsWith('.fuse_hidden')) continue
        const key = problemKey(p)
        seen.add(key)
        const first = this.suspects.get(key) ?? now
        this.suspects.set(key, first)
        if (!opts.repair) continue
        if (opts.settledOnly && now - first < this.settleMs) continue
        act.push(p)
      }
      for (const key of this.suspects.keys()) if (!seen.has(key)) this.suspects.delete(key)
      const fixed = this.settle(act, final.reached)
      for (const p of act) this.suspects.delete(problemKey(p))
      if (opts.settledOnly && this.suspects.size > 0) this.schedule(this.settleMs)
      if (fixed.length > 0) ctx.notice(`tree check: settled ${fixed.join('; ')}`)
      return this.report(final.problems, fixed, final.reached.size)
    })
  }

  private readonly checkNode = (hex: string): CheckNode | undefined => {
    const inode = this.ctx.table.get(hex)
    if (!inode || inode.deleted || inode.remoteDeleted) return undefined
    return { hex, type: inode.type, entries: inode.state.entries ?? null, links: linkCount(inode.state) }
  }

  /** Live inodes this mount knows that are stored (a new one is listed by its own folder already). */
  private orphanCandidates(): string[] {
    const out: string[] = []
    for (const inode of this.ctx.table.inodes.values()) {
      if (inode === this.ctx.root || inode.deleted || inode.remoteDeleted || inode.version === 0) continue
      out.push(inode.hex)
    }
    return out
  }

  /**
   * A walk over the loaded folders; when some inode was not reached and
   * folders were not loaded, those are loaded and the walk runs again (so an
   * inode moved elsewhere by another device is found, not taken for an orphan).
   */
  private async walkTree(states: InodeStates): Promise<WalkResult> {
    const { table } = this.ctx
    const state = (h: string) => states.get(h) ?? 'live'
    for (let round = 0; ; round++) {
      const candidates = this.orphanCandidates()
      const walk = findProblems(this.ctx.root.hex, this.checkNode, candidates, state)
      if (walk.unknown.length === 0 || round > 64) return walk
      if (candidates.every((h) => walk.reached.has(h))) return walk
      let settled = 0
      await runLimited(walk.unknown, 8, async (hex) => {
        const id = Buffer.from(hex, 'hex')
        if (await table.getInode(id).catch(() => null)) settled++
        else if ((await table.fetchRecord(id).catch(() => null))?.deleted) {
          // A folder entry naming a tombstone holds nothing: it does not keep orphans from being judged
          // (a record not found, or a store not answering, does: what is inside is unknown).
          states.set(hex, 'deleted')
          settled++
        }
      })
      if (settled === 0) return walk
    }
  }

  /** Loads every inode listed under the root; records deleted or not found go to `states`. */
  private async loadWholeTree(states: InodeStates): Promise<void> {
    const { table, root, remoteApply } = this.ctx
    const seen = new Set<string>([root.hex])
    let level: Inode[] = [root]
    while (level.length > 0) {
      const next: Inode[] = []
      const ids: { id: Buffer; dir: Inode; name: string }[] = []
      for (const dir of level) {
        for (const [name, e] of dir.state.entries ?? []) {
          const hex = e.id.toString('hex')
          if (seen.has(hex)) continue
          seen.add(hex)
          ids.push({ id: e.id, dir, name })
        }
      }
      await runLimited(ids, 8, async ({ id, dir, name }) => {
        const hex = id.toString('hex')
        const known = table.get(hex)
        // What this mount holds may be older than the store: re-read it (a busy one keeps its state).
        if (known) await remoteApply.takeRemote(known).catch(() => false)
        const inode = table.get(hex) ?? (await table.getInode(id).catch(() => null))
        if (!inode) {
          const rec = await table.fetchRecord(id).catch(() => null)
          states.set(hex, rec?.deleted ? 'deleted' : 'missing')
          return
        }
        // Where the walk met it first: the names the report uses.
        inode.parent = dir
        inode.name = name
        if (inode.type === 'dir') next.push(inode)
      })
      level = next
    }
  }

  /** Repairs, synchronously (under the namespace lock); returns one line per repair. */
  private settle(problems: TreeProblem[], reached: Map<string, unknown>): string[] {
    const { table, root } = this.ctx
    const done: string[] = []
    const orphans: string[] = []
    for (const p of problems) {
      if (p.kind === 'orphan') {
        orphans.push(p.id)
        continue
      }
      const dir = table.get(p.dir)
      if (!dir?.state.entries?.get(p.name)?.id.equals(Buffer.from(p.id, 'hex'))) continue
      // A file with changes here may have a link count older than the store's (a link made elsewhere).
      const listed = table.get(p.id)
      if (listed && listed.type !== 'dir' && table.busy(listed)) continue
      dir.entries.delete(p.name)
      this.ctx.journal.append([{ o: 'e', d: dir.hex, n: p.name, c: null }])
      table.touch(dir)
      done.push(
        `${p.kind === 'dangling' ? 'removed the entry of a deleted inode' : `removed a ${p.cause} listing`} '${p.name}'`
      )
    }
    if (orphans.length > 0) {
      const place = placeOrphans(orphans, (h) => table.get(h)?.parent?.hex ?? null, this.checkNode, reached, root.hex)
      for (const [hex, dirHex] of place) {
        const inode = table.get(hex)
        const dir = table.get(dirHex) ?? root
        if (!inode || dir.type !== 'dir') continue
        const wanted = inode.name || 'recovered'
        const name = dir.entries.has(wanted) ? conflictName(wanted, (n) => dir.entries.has(n)) : wanted
        table.link(dir, name, inode)
        table.touch(dir)
        // Listed nowhere else: its link count (too high after two devices' merged counts) is this one name.
        if (inode.type !== 'dir' && linkCount(inode.state) !== 1) {
          setLinkCount(inode.state, 1)
          table.touch(inode)
        }
        done.push(`put the orphan '${wanted}' back as '${name}'`)
      }
    }
    return done
  }

  private report(problems: TreeProblem[], fixed: string[], reached: number): TreeReport {
    const names = (hex: string) => {
      const inode = this.ctx.table.get(hex)
      return (inode && this.ctx.namespace.pathOf(inode)) ?? (inode?.name || hex.slice(0, 12))
    }
    return { inodes: reached, problems: problems.map((p) => describeProblem(p, names)), repaired: fixed }
  }
}
