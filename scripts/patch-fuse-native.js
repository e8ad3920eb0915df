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
//    2^64 − 1, which lib/fuse/ops/attributes.ts reads as "keep this time".

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const pkgDir = path.dirname(require.resolve('fuse-native/package.json'))
const source = path.join(pkgDir, 'fuse-native.c')
const built = path.join(pkgDir, 'build', 'Release', 'fuse.node')
// 3. create, mkdir, symlink and mknod do not say who calls them, so with
//    --allow-other every new file belonged to the mount's user. The binding
//    reads the caller's uid and gid (fuse_get_context, on the FUSE thread)
//    and passes them on; the JS side keeps them in `fuse.caller` for the
//    synchronous start of the op (lib/fuse/tuned-fuse.ts).

// Each [original, fixed] text; a source already fixed is left as it is.
const CALLER_C = '  l->uid = fuse_get_context()->uid;\n  l->gid = fuse_get_context()->gid;\n'
const CALLER_ARGV = (at) =>
  `  napi_create_uint32(env, l->uid, &(argv[${at}]));\n  napi_create_uint32(env, l->gid, &(argv[${at + 1}]));\n`
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
  ],
  [
    'FUSE_METHOD(create, 2, 1, (const char *path, mode_t mode, struct fuse_file_info *info), {\n' +
      '  l->path = path;\n  l->mode = mode;\n  l->info = info;\n}, {\n' +
      '  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));\n' +
      '  napi_create_uint32(env, l->mode, &(argv[3]));\n}',
    'FUSE_METHOD(create, 4, 1, (const char *path, mode_t mode, struct fuse_file_info *info), {\n' +
      `  l->path = path;\n  l->mode = mode;\n  l->info = info;\n${CALLER_C}}, {\n` +
      '  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));\n' +
      `  napi_create_uint32(env, l->mode, &(argv[3]));\n${CALLER_ARGV(4)}}`
  ],
  [
    'FUSE_METHOD_VOID(mkdir, 2, 0, (const char *path, mode_t mode), {\n  l->path = path;\n  l->mode = mode;\n}, {\n' +
      '  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));\n' +
      '  napi_create_uint32(env, l->mode, &(argv[3]));\n})',
    `FUSE_METHOD_VOID(mkdir, 4, 0, (const char *path, mode_t mode), {\n  l->path = path;\n  l->mode = mode;\n${CALLER_C}}, {\n` +
      '  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));\n' +
      `  napi_create_uint32(env, l->mode, &(argv[3]));\n${CALLER_ARGV(4)}})`
  ],
  [
    'FUSE_METHOD_VOID(symlink, 2, 0, (const char *path, const char *dest), {\n  l->path = path;\n  l->dest = dest;\n}, {\n' +
      '  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));\n' +
      '  napi_create_string_utf8(env, l->dest, NAPI_AUTO_LENGTH, &(argv[3]));\n})',
    `FUSE_METHOD_VOID(symlink, 4, 0, (const char *path, const char *dest), {\n  l->path = path;\n  l->dest = dest;\n${CALLER_C}}, {\n` +
      '  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));\n' +
      `  napi_create_string_utf8(env, l->dest, NAPI_AUTO_LENGTH, &(argv[3]));\n${CALLER_ARGV(4)}})`
  ],
  [
    'FUSE_METHOD_VOID(mknod, 3, 0, (const char *path, mode_t mode, dev_t dev), {\n' +
      '  l->path = path;\n  l->mode = mode;\n  l->dev = dev;\n}, {\n' +
      '  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));\n' +
      '  napi_create_uint32(env, l->mode, &(argv[3]));\n' +
      '  napi_create_uint32(env, l->dev, &(argv[4]));\n})',
    'FUSE_METHOD_VOID(mknod, 5, 0, (const char *path, mode_t mode, dev_t dev), {\n' +
      `  l->path = path;\n  l->mode = mode;\n  l->dev = dev;\n${CALLER_C}}, {\n` +
      '  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));\n' +
      '  napi_create_uint32(env, l->mode, &(argv[3]));\n' +
      `  napi_create_uint32(env, l->dev, &(argv[4]));\n${CALLER_ARGV(5)}})`
  ]
]

// The same for the binding's JS side (index.js).
const JS_PATCHES = [
  [
    '  _op_create (signal, path, mode) {\n    this.ops.create(',
    '  _op_create (signal, path, mode, uid, gid) {\n    this.caller = { uid, gid }\n    this.ops.create('
  ],
  [
    '  _op_mkdir (signal, path, mode) {\n    this.ops.mkdir(',
    '  _op_mkdir (signal, path, mode, uid, gid) {\n    this.caller = { uid, gid }\n    this.ops.mkdir('
  ],
  [
    '  _op_symlink (signal, src, dest) {\n    this.ops.symlink(',
    '  _op_symlink (signal, src, dest, uid, gid) {\n    this.caller = { uid, gid }\n    this.ops.symlink('
  ],
  [
    '  _op_mknod (signal, path, mode, dev) {\n    this.ops.mknod(',
    '  _op_mknod (signal, path, mode, dev, uid, gid) {\n    this.caller = { uid, gid }\n    this.ops.mknod('
  ]
]

const version = require('fuse-native/package.json').version
if (version !== '2.2.6') {
  console.error(
    `patch-fuse-native: fuse-native ${version} is not the pinned 2.2.6; check the utimens fix still applies`
  )
  process.exit(1)
}

/** Applies [from, to] replacements to `file`; a source already fixed is left as it is. */
function patchFile(file, patches) {
  let text = fs.readFileSync(file, 'utf8')
  const original = text
  for (const [from, to] of patches) {
    if (text.includes(to)) continue
    if (!text.includes(from)) {
      console.error(`patch-fuse-native: ${path.basename(file)} does not contain the text to fix:\n${from}`)
      process.exit(1)
    }
    text = text.replace(from, to)
  }
  // Through a rename: other processes load these files while this runs (node_modules may be shared).
  if (text !== original) {
    fs.writeFileSync(`${file}.patching`, text)
    fs.renameSync(`${file}.patching`, file)
  }
}

patchFile(source, PATCHES)
patchFile(path.join(pkgDir, 'index.js'), JS_PATCHES)
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
console.log('patch-fuse-native: building fuse-native with the utimens and caller fixes')
execFileSync(process.execPath, args, { cwd: pkgDir, stdio: 'inherit' })
