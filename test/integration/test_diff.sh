#!/usr/bin/env bash
# test_diff.sh — differential test: runs the same seeded random operation
# sequence (test/integration/diff_test.py) against Apache ZooKeeper 3.8 (A,
# the reference) and our bin/zkserver (B), comparing every reply and every
# watch event; on the first seed's servers it then sends the catalogue of
# malformed frames (test/integration/malformed_diff.py: every opcode with
# bodies that do not decode) to both and compares those answers too.
# Fresh servers for every seed, both with extended types (CONTAINER, TTL)
# enabled.  See docs/testing-differential.md.
#
# Environment:
#   DIFF_SEEDS     seeds to run (default "1 2 3"; "1" against the ASan build
#                  bin/zkserver-san, which make test runs after the plain
#                  pass: one seed's 1500 operations use every opcode and
#                  the malformed catalogue, and ASan looks at those code
#                  paths; the plain pass compares the other two seeds)
#   DIFF_OPS       operations per seed (default 1500)
#   DIFF_SESSIONS  sessions per server (default 3)
#   DIFF_SELFTEST  1 = run Apache against Apache (validates the normalisation;
#                  also what runs when bin/zkserver is missing and this is set)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
case "${ZKSERVER:-}" in *-san) SEEDS=${DIFF_SEEDS:-"1"} ;; *) SEEDS=${DIFF_SEEDS:-"1 2 3"} ;; esac
OPS=${DIFF_OPS:-1500}
SESSIONS=${DIFF_SESSIONS:-3}
EXTRA_CFG="extendedTypesEnabled=true"

if [ -f "$HERE/harness.sh" ]; then
  # shellcheck source=harness.sh
  source "$HERE/harness.sh"
  # Apache reads extendedTypesEnabled as a system property.
  # Both servers reap empty containers on their own clock; a reaping on one
  # side only would show up as a zxid difference, so it is pushed out of
  # the test's time frame on both.
  export SERVER_JVMFLAGS="${SERVER_JVMFLAGS:-} -Dzookeeper.extendedTypesEnabled=true -Dznode.container.checkIntervalMs=86400000"
else
  # Minimal stand-in for harness.sh (same function names and variables).
  REPO_ROOT=$(cd "$HERE/../.." && pwd)
  PY=/usr/bin/python3
  ZKSERVER=${ZKSERVER:-$REPO_ROOT/bin/zkserver}
  TEST_TMP=$(mktemp -d /tmp/zkdiff.XXXXXX)
  _PIDS=()
  cleanup() {
    local rc=$? p
    for p in "${_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${_PIDS[@]}"; do
      for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true
    done
    rm -rf "$TEST_TMP"; exit "$rc"
  }
  trap cleanup EXIT; trap 'exit 143' TERM; trap 'exit 130' INT
  log() { echo "[test_diff] $*"; }
  fail() { echo "FAIL [test_diff]: $*" >&2; exit 1; }
  free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
  start_server() {   # KIND DIR [EXTRA_LINE...]
    local kind=$1 dir=$2 port; shift 2
    port=$(free_port); mkdir -p "$dir/data"
    printf 'tickTime=2000\ndataDir=%s/data\nclientPort=%s\n4lw.commands.whitelist=*\nadmin.enableServer=false\n' \
      "$dir" "$port" > "$dir/zoo.cfg"
    for l in "$@"; do echo "$l" >> "$dir/zoo.cfg"; done
    if [ "$kind" = apache ]; then
      printf 'log4j.rootLogger=INFO, O\nlog4j.appender.O=org.apache.log4j.ConsoleAppender\nlog4j.appender.O.layout=org.apache.log4j.PatternLayout\n' > "$dir/log4j.properties"
      java -Xmx256m -Dzookeeper.extendedTypesEnabled=true -Dlog4j.configuration="file:$dir/log4j.properties" \
        -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar \
        org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" > "$dir/server.log" 2>&1 &
    else
      "$ZKSERVER" "$dir/zoo.cfg" > "$dir/server.log" 2>&1 &
    fi
    ZK_PID=$!; _PIDS+=("$ZK_PID"); ZK_PORT=$port; ZK_DIR=$dir; ZK_KIND=$kind
    for _ in $(seq 120); do
      [ "$(echo ruok | nc -w1 127.0.0.1 "$port" 2>/dev/null)" = imok ] && return 0
      kill -0 "$ZK_PID" 2>/dev/null || break; sleep 0.25
    done
    tail -20 "$dir/server.log" >&2; fail "$kind did not start"
  }
  stop_server() {
    kill -TERM "$ZK_PID" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$ZK_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$ZK_PID" 2>/dev/null || true; wait "$ZK_PID" 2>/dev/null || true
  }
  finish_server() {
    kill -0 "$ZK_PID" 2>/dev/null || { tail -40 "$ZK_DIR/server.log" >&2; fail "server died during the test"; }
    stop_server
  }
fi

B_KIND=zkserver
if [ "${DIFF_SELFTEST:-0}" = 1 ]; then
  B_KIND=apache
elif [ ! -x "$ZKSERVER" ]; then
  fail "$ZKSERVER not built (run make, or DIFF_SELFTEST=1 to diff Apache against itself)"
fi

failed=0
for seed in $SEEDS; do
  start_server apache "$TEST_TMP/a$seed" "$EXTRA_CFG"
  A_PID=$ZK_PID A_PORT=$ZK_PORT A_DIR=$ZK_DIR A_KIND=$ZK_KIND
  start_server "$B_KIND" "$TEST_TMP/b$seed" "$EXTRA_CFG" "znode.container.checkIntervalMs=86400000"
  B_PORT=$ZK_PORT B_DIR=$ZK_DIR
  log "seed $seed: A=apache:$A_PORT B=$B_KIND:$B_PORT ($OPS ops, $SESSIONS sessions)"
  rc=0
  timeout 300 "$PY" "$HERE/diff_test.py" --a "127.0.0.1:$A_PORT" --b "127.0.0.1:$B_PORT" \
    --seed "$seed" --ops "$OPS" --sessions "$SESSIONS" > "$TEST_TMP/diff$seed.out" 2>&1 || rc=$?
  cat "$TEST_TMP/diff$seed.out"
  if [ "$rc" -eq 0 ] && [ "$seed" = "${SEEDS%% *}" ]; then
    # Frames whose body does not decode, every opcode, on the same servers
    # (test/integration/malformed_diff.py; its own base znode).
    timeout 300 "$PY" "$HERE/malformed_diff.py" --a "127.0.0.1:$A_PORT" --b "127.0.0.1:$B_PORT" \
      > "$TEST_TMP/malformed.out" 2>&1 || rc=$?
    cat "$TEST_TMP/malformed.out"
  fi
  # B first (its ZK_* are current), then A; finish_server fails if one died.
  finish_server
  ZK_PID=$A_PID ZK_PORT=$A_PORT ZK_DIR=$A_DIR ZK_KIND=$A_KIND
  finish_server
  if [ "$rc" -ne 0 ]; then
    echo "seed $seed: servers differ (exit $rc); server logs were in $A_DIR and $B_DIR" >&2
    failed=1
    break
  fi
done
[ "$failed" -eq 0 ] || fail "Apache ZooKeeper and $B_KIND behave differently (see above)"
log "PASS: seeds $SEEDS identical"
