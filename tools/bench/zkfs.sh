#!/usr/bin/env bash
# tools/bench/zkfs.sh OUTDIR — zkfs speed figures against tmpfs.
#
# Starts its own three-replica zkserver ensemble and one zkfs mount per
# replica (with the integration tests' helpers, so every process is killed
# and every mount undone at the end), then measures:
#   read      open+read+close of an unchanged 8-byte file (us per op; the
#             median of 5 rounds interleaved with tmpfs's)
#   ls_cold   ls -lR of DIRS x FILES znodes on a fresh mount (s)
#   ls_warm   the same again (s)
#   grep_cold grep -r over them on a fresh mount (s)
#   grep_warm the same again (s)
#   floor     grep -r cold/warm of the same tree on bin/fusefloor (the
#             fastest libfuse filesystem: what FUSE itself costs here; n/a
#             when bin/fusefloor is not built)
#   inotify   setData through replica 1 -> IN_MODIFY on replica 3's mount,
#             RATE changes/s for SECONDS (p50/p99/max ms), and the part
#             of it that is the setData's own round trip (its commit)
# and the same tree operations on tmpfs (/dev/shm).  Prints a table and
# writes it to OUTDIR/zkfs.txt.  Numbers are measured, never asserted.
#
# Environment: ZKFS_BIN (default bin/zkfs), DIRS (100), FILES (100),
# READS (20000), RATE (100), INOTIFY_SECONDS (10), ZKFS_BENCH_OPTS (extra
# zkfs -o options), FUSEFLOOR (default bin/fusefloor).
set -euo pipefail
OUTDIR=${1:?usage: tools/bench/zkfs.sh OUTDIR}
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DIRS=${DIRS:-100}; FILES=${FILES:-100}; READS=${READS:-20000}
RATE=${RATE:-100}; SECONDS_RUN=${INOTIFY_SECONDS:-10}
export T_TIMEOUT=120
# shellcheck source=../../test/integration/harness.sh
source "$REPO/test/integration/harness.sh"
# shellcheck source=../../test/integration/zkfs_lib.sh
source "$REPO/test/integration/zkfs_lib.sh"
BENCH="$HERE/zkfs_bench.py"
FUSEFLOOR=${FUSEFLOOR:-$REPO/bin/fusefloor}
bench() { /usr/bin/python3 "$BENCH" "$@"; }
val() { awk '{print $2}'; }

LOCAL=$(mktemp -d /dev/shm/zkfs-bench.XXXXXX)
_bench_cleanup_local() { rm -rf "$LOCAL"; }
trap '_bench_cleanup_local; _zkfs_cleanup' EXIT

zkfs_start_replicas
OPTS=(-o "timeout=10000${ZKFS_BENCH_OPTS:+,$ZKFS_BENCH_OPTS}")
zkfs_mount r1 "${REPLICA_HOSTS[0]}" "${OPTS[@]}"; M1=$MNT
zkfs_mount r3 "${REPLICA_HOSTS[2]}" "${OPTS[@]}"; M3=$MNT
log "zkfs: $ZKFS_BIN; tree ${DIRS}x${FILES}"

# 1. small unchanged file
printf 'x=12345\n' > "$M1/small"; printf 'x=12345\n' > "$LOCAL/small"
# Interleaved rounds, median of each: the machine's load changes under us.
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
zk_runs=(); tmp_runs=()
for round in 1 2 3 4 5; do
  zk_runs+=("$(bench read "$M1/small" $((READS / 5)) | val)")
  tmp_runs+=("$(bench read "$LOCAL/small" $((READS / 5)) | val)")
done
read_zk=$(printf '%s\n' "${zk_runs[@]}" | median)
read_tmp=$(printf '%s\n' "${tmp_runs[@]}" | median)

