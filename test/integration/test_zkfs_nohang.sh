#!/usr/bin/env bash
# test_zkfs_nohang.sh — a zkfs mount never hangs (docs/filesystem.md
# section 9): with the server stopped (SIGSTOP) an operation fails with EIO
# within the request timeout; with the server gone it fails at once; the
# mount recovers by itself when the server returns; SIGTERM unmounts
# cleanly; after `kill -9` of zkfs, `fusermount3 -u` still works.
source "$(dirname "$0")/harness.sh"
ZKFS_CLUSTER=0   # this test stops and kills "the" server
source "$(dirname "$0")/zkfs_lib.sh"

zkfs_start_replicas
zkfs_mount a "${REPLICA_HOSTS[0]}" -o timeout=2000,session_timeout=20000; A=$MNT
t mkdir "$A/n"
t sh -c "echo cached > '$A/n/f'"

# elapsed_ms CMD... : runs CMD (bounded), prints its duration in ms and
# stores its stderr in $TEST_TMP/err.
elapsed_ms() {
  local s e
  s=$(date +%s%3N)
  t "$@" >/dev/null 2>"$TEST_TMP/err" || true
  e=$(date +%s%3N)
  echo $((e - s))
}

log "server stopped (SIGSTOP): EIO within the 2 s request timeout"
kill -STOP "$ZK_PID"
ms=$(elapsed_ms mkdir "$A/n/new1")
grep -q "Input/output error" "$TEST_TMP/err" || { cat "$TEST_TMP/err" >&2; fail "mkdir on a stopped server: not EIO"; }
[ "$ms" -lt 4500 ] || fail "mkdir took $ms ms with a stopped server (bound: 2000 ms + slack)"
ms=$(elapsed_ms stat "$A/n/uncached")
grep -q "Input/output error" "$TEST_TMP/err" || { cat "$TEST_TMP/err" >&2; fail "stat on a stopped server: not EIO"; }
[ "$ms" -lt 4500 ] || fail "stat took $ms ms with a stopped server"
log "cached data is still served: $(t cat "$A/n/f" 2>&1)"
kill -CONT "$ZK_PID"

log "server killed: EIO at once"
kill9_server
sleep 0.5
ms=$(elapsed_ms mkdir "$A/n/new2")
grep -q "Input/output error" "$TEST_TMP/err" || { cat "$TEST_TMP/err" >&2; fail "mkdir with no server: not EIO"; }
[ "$ms" -lt 3000 ] || fail "mkdir took $ms ms with no server"
log "  failed in $ms ms"

log "the mount recovers by itself when the server returns"
restart_server
ok=0
for i in $(seq 150); do
  if t mkdir "$A/n/after" 2>/dev/null; then ok=1; break; fi
  sleep 0.1
done
[ "$ok" = 1 ] || fail "the mount did not recover within 15 s"
expect_eq "data after recovery" "$(t cat "$A/n/f")" "cached"

log "SIGTERM unmounts cleanly"
pid=${_ZKFS_PIDS[$A]}
kill -TERM "$pid"
for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "zkfs still running 10 s after SIGTERM"
grep -q " $A fuse" /proc/mounts && fail "mount still there after SIGTERM"

log "fusermount3 -u of a live mount ends zkfs"
zkfs_mount c "${REPLICA_HOSTS[0]}"; Cm=$MNT
t ls "$Cm/n" >/dev/null
t fusermount3 -u "$Cm" || fail "fusermount3 -u of a live mount"
pid=${_ZKFS_PIDS[$Cm]}
for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "zkfs still running 10 s after fusermount3 -u"

log "daemon mode (no -f): mounts, serves, SIGTERM unmounts"
D=$TEST_TMP/daemon; mkdir -p "$D"
t "$ZKFS_BIN" --servers "${REPLICA_HOSTS[0]}" "$D" || fail "zkfs in daemon mode"
dpid=$(pgrep -n -f "zkfs --servers ${REPLICA_HOSTS[0]} $D" || true)
[ -n "$dpid" ] || fail "no zkfs daemon"
_ZKFS_PIDS[$D]=$dpid; _ZKFS_CONNS[$D]=$(_fuse_conn_of "$D")
expect_eq "daemon mount serves" "$(t cat "$D/n/f")" "cached"
kill -TERM "$dpid"
for i in $(seq 100); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$dpid" 2>/dev/null && fail "daemon still running 10 s after SIGTERM"
grep -q " $D fuse" /proc/mounts && fail "daemon mount still there after SIGTERM"

log "kill -9: fusermount3 -u still works"
zkfs_mount b "${REPLICA_HOSTS[0]}"; B=$MNT
t ls "$B/n" >/dev/null
kill -KILL "${_ZKFS_PIDS[$B]}"
wait "${_ZKFS_PIDS[$B]}" 2>/dev/null || true
out=$(t ls "$B" 2>&1 || true)
case "$out" in *"not connected"*) ;; *) fail "dead mount: expected ENOTCONN, got '$out'" ;; esac
t fusermount3 -u "$B" || fail "fusermount3 -u after kill -9"
grep -q " $B fuse" /proc/mounts && fail "mount still there after fusermount3 -u"

finish_server
log "ok"
