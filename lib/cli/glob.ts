// A small shell-style glob matcher for `backup --exclude`. Node 20 has
// path.matchesGlob, but it prints an ExperimentalWarning on every run, and
// no glob library is a dependency. Supported: `*` (any run of characters
// within one path segment), `**` (any number of whole segments, also none),
// `?` (one character other than `/`); everything else matches itself. A
// trailing `/` is dropped, so `cache/` leaves out a folder named cache.

function segmentPattern(glob: string): string {
  let out = ''
  for (const ch of glob) {
    if (ch === '*') out += '[^/]*'
    else if (ch === '?') out += '[^/]'
    else out += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return out
}

/** The glob as an anchored regular expression over a '/'-separated relative path. */
export function globToRegExp(glob: string): RegExp {
  const parts = glob
    .replace(/\/+$/, '')
    .split('/')
    .filter((p) => p !== '')
  let re = ''
  parts.forEach((part, i) => {
    const last = i === parts.length - 1
    if (part === '**') re += last ? '.*' : '(?:[^/]+/)*'
    else re += segmentPattern(part) + (last ? '' : '/')
  })
  return new RegExp(`^${re}$`)
}

/** Matches a relative path against globs: on the whole path, and on its last name alone. */
export class PathFilter {
  private readonly patterns: RegExp[]

  constructor(globs: string[]) {
    this.patterns = globs.map(globToRegExp)
  }

  matches(relPath: string): boolean {
    const base = relPath.slice(relPath.lastIndexOf('/') + 1)
    return this.patterns.some((re) => re.test(relPath) || re.test(base))
  }
}
