// Fails (exit 1) on an import in lib/ that the layer rules of
// docs/architecture.md forbid, naming the file and the import. The rules are
// per folder of lib/: which other folders its files may import. Imports of
// packages (no leading '.') are not checked. Run from the repository root
// (`npm run lint` does, after building this script).

import fs from 'node:fs'
import path from 'node:path'
import ts from 'typescript'

/** For each folder of lib/, the other folders of lib/ its files may import (docs/architecture.md, "Layer rules"). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  cli: ['app', 'fuse', 'volume', 'node', 'net', 'storage', 'chord', 'sim', 'crypto'],
  // The composition root: the ring through RingNode, never Chord's internals.
  app: ['volume', 'node', 'net', 'storage', 'crypto'],
  fuse: ['volume', 'crypto'],
  volume: ['crypto'],
  node: ['chord', 'net', 'storage', 'crypto'],
  chord: [],
  sim: ['chord'],
  net: ['crypto'],
  storage: ['crypto'],
  crypto: [],
  // Shared by every layer: one errors module, retry, semaphore, lifecycle.
  common: [],
  types: []
}

/** What every folder may import besides its own files and MAY_IMPORT's list. */
const BASE = ['common']

/**
 * Imports against the rules allowed for a while, each with why: for a move
 * done in steps. Empty when the code follows the rules; the check names an
 * entry that no longer matches anything, so none outlives its reason.
 */
const TEMPORARY_EXCEPTIONS: { file: string; folder: string; why: string }[] = []

interface Violation {
  file: string
  specifier: string
  folder: string
}

function tsFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => path.join(dir, name))
}

/** Every module a file imports or re-exports, static or dynamic (TypeScript's own scanner, so comments and strings are not mistaken for imports). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true)
  return info.importedFiles.map((f) => f.fileName)
}

/** The folder of lib/ a relative import lands in, or null for a package or a path outside lib/. */
function targetFolder(file: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null
  const parts = path.normalize(path.join(path.dirname(file), specifier)).split(path.sep)
  return parts[0] === 'lib' && parts.length >= 2 ? parts[1] : null
}

function check(): { violations: Violation[]; unknown: string[]; usedExceptions: Set<string> } {
  const violations: Violation[] = []
  const unknown = new Set<string>()
  const usedExceptions = new Set<string>()
  for (const abs of tsFiles('lib')) {
    const file = abs.split(path.sep).join('/')
    // A file directly in lib/ (a package entry point) sits above every layer.
    if (file.split('/').length === 2) continue
    const own = file.split('/')[1]
    const allowed = MAY_IMPORT[own]
    if (!allowed) {
      unknown.add(own)
      continue
    }
    for (const specifier of importsOf(file)) {
      const folder = targetFolder(file, specifier)
      if (folder === null || folder === own || BASE.includes(folder) || allowed.includes(folder)) continue
      const exception = TEMPORARY_EXCEPTIONS.find((e) => e.file === file && e.folder === folder)
      if (exception) {
        usedExceptions.add(`${exception.file} -> ${exception.folder}`)
        continue
      }
      violations.push({ file, specifier, folder })
    }
  }
  return { violations, unknown: [...unknown], usedExceptions }
}

const { violations, unknown, usedExceptions } = check()
for (const e of TEMPORARY_EXCEPTIONS) {
  if (!usedExceptions.has(`${e.file} -> ${e.folder}`)) {
    console.log(`check-layers: the exception for ${e.file} -> lib/${e.folder} matches nothing now: remove it`)
  }
}
for (const folder of unknown) {
  console.error(
    `check-layers: lib/${folder}/ is not in the layer rules (scripts/check-layers.ts, docs/architecture.md)`
  )
}
for (const v of violations) {
  const own = v.file.split('/')[1]
  console.error(`check-layers: ${v.file} imports '${v.specifier}': lib/${own} may not import lib/${v.folder}`)
}
if (violations.length > 0 || unknown.length > 0) process.exit(1)
console.log(`check-layers: imports follow the layer rules (${usedExceptions.size} temporary exception(s))`)
