// The tree invariant: every live inode is listed in a folder reachable from
// the root, a folder exactly once and a file or symlink at most as many times
// as its link count (hard links, docs/hard-links.md), and no folder is inside
// itself. Concurrent
// namespace changes on two computers can break it where each change alone
// could not (docs/volume.md, "Concurrent operations on two computers"):
// moving /p into /q here while /q moves into /p there leaves both out of the
// root and inside each other; one file renamed to two names on two computers
// is listed twice.
//
// findProblems is pure: a breadth-first walk from the root over the folders
// given, names in one fixed order (of UTF-16 code units), so the same tree gives the same answer on
// every computer. The first listing the walk meets keeps an inode (the one
// nearest the root; ties go to the earlier name); every other listing of it
// is extra: a second parent, or the back edge of a cycle, which is never
// the nearer one. A file keeps the first listings up to its link count; one
// not loaded (its count unknown) keeps them all. Live inodes known but never met are orphans: a cycle cut
// off from the root, or a name lost in a merge.

import type { DirEntry, InodeType } from './inode'

/** What the walk needs of an inode; `entries` only for folders. */
export interface CheckNode {
  hex: string
  type: InodeType
  entries: Map<string, DirEntry> | null
  /** A file's or symlink's link count (absent: 1). */
  links?: number
}

export type TreeProblem =
  | {
      kind: 'extra-entry'
      /** The folder holding the extra listing, and its name there. */
      dir: string
      name: string
      id: string
      /** 'cycle': the folder is inside the one listed; 'double-parent': listed elsewhere nearer the root. */
      cause: 'cycle' | 'double-parent' | 'root'
      /** Where the kept listing is (folder hex / name). */
      keptIn: string
    }
  | { kind: 'orphan'; id: string; type: InodeType }
  | { kind: 'dangling'; dir: string; name: string; id: string; state: 'deleted' | 'missing' }

export interface WalkResult {
  problems: TreeProblem[]
  /** Folders listed but not given (not loaded): their subtrees were not looked at. */
  unknown: string[]
  /** Every inode met, with the folder and name of its kept listing. */
  reached: Map<string, { dir: string; name: string }>
}

