#!/usr/bin/env node
// Fixes to fuse-native 2.2.6's C source and index.js, then a build of the
// binding from it (against the libfuse headers fuse-shared-library ships and
// Node's own headers; node-gyp-build loads build/Release before the prebuilt
// binary). Plain JS: it runs from `npm install`, before TypeScript.
// `node scripts/patch-fuse-native.js [dir]` patches the copy of fuse-native in
// dir instead (to try a change on a copy first).
//
// 1. utimens passes the atime in both arguments, so mtimes set by `touch -m`,
//    `rsync -a` or `tar x` never reach JS (platform notes §1.1).
// 2. libfuse 2.9's high-level setattr calls utimens only when both times are
//    set, unless the filesystem sets flag_utime_omit_ok; so an mtime-only
//    change (`touch -m`; `tar x`, which passes atime as UTIME_OMIT) was
//    dropped. With the flag, libfuse passes UTIME_OMIT and UTIME_NOW through:
//    the binding turns UTIME_NOW into the current time and UTIME_OMIT into
//    2^64 − 1, which lib/fuse/ops/attributes.ts reads as "keep this time".
// 3. create, mkdir, symlink and mknod do not say who calls them, so with
//    --allow-other every new file belonged to the mount's user. The binding
//    reads the caller's uid and gid (fuse_get_context, on the FUSE thread)
//    and passes them on; the JS side keeps them in `fuse.caller` for the
//    synchronous start of the op (lib/fuse/tuned-fuse.ts).
// 4. Times went through milliseconds both ways: nanosecond times, see
//    scripts/fuse-native-nanos.js.
//
// Every step keeps the binding usable by a process starting meanwhile: files
// are replaced by rename, and the binding is built in a scratch folder and
// moved in (node-gyp rebuild in place deletes build/ for a while, and
// node-gyp-build would then load the unpatched prebuilt binary).

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const nanos = require('./fuse-native-nanos')

const pkgDir = path.resolve(process.argv[2] ?? path.dirname(require.resolve('fuse-native/package.json')))
const source = path.join(pkgDir, 'fuse-native.c')
const built = path.join(pkgDir, 'build', 'Release', 'fuse.node')

// Each [original, fixed] text; a source already fixed is left as it is. An
// original may be a list: earlier versions of this script's fix first, then
// the text as fuse-native ships it.
const CALLER_C = '  l->uid = fuse_get_context()->uid;\n  l->gid = fuse_get_context()->gid;\n'
const CALLER_ARGV = (at) =>
  `  napi_create_uint32(env, l->uid, &(argv[${at}]));\n  napi_create_uint32(env, l->gid, &(argv[${at + 1}]));\n`
const PATCHES = [
  nanos.UTIMENS_METHOD,
  nanos.UTIMENS_ARG,
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
  ...nanos.C_PATCHES,
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
  ...nanos.JS_PATCHES,
  [
    '  _op_mknod (signal, path, mode, dev) {\n    this.ops.mknod(',
    '  _op_mknod (signal, path, mode, dev, uid, gid) {\n    this.caller = { uid, gid }\n    this.ops.mknod('
  ]
]

const version = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version
if (version !== '2.2.6') {
  console.error(`patch-fuse-native: fuse-native ${version} is not the pinned 2.2.6; check the fixes still apply`)
  process.exit(1)
}

/** Writes `file` whole or not at all: a process loading the binding meanwhile reads the old or the new text. */
function replaceFile(file, write) {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}`)
  write(temp)
  fs.renameSync(temp, file)
}

/** Applies [from, to, {all}] replacements to `file`; a source already fixed is left as it is. */
function patchFile(file, patches) {
  let text = fs.readFileSync(file, 'utf8')
  const original = text
  for (const [froms, to, opts] of patches) {
    if (text.includes(to)) continue
    const from = [froms].flat().find((f) => text.includes(f))
    if (from === undefined) {
      console.error(`patch-fuse-native: ${path.basename(file)} does not contain the text to fix:\n${[froms].flat()[0]}`)
      process.exit(1)
    }
    text = opts?.all ? text.split(from).join(to) : text.replace(from, to)
  }
  if (text !== original) replaceFile(file, (temp) => fs.writeFileSync(temp, text))
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
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'fuse-native-build-'))
try {
  for (const f of ['binding.gyp', 'fuse-native.c', 'semaphore.h', 'package.json']) {
    fs.copyFileSync(path.join(pkgDir, f), path.join(scratch, f))
  }
  const args = [nodeGyp, 'rebuild']
  // Build against the headers of the Node that runs us, never a download.
  const headers = path.join(path.dirname(process.execPath), '..', 'include', 'node', 'node.h')
  if (fs.existsSync(headers)) args.push(`--nodedir=${path.resolve(path.dirname(headers), '..', '..')}`)
  // binding.gyp finds napi-macros and fuse-shared-library with require(), from the scratch folder.
  const modules = ['napi-macros', 'fuse-shared-library'].map((m) =>
    path.dirname(path.dirname(require.resolve(`${m}/package.json`, { paths: [pkgDir, __dirname] })))
  )
  const env = { ...process.env, NODE_PATH: [...modules, process.env.NODE_PATH].filter(Boolean).join(path.delimiter) }
  console.log('patch-fuse-native: building fuse-native with the utimens, caller and nanosecond fixes')
  execFileSync(process.execPath, args, { cwd: scratch, env, stdio: 'inherit' })
  const release = path.join(pkgDir, 'build', 'Release')
  fs.mkdirSync(release, { recursive: true })
  for (const f of fs.readdirSync(path.join(scratch, 'build', 'Release'))) {
    const from = path.join(scratch, 'build', 'Release', f)
    if (!fs.statSync(from).isFile() || (f !== 'fuse.node' && fs.existsSync(path.join(release, f)))) continue
    replaceFile(path.join(release, f), (temp) => fs.copyFileSync(from, temp))
  }
} finally {
  fs.rmSync(scratch, { recursive: true, force: true })
}
