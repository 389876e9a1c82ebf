#!/usr/bin/env bash
# Durability of acknowledged writes across a crash: 4 concurrent kazoo
# writers (durability.py writer) log every acknowledged write; the server is
# killed with SIGKILL after ~3 s of load, restarted on the same dataDir and
# port, and every acknowledged write so far (all rounds) must be present
# with the right data (durability.py verify).  3 rounds.
source "$(dirname "$0")/harness.sh"
WRITERS=4
ROUNDS=3
start_server "" "$TEST_TMP/s1"
logs=()
for round in $(seq "$ROUNDS"); do
  pids=()
  for w in $(seq "$WRITERS"); do
    logf="$TEST_TMP/acks.r$round.w$w"
    : > "$logf"
    logs+=("$logf")
    bg "$PY" "$HARNESS_DIR/durability.py" writer "$ZK_HOSTS" "/dur/r${round}w$w" "$logf"
    pids+=("$BG_PID")
  done
  # Wait (bounded) until every writer has had a write acknowledged, then
  # let the load run for 3 s.
  for i in $(seq 100); do
    ready=0
    for w in $(seq "$WRITERS"); do [ -s "$TEST_TMP/acks.r$round.w$w" ] && ready=$((ready+1)); done
    [ "$ready" = "$WRITERS" ] && break
    sleep 0.1
  done
  [ "$ready" = "$WRITERS" ] || fail "round $round: only $ready of $WRITERS writers got going"
  sleep 3
  server_alive || fail "round $round: server died under load"
  kill9_server
  log "round $round: server killed with SIGKILL under load"
  # The writers stop on their first error; bound the wait anyway.
  for pid in "${pids[@]}"; do
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  acked=$(cat "$TEST_TMP"/acks.r"$round".w* | wc -l)
  [ "$acked" -ge 20 ] || fail "round $round: only $acked acknowledged writes; no real load"
  log "round $round: $acked writes acknowledged"
  restart_server
  log "round $round: restarted on the same dataDir"
  run_py durability.py verify "$ZK_HOSTS" "${logs[@]}" || fail "round $round: acknowledged writes lost"
done
finish_server
log "all passed"
