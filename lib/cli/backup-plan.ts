// What `peerstore backup` has to do, worked out before anything changes: the
// local tree compared with the store's copy of it. A regular file is
// unchanged (skipped) when the store holds a file of the same size and the
// same mtime to the nanosecond (backup stores the local mtime with each
// upload, so the next run finds it equal); a link when its target is the
// same. With `deleteExtra`, what the store holds under the target and the
// local tree no longer has is removed, deepest first. Excluded paths are
// neither uploaded nor deleted.

import fs from 'node:fs'
import path from 'node:path'
import { errorCode } from '../common/errors'
import type { TreeAccess, TreeEntry } from '../app/tree-access'
import type { PathFilter } from './glob'

export type BackupAction =
  /** `replace`: a file or link in the store is in the way and goes first. */
  | { kind: 'mkdir'; to: string; replace: boolean }
  | { kind: 'upload'; from: string; to: string; size: number; mode: number; isNew: boolean }
  | { kind: 'link'; to: string; target: string }
  | { kind: 'chmod'; to: string; mode: number }
  | { kind: 'delete'; to: string; isDir: boolean }

export interface BackupPlan {
  actions: BackupAction[]
  /** Files and links already in the store as they are here. */
  skipped: number
  excluded: number
}

export interface PlanOptions {
  exclude: PathFilter
  deleteExtra: boolean
}

/** The store's entry at `p`, or null when there is none. */
export async function entryOrNull(tree: TreeAccess, p: string): Promise<TreeEntry | null> {
  try {
    return await tree.entry(p)
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return null
    throw err
  }
}

export async function planBackup(
  tree: TreeAccess,
  src: string,
  dest: string,
  destExists: boolean,
  opts: PlanOptions
): Promise<BackupPlan> {
  const plan: BackupPlan = { actions: [], skipped: 0, excluded: 0 }
  await planDir(tree, opts, plan, src, dest, '', destExists)
  return plan
}

function join(dir: string, name: string): string {
  return `${dir === '/' ? '' : dir}/${name}`
}

async function planDir(
  tree: TreeAccess,
  opts: PlanOptions,
  plan: BackupPlan,
  localDir: string,
  storeDir: string,
  rel: string,
  inStore: boolean
): Promise<void> {
  const stored = new Map<string, TreeEntry>()
  if (inStore) for (const e of await tree.list(storeDir)) stored.set(e.name, e)
  for (const name of fs.readdirSync(localDir).sort()) {
    const relPath = rel ? `${rel}/${name}` : name
    const old = stored.get(name)
    stored.delete(name)
    if (opts.exclude.matches(relPath)) {
      plan.excluded++
      continue
    }
    const from = path.join(localDir, name)
    const to = join(storeDir, name)
    const s = fs.lstatSync(from, { bigint: true })
    if (s.isDirectory()) {
      const isDir = old?.type === 'dir'
      if (!isDir) plan.actions.push({ kind: 'mkdir', to, replace: old !== undefined })
      await planDir(tree, opts, plan, from, to, relPath, isDir)
      const mode = Number(s.mode)
      if (!isDir || (old.mode & 0o7777) !== (mode & 0o7777)) plan.actions.push({ kind: 'chmod', to, mode })
      continue
    }
    // A folder in the store where a file or link is now: its contents go first.
    const replacesDir = old?.type === 'dir' && (s.isSymbolicLink() || s.isFile())
    if (replacesDir) await planDelete(tree, plan, to, old)
    if (s.isSymbolicLink()) {
      const target = fs.readlinkSync(from)
      if (old?.type === 'symlink' && old.target === target) plan.skipped++
      else plan.actions.push({ kind: 'link', to, target })
    } else if (s.isFile()) {
      const size = Number(s.size)
      const same = old?.type === 'file' && old.size === size && old.mtimeNs === s.mtimeNs.toString()
      if (same) plan.skipped++
      else plan.actions.push({ kind: 'upload', from, to, size, mode: Number(s.mode), isNew: old === undefined })
    }
    // Fifos, sockets and devices are left out, as they always were.
  }
  if (!opts.deleteExtra) return
  for (const [name, entry] of stored) {
    if (opts.exclude.matches(rel ? `${rel}/${name}` : name)) continue
    await planDelete(tree, plan, join(storeDir, name), entry)
  }
}

async function planDelete(tree: TreeAccess, plan: BackupPlan, p: string, entry: TreeEntry): Promise<void> {
  if (entry.type === 'dir') {
    for (const child of await tree.list(p)) await planDelete(tree, plan, join(p, child.name), child)
  }
  plan.actions.push({ kind: 'delete', to: p, isDir: entry.type === 'dir' })
}
