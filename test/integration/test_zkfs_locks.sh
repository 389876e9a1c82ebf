#!/usr/bin/env bash
# test_zkfs_locks.sh — flock(2) and fcntl locks on zkfs files are
# cluster-wide ZooKeeper locks (docs/filesystem.md section 6):
#   - processes on three replicas' mounts increment a counter file under
#     `flock`, none of the increments is lost;
#   - a kazoo Lock holder on the same path blocks `flock -n` and a waiting
#     `flock`, and a shell `flock` holder blocks kazoo (both directions);
#   - the same with Curator's InterProcessMutex (Java, Debian's Curator);
#   - fcntl: F_SETLK -> EAGAIN, F_GETLK -> F_WRLCK, F_SETLKW interrupted by
#     a signal, then granted; shared F_RDLCK locks;
#   - lock contenders are invisible: the locked file stays a file, ls shows
#     no contender, nothing is left behind.
# Runs against $ZK_IMPL (test_zkfs_apache.sh runs it with ZK_IMPL=apache).
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/zkfs_lib.sh"

zkfs_start_replicas
MNTS=()
for i in "${!REPLICA_HOSTS[@]}"; do
  zkfs_mount "r$i" "${REPLICA_HOSTS[$i]}"; MNTS+=("$MNT")
done
A=${MNTS[0]}; B=${MNTS[1]}; C=${MNTS[2]:-${MNTS[1]}}
HOSTS=${REPLICA_HOSTS[0]}
# shell_holds FILE TOKEN : a shell flock on FILE (background, BG_PID) that
# holds it until TOKEN exists (or 30 s pass).
shell_holds() {
  bg flock "$1" sh -c "for i in \$(seq 300); do [ -e '$2' ] && exit 0; sleep 0.1; done"
}
# held_by_shell ZNODE : wait (bounded) until a zkfs contender holds ZNODE.
held_by_shell() {
  local i
  for i in $(seq 100); do
    ls "$A/.zk/data$1" 2>/dev/null | grep -q '^zkfs-.*__lock__' && return 0
    sleep 0.1
  done
  fail "the shell's flock on $1 never showed up"
}

log "a counter incremented under flock from three mounts loses nothing"
t mkdir "$A/locks"
t sh -c "echo 0 > '$A/locks/counter'"
ROUNDS=5
pids=()
for m in "${MNTS[@]}"; do
  for p in 1 2; do
    bg sh -c "for k in \$(seq $ROUNDS); do
      timeout 30 flock '$m/locks/counter' sh -c 'n=\$(cat \"$m/locks/counter\"); echo \$((n + 1)) > \"$m/locks/counter\"' || exit 1
    done"
    pids+=("$BG_PID")
  done
done
for p in "${pids[@]}"; do wait "$p" || fail "a flock loop failed"; done
expect_eq "counter after $(( ${#MNTS[@]} * 2 * ROUNDS )) locked increments" \
  "$(t cat "$B/locks/counter")" "$(( ${#MNTS[@]} * 2 * ROUNDS ))"
t test -f "$A/locks/counter" || fail "the locked file must stay a file"
expect_eq "no contender listed" "$(t ls -A "$A/locks")" "counter"
expect_eq "no contender left" "$(t ls "$A/.zk/data/locks/counter" | grep -vc '^@data$' || true)" 0

log "kazoo's Lock and flock exclude each other"
t sh -c "echo job > '$A/locks/job'"
check kazoo-lock "$HOSTS" /locks/job hold 2 > "$TEST_TMP/kz.out" & KZ=$!
for i in $(seq 100); do grep -q held "$TEST_TMP/kz.out" && break; sleep 0.1; done
grep -q held "$TEST_TMP/kz.out" || fail "kazoo did not take the lock"
if t flock -n "$B/locks/job" true; then fail "flock -n succeeded while kazoo holds the lock"; fi
t0=$(date +%s%N)
T_TIMEOUT=20 t flock "$C/locks/job" true || fail "flock did not get the lock after kazoo released it"
waited=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$waited" -ge 500 ] || fail "flock got the lock after ${waited} ms while kazoo held it"
wait "$KZ" || fail "kazoo holder failed"
shell_holds "$A/locks/job" "$TEST_TMP/release.job"; FL=$BG_PID
held_by_shell /locks/job
expect_eq "kazoo try while the shell holds" "$(check kazoo-lock "$HOSTS" /locks/job try)" busy
( sleep 1; touch "$TEST_TMP/release.job" ) &
expect_eq "kazoo waits for the shell" "$(check kazoo-lock "$HOSTS" /locks/job wait 20)" got
wait "$FL" || fail "shell holder failed"

log "Curator's InterProcessMutex and flock exclude each other"
CP=""
for j in curator-framework curator-recipes curator-client zookeeper zookeeper-jute guava slf4j-api slf4j-nop; do
  CP="$CP${CP:+:}/usr/share/java/$j.jar"
done
mkdir -p "$TEST_TMP/classes"
javac -nowarn -d "$TEST_TMP/classes" -cp "$CP" "$HARNESS_DIR/curator/CuratorLock.java" \
  >"$TEST_TMP/javac.log" 2>&1 || { cat "$TEST_TMP/javac.log" >&2; fail "javac failed"; }
curator() { timeout -k 5 40 java -Xmx96m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  -cp "$TEST_TMP/classes:$CP" CuratorLock "$HOSTS" "$@"; }
t sh -c "echo cur > '$A/locks/cur'"
curator /locks/cur hold 2000 > "$TEST_TMP/cur.out" 2>"$TEST_TMP/cur.err" & CU=$!
for i in $(seq 200); do grep -q held "$TEST_TMP/cur.out" && break; sleep 0.1; done
grep -q held "$TEST_TMP/cur.out" || { cat "$TEST_TMP/cur.err" >&2; fail "Curator did not take the lock"; }
if t flock -n "$B/locks/cur" true; then fail "flock -n succeeded while Curator holds the lock"; fi
T_TIMEOUT=20 t flock "$C/locks/cur" true || fail "flock did not get the lock after Curator released it"
wait "$CU" || fail "Curator holder failed"
grep -q released "$TEST_TMP/cur.out" || fail "Curator did not release"
shell_holds "$A/locks/cur" "$TEST_TMP/release.cur"; FL=$BG_PID
held_by_shell /locks/cur
expect_eq "Curator try while the shell holds" "$(curator /locks/cur try 300 2>/dev/null)" busy
( sleep 3; touch "$TEST_TMP/release.cur" ) &
expect_eq "Curator waits for the shell" "$(curator /locks/cur try 20000 2>/dev/null)" got
wait "$FL" || fail "shell holder failed"

log "fcntl locks: F_SETLK, F_GETLK, F_SETLKW (interruptible), F_RDLCK"
t sh -c "echo p > '$A/locks/posix'"
T_TIMEOUT=30 t "$PY" "$HARNESS_DIR/zkfs_checks.py" fcntl-locks "$A/locks/posix" "$B/locks/posix" || fail "fcntl locks"
expect_eq "no contender left after fcntl" "$(t ls "$C/.zk/data/locks/posix" | grep -vc '^@data$' || true)" 0

for i in "${!MNTS[@]}"; do zkfs_unmount "r$i"; done
zkfs_finish_servers
log "ok"
