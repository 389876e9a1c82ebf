#!/usr/bin/env bash
# test_zkfs_sessloss.sh — a zkfs mount loses its session (docs/filesystem.md
# section 9, "Session loss"): zkfs is frozen with SIGSTOP past its 4 s
# session timeout on a three-replica ensemble.
#   1. The servers expire the frozen client's session: its ephemeral file
#      and its flock's lock node vanish (seen through kazoo, with a watch,
#      never through the frozen mount); so does the ephemeral of a plain
#      kazoo client frozen with it (connected to the leader), which is told
#      its session expired once thawed.
#   2. Meanwhile another client creates, modifies and deletes znodes, some
#      before the expiry (their events wait in zkfs's socket), most after.
#   3. Thawed, zkfs notices the expiry (logged), starts a new session and
#      raises inotify events for exactly what changed (IN_CREATE, IN_MODIFY,
#      IN_DELETE, none for the unchanged file); the mount shows the server's
#      state.
#   4. The descriptors of the lost ephemeral and of the lost lock fail with
#      EIO; a new descriptor locks again; the mount works.
# A process holding a descriptor on a frozen FUSE mount hangs in the kernel
# when it closes it, so only the holder helper has descriptors on the mount
# while zkfs is frozen, and the cleanup thaws zkfs first.
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/zkfs_lib.sh"

SL() { "$PY" "$HARNESS_DIR/zkfs_sessloss.py" "$@"; }

zkfs_start_replicas
zkfs_mount a "${REPLICA_HOSTS[0]}" -o session_timeout=4000,timeout=3000; A=$MNT
ZPID=${_ZKFS_PIDS[$A]}
# Thaw zkfs before anything else in the cleanup (a frozen zkfs would hang
# every process with a descriptor on the mount).  errexit off first: the
# trap must reach the cleanup whatever the status.
KHOLDER=
trap 'rc=$?; set +e; kill -CONT "$ZPID" $KHOLDER 2>/dev/null || true; (exit $rc); _zkfs_cleanup' EXIT

t mkdir "$A/s" "$A/s/olddir"
t sh -c "echo v1 > '$A/s/keep'; echo bye > '$A/s/gone'; echo same > '$A/s/same'; echo l > '$A/s/lk'; echo o > '$A/s/olddir/x'; echo e > '$A/s/early'"
H=$TEST_TMP/holder; mkdir -p "$H"
bg "$PY" "$HARNESS_DIR/zkfs_sessloss.py" holder "$A/.zk/ephemeral/s/eph" "$A/s/lk" "$H"
HOLDER=$BG_PID
for i in $(seq 300); do [ -e "$H/ready" ] && break; sleep 0.1; done
[ -e "$H/ready" ] || fail "the holder did not get its ephemeral and lock"
# A plain kazoo client, connected to the leader only (the expiry of a
# frozen client on a follower is test_ensemble_sessions.sh's), is frozen
# with zkfs: the server must expire it too, and tell it so once thawed.
if [ "$ZKFS_CLUSTER" = 1 ]; then L=$(leader_of) || fail "no leader"; KH=$(member_hosts "$L"); else KH=$ZK_HOSTS; fi
bg "$PY" "$HARNESS_DIR/zkfs_sessloss.py" kazoo-holder "$KH" /s/keh "$H"
KHOLDER=$BG_PID
for i in $(seq 300); do [ -e "$H/kready" ] && break; sleep 0.1; done
[ -e "$H/kready" ] || fail "the kazoo holder did not create its ephemeral"
# The kernel knows every name in /s (what a watcher would have looked at).
t ls -l "$A/s" >/dev/null
for i in $(seq 300); do [ -e "$A/s/keh" ] && break; sleep 0.1; done
t cat "$A/s/keep" "$A/s/gone" "$A/s/same" "$A/s/eph" "$A/s/keh" "$A/s/early" >/dev/null || fail "cannot read /s"
EV=$TEST_TMP/events.log
inotify_bg "$EV" --format '%f %e' "$A/s"; IW=$BG_PID

