#!/usr/bin/env bash
# Installs everything PeerStore needs on a fresh Debian machine: FUSE 2
# (system packages, only where missing) and the npm dependencies, then builds.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v fusermount >/dev/null 2>&1 || need_apt+=(fuse)
ldconfig -p 2>/dev/null | grep -q 'libfuse\.so\.2' || need_apt+=(libfuse2)
# The mount tests run rsync -a inside a mount.
command -v rsync >/dev/null 2>&1 || need_apt+=(rsync)
# The POSIX conformance test builds pjdfstest (scripts/build-pjdfstest.sh),
# whose scripts name their files through `openssl md5`.
command -v cc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
# The NAT tests build homes behind consumer NATs from network namespaces.
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
command -v iptables >/dev/null 2>&1 || need_apt+=(iptables)
command -v conntrack >/dev/null 2>&1 || need_apt+=(conntrack)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=''
  [ "$(id -u)" -eq 0 ] || SUDO='sudo'
  $SUDO apt-get update
  $SUDO apt-get install -y "${need_apt[@]}"
fi

if [ -f package-lock.json ]; then npm ci; else npm install; fi
npm run build