# 2-3. the tree: created through kazoo, listed and grepped on fresh mounts
bench tree "${REPLICA_HOSTS[0]}" /tree "$DIRS" "$FILES" >/dev/null
mkdir -p "$LOCAL/tree"; bench localtree "$LOCAL/tree" "$DIRS" "$FILES" >/dev/null
zkfs_mount cold1 "${REPLICA_HOSTS[1]}" "${OPTS[@]}"
ls_cold=$(bench run 120 ls -lR "$MNT/tree" | val)
ls_warm=$(bench run 120 ls -lR "$MNT/tree" | val)
zkfs_unmount cold1
zkfs_mount cold2 "${REPLICA_HOSTS[1]}" "${OPTS[@]}"
grep_cold=$(bench run 120 grep -r needle "$MNT/tree" | val)
grep_warm=$(bench run 120 grep -r needle "$MNT/tree" | val)
zkfs_unmount cold2
ls_tmp=$(bench run 120 ls -lR "$LOCAL/tree" | val)
ls_tmp=$(bench run 120 ls -lR "$LOCAL/tree" | val)
grep_tmp=$(bench run 120 grep -r needle "$LOCAL/tree" | val)

# 3b. the FUSE floor: the same tree from bin/fusefloor (an in-memory
# read-only libfuse filesystem that answers every request at once, with
# the same caching and worker loop as zkfs), grepped cold then warm.
floor_cold=n/a; floor_warm=n/a
if [ -x "$FUSEFLOOR" ]; then
  FLOOR="$TEST_TMP/floor"; mkdir -p "$FLOOR"
  "$FUSEFLOOR" "$FLOOR" "$DIRS" "$FILES" >>"$TEST_TMP/floor.log" 2>&1 &
  _ZKFS_PIDS[$FLOOR]=$!          # stopped and unmounted like a zkfs mount
  for i in $(seq 100); do grep -q " $FLOOR fuse" /proc/mounts && break; sleep 0.1; done
  if grep -q " $FLOOR fuse" /proc/mounts; then
    _ZKFS_CONNS[$FLOOR]=$(_fuse_conn_of "$FLOOR")
    floor_cold=$(bench run 120 grep -r needle "$FLOOR" | val)
    floor_warm=$(bench run 120 grep -r needle "$FLOOR" | val)
  fi
  _zkfs_unmount_dir "$FLOOR"
fi

# 4. cross-replica inotify
mkdir -p "$M1/watched"
for i in $(seq 50); do [ -d "$M3/watched" ] && break; sleep 0.1; done
ino=$(bench inotify "${REPLICA_HOSTS[0]}" /watched/key "$M3/watched" "$RATE" "$SECONDS_RUN" \
      2>"$OUTDIR/setdata.txt")
setdata=$(grep '^setdata ' "$OUTDIR/setdata.txt" || echo "setdata n/a")
beyond=$(grep '^beyond ' "$OUTDIR/setdata.txt" || echo "beyond n/a")

{
  echo "zkfs benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "zkfs binary: $ZKFS_BIN; tree ${DIRS} dirs x ${FILES} files; 3-replica zkserver ensemble"
  printf '%-36s %14s %14s\n' "measure" "zkfs" "tmpfs"
  printf '%-36s %14s %14s\n' "open+read+close 8-byte file (us)" "$read_zk" "$read_tmp"
  printf '%-36s %14s %14s\n' "ls -lR cold (s)" "$ls_cold" "$ls_tmp"
  printf '%-36s %14s %14s\n' "ls -lR warm (s)" "$ls_warm" "$ls_tmp"
  printf '%-36s %14s %14s\n' "grep -r cold (s)" "$grep_cold" "$grep_tmp"
  printf '%-36s %14s %14s\n' "grep -r warm (s)" "$grep_warm" "$grep_tmp"
  printf '%-36s %14s %14s\n' "grep -r on the FUSE floor cold/warm" "$floor_cold" "$floor_warm"
  printf '%-36s %29s\n' "cross-replica inotify (${RATE}/s)" "${ino#inotify }"
  printf '%-36s %29s\n' "  of which the setData itself" "${setdata#setdata }"
  printf '%-36s %29s\n' "  IN_MODIFY after the setData reply" "${beyond#beyond }"
} | tee "$OUTDIR/zkfs.txt"
zkfs_unmount r1; zkfs_unmount r3
zkfs_finish_servers