log "zkfs and the kazoo client frozen (SIGSTOP) past their 4 s session timeout"
kill -STOP "$ZPID" "$KHOLDER"
# Changed before the session expires: their events wait in zkfs's socket
# and are read after the thaw, when no server answers any more.
check kazoo "$ZK_HOSTS" delete /s/early || fail "kazoo delete"
check kazoo "$ZK_HOSTS" create /s/early_new x || fail "kazoo create"
out=$(SL wait-expired "$ZK_HOSTS" /s/eph /s/lk 40) || fail "the frozen mount's session was not expired: $out"
log "the servers expired the frozen mount's session: $out"
out=$(SL wait-expired "$ZK_HOSTS" /s/keh /s/lk 40) || fail "the frozen kazoo client's session was not expired: $out"
log "and the frozen kazoo client's: $out"
SL changes "$ZK_HOSTS" || fail "changes through kazoo"

log "zkfs and the kazoo client thawed"
kill -CONT "$ZPID" "$KHOLDER"
want=("^early DELETE" "^early_new CREATE" "^keh DELETE" "^new CREATE" "^keep MODIFY" "^gone DELETE" "^eph DELETE" "^newdir CREATE,ISDIR" "^olddir DELETE,ISDIR")
for i in $(seq 600); do
  ok=1; for w in "${want[@]}"; do grep -q "$w" "$EV" || { ok=0; break; }; done
  [ "$ok" = 1 ] && break
  sleep 0.1
done
for w in "${want[@]}"; do
  grep -q "$w" "$EV" || { cat "$EV" >&2; fail "no event matching '$w' after the session loss"; }
done
sleep 1   # a spurious event would come with the others
grep -q "^same " "$EV" && { cat "$EV" >&2; fail "an event for the unchanged file"; }
grep -q "^lk " "$EV" && { cat "$EV" >&2; fail "an event for the lock file (its contenders are hidden)"; }

grep -q "zkfs: session 0x[0-9a-f]* expired" "$TEST_TMP/a.log" || fail "the expiry is not logged"
grep -q "1 lock(s) lost" "$TEST_TMP/a.log" || fail "the lost lock is not counted in the log"
expect_eq "mount view of /s" "$(t ls "$A/s" | tr '\n' ' ')" "$(SL children "$ZK_HOSTS" /s | tr '\n' ' ')"
expect_eq "new data" "$(t cat "$A/s/new")" "born"
expect_eq "modified data" "$(t cat "$A/s/keep")" "v2"
expect_eq "new directory" "$(t ls "$A/s/newdir")" "kid"

log "the lost ephemeral's and lock's descriptors fail; a new lock works"
touch "$H/go"
for i in $(seq 300); do [ -e "$H/result" ] && break; sleep 0.1; done
[ -e "$H/result" ] || fail "the holder did not report"
res=$(cat "$H/result")
expect_eq "holder's descriptors after the session loss" "$res" \
  "eph_close=EIO eph_write=EIO lock_close=ok lock_read=EIO lock_un=EIO relock=ok"
grep -q "ephemeral znode lost with session" "$TEST_TMP/a.log" || fail "the lost ephemeral is not logged"
for i in $(seq 400); do [ -e "$H/kresult" ] && break; sleep 0.1; done
expect_eq "the thawed kazoo client's session" "$(cat "$H/kresult" 2>/dev/null)" "lost"
t sh -c "echo after > '$A/s/after'" || fail "write after the session loss"
expect_eq "written after" "$(t "$PY" -c 'import sys; from kazoo.client import KazooClient as K
z=K(hosts=sys.argv[1]); z.start(timeout=20); print(z.get("/s/after")[0].decode().strip()); z.stop()' "$ZK_HOSTS")" "after"

kill "$IW" 2>/dev/null || true
zkfs_unmount a
zkfs_finish_servers
log "ok"
