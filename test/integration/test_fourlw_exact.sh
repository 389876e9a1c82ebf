#!/usr/bin/env bash
# test_fourlw_exact.sh — every four-letter word of bin/zkserver compared
# with the Apache ZooKeeper 3.8 captures in test/vectors/fourlw/ (line by
# line, same keys and labels, numbers/ids/times normalised as
# docs/fourlw-formats.md §13 says).  The checks themselves are in
# fourlw_exact.py; this script starts and stops the servers:
#
#   1. a server with 4lw.commands.whitelist=*: the capture.py workload, then
#      every word (fourlw_exact.py full);
#   2. a server with the default whitelist: ruok/stat/mntr refused with
#      Apache's message, srvr answered (fourlw_exact.py defaultwl).
#
# Run from the repository root:  bash test/integration/test_fourlw_exact.sh
# Environment: ZKSERVER (default bin/zkserver; bin/zkserver-san for the
# sanitizer build), ZK_IMPL=apache runs the same checks against the Debian
# Apache ZooKeeper (to validate the checker itself), KEEP_TMP=1 keeps the
# temp dir.  Self-contained and bounded: free loopback ports, at most ~30 s
# per server start, every client step has a timeout; the trap kills the
# servers by PID and removes the temp dir.
# Prints "fourlw: N passed, N failed"; exit status non-zero on failure.
set -u

cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
ZKSERVER=${ZKSERVER:-bin/zkserver}
ZK_IMPL=${ZK_IMPL:-zkserver}
VECTORS=test/vectors/fourlw
HELPER=test/integration/fourlw_exact.py
APACHE_CP="/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar"

TMP=$(mktemp -d /tmp/zk4lw.XXXXXX)
SERVER_PID=""
passed=0
failed=0

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  local i
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for i in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_server
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

pass() { passed=$((passed + 1)); echo "ok: $*"; }
failcheck() { failed=$((failed + 1)); echo "FAIL: $*"; }

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# word PORT WORD : the raw reply (5 s bound).
word() {
  "$PY" - "$1" "$2" <<'EOF'
import socket, sys
out = b""
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    s.sendall(sys.argv[2].encode())
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except OSError:
    pass
sys.stdout.write(out.decode("utf-8", "replace"))
EOF
}

# start_server NAME [EXTRA_CFG_LINE...] : writes $TMP/NAME/zoo.cfg, starts
# the server, waits (30 s max) until srvr answers; sets PORT, SERVER_PID, DIR.
start_server() {
  local name=$1; shift
  DIR=$TMP/$name
  mkdir -p "$DIR/data"
  PORT=$(free_port)
  {
    echo "tickTime=2000"
    echo "initLimit=10"
    echo "syncLimit=5"
    echo "dataDir=$DIR/data"
    echo "clientPort=$PORT"
    echo "clientPortAddress=127.0.0.1"
    echo "admin.enableServer=false"
    local line; for line in "$@"; do echo "$line"; done
  } > "$DIR/zoo.cfg"
  case "$ZK_IMPL" in
    apache)
      printf '%s\n' "log4j.rootLogger=INFO, OUT" "log4j.appender.OUT=org.apache.log4j.ConsoleAppender" \
        "log4j.appender.OUT.layout=org.apache.log4j.PatternLayout" > "$DIR/log4j.properties"
      java -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Dlog4j.configuration="file:$DIR/log4j.properties" -Dzookeeper.admin.enableServer=false \
        -cp "$APACHE_CP" org.apache.zookeeper.server.quorum.QuorumPeerMain "$DIR/zoo.cfg" \
        > "$DIR/server.log" 2>&1 &
      ;;
    *)
      if [ ! -x "$ZKSERVER" ]; then
        echo "server binary $ZKSERVER not found (run make)" >&2
        return 1
      fi
      ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$ZKSERVER" "$DIR/zoo.cfg" > "$DIR/server.log" 2>&1 &
      ;;
  esac
  SERVER_PID=$!
  local i
  for i in $(seq 120); do
    case "$(word "$PORT" srvr)" in *"Mode: "*) return 0 ;; esac
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.25
  done
  echo "server did not start; log:" >&2
  tail -30 "$DIR/server.log" >&2
  return 1
}

# run_helper MODE : runs fourlw_exact.py (60 s bound) and adds its counts.
run_helper() {
  local out
  out=$(timeout -k 5 60 "$PY" "$HELPER" "$1" "$PORT" "$VECTORS" 2>&1)
  echo "$out" | grep -v '^COUNTS '
  local counts
  counts=$(echo "$out" | sed -n 's/^COUNTS //p' | tail -1)
  if [ -z "$counts" ]; then
    failcheck "fourlw_exact.py $1 did not finish"
    return
  fi
  passed=$((passed + ${counts% *}))
  failed=$((failed + ${counts#* }))
}

# finish_server : the server must still be alive, stop cleanly, and (for a
# sanitizer build) leave no sanitizer report.
finish_server() {
  if kill -0 "$SERVER_PID" 2>/dev/null; then pass "server alive after the words"; else
    failcheck "server died"; tail -30 "$DIR/server.log"; fi
  stop_server
  if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$DIR/server.log"; then
    failcheck "sanitizer report in the server log"
    grep -A20 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$DIR/server.log" | head -40
  else
    pass "no sanitizer report"
  fi
}

# 1. every word, whitelist=*
if start_server all "4lw.commands.whitelist=*"; then
  run_helper full
  finish_server
else
  failcheck "server with whitelist=* did not start"
fi

# 2. default whitelist (srvr only)
if start_server defaultwl; then
  run_helper defaultwl
  finish_server
else
  failcheck "server with the default whitelist did not start"
fi

echo "fourlw: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
