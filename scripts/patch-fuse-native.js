#!/usr/bin/env node
// Two fixes to fuse-native 2.2.6's C source, then a build of the binding from
// it (against the libfuse headers fuse-shared-library ships and Node's own
// headers; node-gyp-build loads build/Release before the prebuilt binary).
// Plain JS: it runs from `npm install`, before TypeScript.
//
// 1. utimens passes the atime in both arguments, so mtimes set by `touch -m`,
//    `rsync -a` or `tar x` never reach JS (platform notes §1.1).
// 2. libfuse 2.9's high-level setattr calls utimens only when both times are
//    set, unless the filesystem sets flag_utime_omit_ok; so an mtime-only
//    change (`touch -m`; `tar x`, which passes atime as UTIME_OMIT) was
//    dropped. With the flag, libfuse passes UTIME_OMIT and UTIME_NOW through:
//    the binding turns UTIME_NOW into the current time and UTIME_OMIT into
//    2^64 − 1, which lib/fuse/ops.ts reads as "keep this time".

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const pkgDir = path.dirname(require.resolve('fuse-native/package.json'))
const source = path.join(pkgDir, 'fuse-native.c')
const built = path.join(pkgDir, 'build', 'Release', 'fuse.node')
// Each [original, fixed] text; a source already fixed is left as it is.
const PATCHES = [
  ['FUSE_UINT64_TO_INTS_ARGV(l->atime, 5)', 'FUSE_UINT64_TO_INTS_ARGV(l->mtime, 5)'],
  [
    '  l->atime = timespec_to_uint64(&tv[0]);\n  l->mtime = timespec_to_uint64(&tv[1]);',
    '  l->atime = utimens_arg(&tv[0]);\n  l->mtime = utimens_arg(&tv[1]);'
  ],
  [
    'static void populate_stat (uint32_t *ints, struct stat* stat) {',
    [
      '// UTIME_OMIT becomes 2^64 - 1 (keep this time), UTIME_NOW the current time.',
      'static uint64_t utimens_arg (const struct timespec* ts) {',
      '  if (ts->tv_nsec == UTIME_OMIT) return UINT64_MAX;',
      '  if (ts->tv_nsec == UTIME_NOW) {',
      '    struct timespec now;',
      '    clock_gettime(CLOCK_REALTIME, &now);',
      '    return timespec_to_uint64(&now);',
      '  }',
      '  return timespec_to_uint64(ts);',
      '}',
      '',
      'static void populate_stat (uint32_t *ints, struct stat* stat) {'
    ].join('\n')
  ],
  [
    '  if (implemented[op_utimens]) ops.utimens = fuse_native_utimens;',
    '  if (implemented[op_utimens]) ops.utimens = fuse_native_utimens;\n  ops.flag_utime_omit_ok = 1;'
  ]
]

const version = require('fuse-native/package.json').version
if (version !== '2.2.6') {
  console.error(
    `patch-fuse-native: fuse-native ${version} is not the pinned 2.2.6; check the utimens fix still applies`
  )
  process.exit(1)
}

let text = fs.readFileSync(source, 'utf8')
const original = text
for (const [from, to] of PATCHES) {
  if (text.includes(to)) continue
  if (!text.includes(from)) {
    console.error(`patch-fuse-native: fuse-native.c does not contain the line to fix:\n${from}`)
    process.exit(1)
  }
  text = text.replace(from, to)
}
if (text !== original) fs.writeFileSync(source, text)
if (fs.existsSync(built) && fs.statSync(built).mtimeMs >= fs.statSync(source).mtimeMs) process.exit(0)

const nodeGyp = path.join(
  path.dirname(process.execPath),
  '..',
  'lib',
  'node_modules',
  'npm',
  'node_modules',
  'node-gyp',
  'bin',
  'node-gyp.js'
)
const args = [nodeGyp, 'rebuild']
// Build against the headers of the Node that runs us, never a download.
const headers = path.join(path.dirname(process.execPath), '..', 'include', 'node', 'node.h')
if (fs.existsSync(headers)) args.push(`--nodedir=${path.resolve(path.dirname(headers), '..', '..')}`)
console.log('patch-fuse-native: building fuse-native with the utimens fixes')
execFileSync(process.execPath, args, { cwd: pkgDir, stdio: 'inherit' })
