// Settling a compare-and-swap conflict on a directory record: a three-way
// merge of entry sets (what we last stored, what we have now, what the store
// has now). Changes on either side are kept; where both sides bound one name
// to different inodes, theirs keeps the name and ours becomes a visible
// conflict copy, so nothing anyone wrote is silently dropped.

import type { DirEntry } from './inode'

export interface EntryMerge {
  entries: Map<string, DirEntry>
  /** Our entries that had to move to a new name: old name → new name. */
  renamed: Map<string, string>
}

const same = (a: DirEntry | undefined, b: DirEntry | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.id.equals(b.id))

export function conflictName(name: string, taken: (n: string) => boolean, when = new Date()): string {
  const stamp = when.toISOString().replace(/[:]/g, '-').replace(/\..*$/, '')
  const dot = name.lastIndexOf('.')
  const stem = dot > 0 ? name.slice(0, dot) : name
  const ext = dot > 0 ? name.slice(dot) : ''
  for (let n = 0; ; n++) {
    const candidate = `${stem} (conflict ${stamp}${n ? ` ${n}` : ''})${ext}`
    if (!taken(candidate)) return candidate
  }
}

export function mergeEntries(
  base: Map<string, DirEntry>,
  ours: Map<string, DirEntry>,
  theirs: Map<string, DirEntry>
): EntryMerge {
  const out = new Map<string, DirEntry>()
  const renamed = new Map<string, string>()
  const displaced: [string, DirEntry][] = []
  const names = new Set([...base.keys(), ...ours.keys(), ...theirs.keys()])
  for (const name of names) {
    const b = base.get(name)
    const o = ours.get(name)
    const t = theirs.get(name)
    if (same(o, b)) {
      if (t) out.set(name, t)
    } else if (same(t, b) || same(o, t)) {
      if (o) out.set(name, o)
    } else if (!o) {
      // We removed it, they changed it: keep their change.
      out.set(name, t!)
    } else if (!t) {
      // They removed it, we changed it: keep ours.
      out.set(name, o)
    } else {
      out.set(name, t)
      displaced.push([name, o])
    }
  }
  for (const [name, entry] of displaced) {
    const fresh = conflictName(name, (n) => out.has(n))
    out.set(fresh, entry)
    renamed.set(name, fresh)
  }
  return { entries: out, renamed }
}
