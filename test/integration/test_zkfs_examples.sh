#!/usr/bin/env bash
# test_zkfs_examples.sh — runs every recipe of examples/ on real mounts of
# two "replicas": config distribution to a legacy program reloading on
# inotify, service discovery with ephemeral files, leader election and a
# lock with ephemeral-sequential files and `inotifywait -e delete`.
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/zkfs_lib.sh"
EX="$REPO_ROOT/examples"

zkfs_start_replicas
zkfs_mount a "${REPLICA_HOSTS[0]}"; A=$MNT
zkfs_mount b "${REPLICA_HOSTS[1]}"; B=$MNT

wait_grep() {   # wait_grep PATTERN FILE : bounded wait for a line in FILE
  local i
  for i in $(seq 100); do grep -q -- "$1" "$2" 2>/dev/null && return 0; sleep 0.1; done
  echo "--- $2:" >&2; cat "$2" >&2; fail "no '$1' in $2"
}

log "config distribution: a legacy program on B reloads on changes made through A and kazoo"
t "$EX/config-distribution.sh" publish "$A" shop 'color=red'
SERVE_LOG=$TEST_TMP/serve.log
bg sh -c "timeout 30 '$EX/config-distribution.sh' serve '$B' shop 20 > '$SERVE_LOG' 2>&1"
wait_grep "shop loaded: color=red" "$SERVE_LOG"
sleep 0.5
t "$EX/config-distribution.sh" publish "$A" shop 'color=blue'
wait_grep "shop loaded: color=blue" "$SERVE_LOG"
t "$PY" "$HARNESS_DIR/zkfs_checks.py" kazoo "${REPLICA_HOSTS[2]:-$ZK_HOSTS}" set /config/shop/app.conf 'color=green' || fail kazoo
wait_grep "shop loaded: color=green" "$SERVE_LOG"

log "service discovery: ephemeral registrations come and go on every mount"
bg "$EX/service-discovery.sh" register "$A" web h1 10.0.0.1:80 30; R1=$BG_PID
bg "$EX/service-discovery.sh" register "$B" web h2 10.0.0.2:80 30; R2=$BG_PID
for i in $(seq 100); do
  [ "$(t "$EX/service-discovery.sh" list "$B" web | wc -l)" = 2 ] && break; sleep 0.1
done
expect_eq "instances seen on B" "$(t "$EX/service-discovery.sh" list "$B" web | sort | tr '\n' ';')" \
  "h1 10.0.0.1:80;h2 10.0.0.2:80;"
kill "$R1"; wait "$R1" 2>/dev/null || true
for i in $(seq 100); do
  [ "$(t "$EX/service-discovery.sh" list "$A" web | wc -l)" = 1 ] && break; sleep 0.1
done
expect_eq "after h1 died" "$(t "$EX/service-discovery.sh" list "$A" web)" "h2 10.0.0.2:80"
kill "$R2"; wait "$R2" 2>/dev/null || true

log "leader election: one leader at a time, the next takes over"
EL=$TEST_TMP/election.log
for who in c1 c2 c3; do
  m=$A; [ "$who" = c2 ] && m=$B
  bg sh -c "timeout 40 '$EX/leader-election.sh' '$m' main $who 1 >> '$EL' 2>&1"
  sleep 0.3
done
for i in $(seq 300); do [ "$(grep -c ' resigns' "$EL" 2>/dev/null)" = 3 ] && break; sleep 0.1; done
expect_eq "leaders" "$(grep -c ' is leader' "$EL")" 3
# Between "X is leader" and "X resigns" no other "is leader".
awk '/ is leader/ { if (cur != "") bad = 1; cur = $1 } / resigns/ { cur = "" } END { exit bad }' "$EL" \
  || { cat "$EL" >&2; fail "two leaders at once"; }

log "lock: critical sections never overlap"
CS=$TEST_TMP/cs.log
for n in 1 2 3; do
  m=$A; [ "$n" = 2 ] && m=$B
  bg sh -c "timeout 40 '$EX/lock.sh' '$m' counter sh -c 'echo start $n >> $CS; sleep 0.3; echo end $n >> $CS'"
done
for i in $(seq 300); do [ "$(grep -c '^end' "$CS" 2>/dev/null)" = 3 ] && break; sleep 0.1; done
expect_eq "sections run" "$(grep -c '^end' "$CS")" 3
awk '/^start/ { if (busy) bad = 1; busy = 1 } /^end/ { busy = 0 } END { exit bad }' "$CS" \
  || { cat "$CS" >&2; fail "critical sections overlapped"; }

zkfs_unmount a; zkfs_unmount b
zkfs_finish_servers
log "ok"
