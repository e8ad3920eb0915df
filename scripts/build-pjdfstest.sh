#!/usr/bin/env bash
# Builds the POSIX conformance suite pjdfstest from the pinned source in
# ../shared/tools/pjdfstest (commit 85a8aea, see PJDFSTEST.md there) into
# $PJDFSTEST_DIR (default: .cache/pjdfstest in the repo), where
# test/fuse/pjdfstest.test.js finds it. The source folder is read-only in CI,
# so it is copied first. configure's answers for glibc Linux are given as -D
# flags (the same HAVE_* its configure.ac finds there) so neither autoconf
# nor automake is needed.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
# The source: $PJDFSTEST_SRC, else shared/tools/pjdfstest beside the checkout
# or beside any folder above it (a clone may sit deeper than main does).
src="${PJDFSTEST_SRC:-}"
if [ -z "$src" ]; then
  dir="$here"
  while [ "$dir" != "/" ]; do
    dir="$(dirname "$dir")"
    if [ -f "$dir/shared/tools/pjdfstest/pjdfstest.c" ]; then
      src="$dir/shared/tools/pjdfstest"
      break
    fi
  done
  # Where this machine kind keeps the shared tools, for a clone made elsewhere (/tmp).
  [ -z "$src" ] && [ -f /work/shared/tools/pjdfstest/pjdfstest.c ] && src=/work/shared/tools/pjdfstest
fi
out="${PJDFSTEST_DIR:-$here/.cache/pjdfstest}"
if [ -z "$src" ] || [ ! -f "$src/pjdfstest.c" ]; then
  echo "build-pjdfstest: no pjdfstest source found (shared/tools/pjdfstest beside the checkout or above it; or set PJDFSTEST_SRC)" >&2
  exit 1
fi
if [ -x "$out/pjdfstest" ] && [ "$out/pjdfstest" -nt "$src/pjdfstest.c" ]; then
  echo "build-pjdfstest: $out/pjdfstest is up to date"
  exit 0
fi
rm -rf "$out"
mkdir -p "$out"
cp -r "$src/tests" "$src/pjdfstest.c" "$src/COPYING" "$out/"
chmod -R u+w "$out"
: > "$out/config.h"
flags=(-D_GNU_SOURCE -DHAVE_SYS_SYSMACROS_H
  -DHAVE_FACCESSAT -DHAVE_FCHMODAT -DHAVE_FCHOWNAT -DHAVE_FSTATAT -DHAVE_LINKAT
  -DHAVE_MKDIRAT -DHAVE_MKFIFOAT -DHAVE_MKNODAT -DHAVE_OPENAT -DHAVE_POSIX_FALLOCATE
  -DHAVE_READLINKAT -DHAVE_RENAMEAT -DHAVE_SYMLINKAT -DHAVE_UTIMENSAT
  -DHAVE_STRUCT_STAT_ST_ATIM -DHAVE_STRUCT_STAT_ST_CTIM -DHAVE_STRUCT_STAT_ST_MTIM)
cc -Wall -O2 "${flags[@]}" -I "$out" -o "$out/pjdfstest" "$out/pjdfstest.c"
echo "build-pjdfstest: built $out/pjdfstest"