/** A fixed order (UTF-16 code units), the same on every computer; no Buffer per comparison. */
const byBytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Walks from `root`. `get` gives the loaded inodes (undefined: not loaded);
 * `state` tells an entry's inode is known deleted or missing in the store
 * (only the CLI's full check knows that); `candidates` are live inodes that
 * must be reached (the rest become orphans, unless `unknown` is non-empty:
 * then they may be inside a folder not loaded, and are not judged).
 */
export function findProblems(
  root: string,
  get: (hex: string) => CheckNode | undefined,
  candidates: Iterable<string> = [],
  state: (hex: string) => 'deleted' | 'missing' | 'live' = () => 'live'
): WalkResult {
  // Order only decides which of two listings of one inode stays: a walk in the folders' own
  // order that meets no inode twice has the same answer, for no sorting (the usual case).
  const quick = walk(root, get, candidates, state, false)
  if (!quick.problems.some((p) => p.kind === 'extra-entry')) return quick
  return walk(root, get, candidates, state, true)
}

function walk(
  root: string,
  get: (hex: string) => CheckNode | undefined,
  candidates: Iterable<string>,
  state: (hex: string) => 'deleted' | 'missing' | 'live',
  sorted: boolean
): WalkResult {
  const problems: TreeProblem[] = []
  const unknown: string[] = []
  const reached = new Map<string, { dir: string; name: string }>()
  /** Listings met so far of each file with more than one. */
  const listings = new Map<string, number>()
  reached.set(root, { dir: '', name: '' })
  const queue = [root]
  for (let i = 0; i < queue.length; i++) {
    const dirHex = queue[i]
    const dir = get(dirHex)
    if (!dir?.entries) continue
    for (const name of sorted ? [...dir.entries.keys()].sort(byBytes) : dir.entries.keys()) {
      const id = dir.entries.get(name)!.id.toString('hex')
      const seen = reached.get(id)
      if (seen && id !== root && withinLinks(id, dir.entries.get(name)!.type, get, listings)) continue
      if (seen) {
        const cause = id === root ? 'root' : isAncestor(id, dirHex, reached) ? 'cycle' : 'double-parent'
        problems.push({ kind: 'extra-entry', dir: dirHex, name, id, cause, keptIn: `${seen.dir}/${seen.name}` })
        continue
      }
      const s = state(id)
      if (s !== 'live') {
        problems.push({ kind: 'dangling', dir: dirHex, name, id, state: s })
        continue
      }
      reached.set(id, { dir: dirHex, name })
      const node = get(id)
      if (!node) {
        if (dir.entries.get(name)!.type === 'dir') unknown.push(id)
        continue
      }
      if (node.type === 'dir') queue.push(id)
    }
  }
  if (unknown.length === 0) {
    for (const hex of [...candidates].filter((h) => !reached.has(h)).sort(byBytes)) {
      const node = get(hex)
      if (node) problems.push({ kind: 'orphan', id: hex, type: node.type })
    }
  }
  return { problems, unknown, reached }
}

/**
 * Another listing of a file that its link count allows (counted in
 * `listings`), or of one whose count is unknown (not loaded): not extra.
 * A folder's second listing never is.
 */
function withinLinks(
  id: string,
  entryType: InodeType,
  get: (hex: string) => CheckNode | undefined,
  listings: Map<string, number>
): boolean {
  const node = get(id)
  if (!node) return entryType !== 'dir'
  if (node.type === 'dir') return false
  const n = (listings.get(id) ?? 1) + 1
  if (n > (node.links ?? 1)) return false
  listings.set(id, n)
  return true
}

/** True when `maybe` is `dir` or above it along the kept listings. */
function isAncestor(maybe: string, dir: string, reached: Map<string, { dir: string }>): boolean {
  for (let x: string | undefined = dir, n = 0; x && n < 1_000_000; x = reached.get(x)?.dir, n++) {
    if (x === maybe) return true
  }
  return false
}

/**
 * Where orphans go back: an orphan whose last known folder is in the tree
 * goes back there (with it, every orphan inside it). One whose last folder
 * is unknown (none, or not loaded) and that no other orphan lists goes to
 * the root. One whose last folder is itself an orphan waits: it comes back
 * with that folder, or is judged again at the next check (a folder seen
 * between two versions may not list it yet). Of a cycle of folders where
 * each is listed by another and none has a folder to go back to, the lowest
 * id goes to the root. Two computers may place different members of one
 * cycle (each knows its own last folders): the listings then overlap, and
 * the next walk keeps one of each, the same on both.
 */
export function placeOrphans(
  orphans: string[],
  parentOf: (hex: string) => string | null,
  get: (hex: string) => CheckNode | undefined,
  reached: Map<string, unknown>,
  root: string
): Map<string, string> {
  const set = new Set(orphans)
  const listed = new Set<string>()
  for (const hex of orphans) {
    for (const e of get(hex)?.entries?.values() ?? []) {
      const child = e.id.toString('hex')
      if (set.has(child) && child !== hex) listed.add(child)
    }
  }
  const place = new Map<string, string>()
  const covered = new Set<string>()
  const cover = (hex: string) => {
    const stack = [hex]
    while (stack.length) {
      const x = stack.pop()!
      if (covered.has(x)) continue
      covered.add(x)
      for (const e of get(x)?.entries?.values() ?? []) {
        const c = e.id.toString('hex')
        if (set.has(c)) stack.push(c)
      }
    }
  }
  const sorted = [...orphans].sort(byBytes)
  for (const hex of sorted) {
    const p = parentOf(hex)
    if (covered.has(hex) || !p || !reached.has(p) || get(p)?.type !== 'dir') continue
    place.set(hex, p)
    cover(hex)
  }
  for (const hex of sorted) {
    const p = parentOf(hex)
    if (covered.has(hex) || listed.has(hex) || (p && set.has(p))) continue
    place.set(hex, root)
    cover(hex)
  }
  for (const hex of sorted) {
    if (covered.has(hex) || get(hex)?.type !== 'dir') continue
    place.set(hex, root)
    cover(hex)
  }
  return place
}

/** One tree problem across checks (the check after merges settles those that last). */
export function problemKey(p: TreeProblem): string {
  if (p.kind === 'orphan') return `orphan:${p.id}`
  return `${p.kind}:${p.dir}:${p.name}:${p.id}`
}

/** The line `peerstore check` prints for a problem; `names` gives an inode's path or name. */
export function describeProblem(p: TreeProblem, names: (hex: string) => string): string {
  if (p.kind === 'orphan') return `orphan ${p.type} '${names(p.id)}' (${p.id.slice(0, 12)}): in no folder`
  if (p.kind === 'dangling')
    return `entry '${p.name}' in '${names(p.dir)}' names an inode that is ${p.state === 'deleted' ? 'deleted' : 'not found in the store'}`
  if (p.cause === 'cycle') return `cycle: '${names(p.dir)}' lists its own ancestor '${p.name}'`
  return `${p.cause === 'root' ? 'the root' : `'${names(p.id)}'`} listed again as '${p.name}' in '${names(p.dir)}'`
}
