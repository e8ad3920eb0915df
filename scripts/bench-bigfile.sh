#!/bin/bash
# bench-bigfile: one very large file through `peerstore mount` on the embedded
# one-node ring, to show that the mount's memory does not grow with the file.
#
#   bash scripts/bench-bigfile.sh [GiB (default 10)]     (after npm run build; as root for drop_caches)
#
# Writes GiB of random bytes with dd (conv=fsync), remounts, drops the page
# cache and reads the file back with sha256sum, sampling the mount process's
# /proc status every second. Prints MB/s both ways, the peak private memory
# (RssAnon) and the peak VmRSS, which also counts the store's memory-mapped
# LMDB pages (page cache the kernel can reclaim), each against the idle
# mount's RssAnon measured in the same run. Needs about 2.2 × GiB of free
# disk under the temp dir.
set -euo pipefail
GIB=${1:-10}
ROOT=$(mktemp -d /tmp/peerstore-bigfile-XXXXXX)
HOME_DIR=$ROOT/home
MNT=$ROOT/mnt
BIN="node $(dirname "$0")/../dist/bin/peerstore.js"
mkdir -p "$HOME_DIR" "$MNT"
MOUNT_PID=
cleanup() {
  [ -n "$MOUNT_PID" ] && kill "$MOUNT_PID" 2>/dev/null && wait "$MOUNT_PID" 2>/dev/null || true
  fusermount -uz "$MNT" 2>/dev/null || true
  rm -rf "$ROOT"
}
trap cleanup EXIT

start_mount() {
  $BIN mount "$MNT" --home "$HOME_DIR" >"$ROOT/mount.log" 2>&1 &
  MOUNT_PID=$!
  for _ in $(seq 1 120); do grep -q mounted "$ROOT/mount.log" && return 0; sleep 0.5; done
  echo "mount did not start:" >&2
  cat "$ROOT/mount.log" >&2
  exit 1
}
stop_mount() {
  $BIN unmount "$MNT" >/dev/null
  wait "$MOUNT_PID"
  MOUNT_PID=
}
field() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$MOUNT_PID/status"; }
# Samples the mount's peak RssAnon and VmRSS (kB) into $ROOT/$1 until it exits.
sample() {
  local out=$ROOT/$1 anon=0 rss=0 a r
  while kill -0 "$MOUNT_PID" 2>/dev/null; do
    a=$(field RssAnon || echo 0)
    r=$(field VmRSS || echo 0)
    [ "${a:-0}" -gt "$anon" ] && anon=$a
    [ "${r:-0}" -gt "$rss" ] && rss=$r
    echo "$anon $rss" >"$out"
    sleep 1
  done
}
now() { date +%s.%N; }
mb_per_s() { echo "scale=0; $GIB * 1073.741824 / ($2 - $1)" | bc; }

start_mount
sleep 2
IDLE_ANON=$(field RssAnon)
sample write.peak &
T0=$(now)
head -c $((GIB * 1073741824)) /dev/urandom | tee >(sha256sum | cut -d' ' -f1 >"$ROOT/src.sha") |
  dd of="$MNT/big" bs=1M conv=fsync iflag=fullblock status=none
T1=$(now)
stop_mount
sync
echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || echo "(page cache not dropped: not root)" >&2
start_mount
sample read.peak &
T2=$(now)
sha256sum "$MNT/big" | cut -d' ' -f1 >"$ROOT/dst.sha"
T3=$(now)
stop_mount
wait

read -r W_ANON W_RSS <"$ROOT/write.peak"
read -r R_ANON R_RSS <"$ROOT/read.peak"
ratio() { echo "scale=1; $1 / $IDLE_ANON" | bc; }
echo "bench-bigfile: one ${GIB} GiB file through the mount (embedded one-node ring), $(nproc) cores"
echo "  idle mount, private memory (RssAnon)   $((IDLE_ANON / 1024)) MB   (baseline)"
echo "  write (dd bs=1M conv=fsync)            $(mb_per_s "$T0" "$T1") MB/s   peak RssAnon $((W_ANON / 1024)) MB = $(ratio "$W_ANON")× idle   peak VmRSS $((W_RSS / 1024)) MB"
echo "  cold read (sha256sum after a remount)  $(mb_per_s "$T2" "$T3") MB/s   peak RssAnon $((R_ANON / 1024)) MB = $(ratio "$R_ANON")× idle   peak VmRSS $((R_RSS / 1024)) MB"
if cmp -s "$ROOT/src.sha" "$ROOT/dst.sha"; then echo "  sha256 of the read equals the written: yes"; else
  echo "  sha256 of the read equals the written: NO" >&2
  exit 1
fi
