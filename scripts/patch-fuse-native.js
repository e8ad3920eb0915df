#!/usr/bin/env node
// fuse-native 2.2.6 passes the atime in both arguments of utimens, so mtimes
// set by `touch -m`, `rsync -a` or `tar x` never reach JS (platform notes
// §1.1). This install step fixes that one line of its C source and builds
// the binding from it, against the libfuse headers fuse-shared-library ships
// and Node's own headers. node-gyp-build then loads build/Release before the
// prebuilt binary. Plain JS: it runs from `npm install`, before TypeScript.

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const pkgDir = path.dirname(require.resolve('fuse-native/package.json'))
const source = path.join(pkgDir, 'fuse-native.c')
const built = path.join(pkgDir, 'build', 'Release', 'fuse.node')
const BUG = 'FUSE_UINT64_TO_INTS_ARGV(l->atime, 5)'
const FIX = 'FUSE_UINT64_TO_INTS_ARGV(l->mtime, 5)'

const version = require('fuse-native/package.json').version
if (version !== '2.2.6') {
  console.error(
    `patch-fuse-native: fuse-native ${version} is not the pinned 2.2.6; check the utimens fix still applies`
  )
  process.exit(1)
}

const text = fs.readFileSync(source, 'utf8')
if (text.includes(BUG)) fs.writeFileSync(source, text.replace(BUG, FIX))
else if (!text.includes(FIX)) {
  console.error('patch-fuse-native: the utimens line was not found in fuse-native.c')
  process.exit(1)
}
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
console.log('patch-fuse-native: building fuse-native with the utimens fix')
execFileSync(process.execPath, args, { cwd: pkgDir, stdio: 'inherit' })
