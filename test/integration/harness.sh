# harness.sh — shared helpers for the integration tests (sourced by each
# test/integration/test_*.sh).  Starts and stops one ZooKeeper-compatible
# server at a time, either our bin/zkserver or Apache ZooKeeper 3.8 from the
# Debian package, on a free loopback port, and cleans up every process and
# temp dir it created, even when the test fails or is killed by `timeout`.
#
# Environment:
#   ZK_IMPL   default server kind: "zkserver" (default) or "apache"
#   ZKSERVER  path of our server binary (default bin/zkserver, relative to the
#             repository root); run-integration.sh sets bin/zkserver-san
#             under SAN=1
#   KEEP_TMP  if 1, the temp dir is kept (for debugging)
#   ZK_ENV    extra environment of our server process, NAME=VALUE words
#             (e.g. the disk-fault shim's LD_PRELOAD); read at each start
#
# After start_server these are exported for the test and its helpers:
#   ZK_PORT   client port        ZK_HOSTS  "127.0.0.1:$ZK_PORT"
#   ZK_PID    server PID         ZK_DIR    server dir (zoo.cfg, data/, server.log)
#   ZK_KIND   "zkserver" or "apache"
#
# Every wait in here is bounded; nothing may hang.

set -euo pipefail

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HARNESS_DIR/../.." && pwd)
# The system python has python3-kazoo; the first python3 on PATH may not.
PY=/usr/bin/python3
ZK_IMPL=${ZK_IMPL:-zkserver}
ZKSERVER=${ZKSERVER:-bin/zkserver}
case "$ZKSERVER" in /*) ;; *) ZKSERVER="$REPO_ROOT/$ZKSERVER" ;; esac
export PY ZK_IMPL ZKSERVER HARNESS_DIR REPO_ROOT

# Classpath of the Debian zookeeper package, plus a log4j binding so the
# server log goes to the test's own directory (zkEnv.sh only has the jar).
APACHE_CP="/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar"

TEST_TMP=$(mktemp -d /tmp/zkit.XXXXXX)
export TEST_TMP
_HARNESS_PIDS=()        # every PID started through the harness (servers, helpers)

# log MESSAGE... : progress line on stdout, prefixed with the test name and
# the seconds since the harness was sourced (where a slow test's time goes).
_harness_usec() { local t=${EPOCHREALTIME:-0.000000}; t=${t/[.,]/}; echo $((10#$t)); }
_HARNESS_T0=$(_harness_usec)
log() {
  local d=$(( ($(_harness_usec) - _HARNESS_T0) / 100000 ))
  echo "[$(basename "$0" .sh) +$((d / 10)).$((d % 10))s] $*"
}

# fail MESSAGE... : print the message to stderr and exit the test with 1.
fail() { echo "FAIL [$(basename "$0" .sh)]: $*" >&2; exit 1; }

# track_pid PID : have the cleanup trap kill PID when the test ends.
track_pid() { _HARNESS_PIDS+=("$1"); }

# bg CMD... : run CMD in the background, tracked for cleanup; sets BG_PID.
bg() { "$@" & BG_PID=$!; track_pid "$BG_PID"; }

# _kill_pid PID : SIGTERM, wait up to 5 s, then SIGKILL.
_kill_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

_harness_cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${_HARNESS_PIDS[@]}"; do _kill_pid "$pid"; wait "$pid" 2>/dev/null || true; done
  "$PY" "$HARNESS_DIR/ports.py" --release "$$" 2>/dev/null || true
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $TEST_TMP" >&2; else rm -rf "$TEST_TMP"; fi
  exit "$rc"
}
trap _harness_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# free_port : print a free loopback TCP port (the kernel picks one),
# reserved for this test until it ends (ports.py: tests running at the same
# time never get the same port).
free_port() { "$PY" "$HARNESS_DIR/ports.py" 1 "$$"; }

# four_letter WORD [PORT] : send a four-letter word, print the whole reply.
# Bounded by 5 s; prints nothing if the server does not answer.
four_letter() {
  "$PY" - "$1" "${2:-$ZK_PORT}" <<'EOF'
import socket, sys
word, port = sys.argv[1], int(sys.argv[2])
out = b""
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(word.encode())
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

# wait_ruok [PORT] [SECONDS] : wait until the server answers ruok with imok
# and serves requests (Apache answers ruok before its request pipeline is up;
# srvr then says "not currently serving requests" instead of the "Mode:").
wait_ruok() {
  local port=${1:-$ZK_PORT} secs=${2:-30} i srvr
  for i in $(seq $((secs * 4))); do
    if [ "$(four_letter ruok "$port")" = imok ]; then
      srvr=$(four_letter srvr "$port")
      case "$srvr" in *"Mode: "*|*"not in the whitelist"*) return 0 ;; esac
    fi
    if [ -n "${ZK_PID:-}" ] && ! kill -0 "$ZK_PID" 2>/dev/null; then
      echo "server died during startup; log:" >&2; tail -30 "$ZK_DIR/server.log" >&2 || true
      return 1
    fi
    sleep 0.25
  done
  echo "server on port $port did not answer ruok within $secs s; log:" >&2
  tail -30 "$ZK_DIR/server.log" >&2 || true
  return 1
}

# start_server KIND DIR [EXTRA_ZOO_CFG_LINE...]
#   KIND "" means $ZK_IMPL.  Writes DIR/zoo.cfg (dataDir=DIR/data, a free
#   clientPort, tickTime=2000, 4lw.commands.whitelist=*,
#   admin.enableServer=false) plus the extra lines (an extra line replaces a
#   default with the same key), starts the server in the foreground with its
#   output in DIR/server.log, waits for ruok -> imok (30 s) and exports
#   ZK_PORT ZK_HOSTS ZK_PID ZK_DIR ZK_KIND.
start_server() {
  local kind=${1:-$ZK_IMPL} dir=$2; shift 2
  mkdir -p "$dir/data"
  local port; port=$(free_port)
  local -a defaults=("tickTime=2000" "initLimit=10" "syncLimit=5"
                     "dataDir=$dir/data" "clientPort=$port"
                     "clientPortAddress=127.0.0.1"
                     "4lw.commands.whitelist=*" "admin.enableServer=false")
  local line key extra
  : > "$dir/zoo.cfg"
  for line in "${defaults[@]}"; do
    key=${line%%=*}
    for extra in "$@"; do [ "${extra%%=*}" = "$key" ] && continue 2; done
    echo "$line" >> "$dir/zoo.cfg"
  done
  for extra in "$@"; do echo "$extra" >> "$dir/zoo.cfg"; done
  # The port actually used (an extra line may have set clientPort).
  port=$(sed -n 's/^clientPort=//p' "$dir/zoo.cfg" | tail -1)
  ZK_KIND=$kind; ZK_DIR=$dir; ZK_PORT=$port; ZK_HOSTS="127.0.0.1:$port"
  export ZK_KIND ZK_DIR ZK_PORT ZK_HOSTS
  _launch_server
}

# restart_server : start the last server again with the same DIR, zoo.cfg,
# dataDir and port (after stop_server or kill9_server).
restart_server() { _launch_server; }

_launch_server() {
  case "$ZK_KIND" in
    apache)
      cat > "$ZK_DIR/log4j.properties" <<EOF
log4j.rootLogger=INFO, OUT
log4j.appender.OUT=org.apache.log4j.ConsoleAppender
log4j.appender.OUT.layout=org.apache.log4j.PatternLayout
log4j.appender.OUT.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n
EOF
      # Small heap and quick JIT: the machine is shared and has 2 cores.
      # SERVER_JVMFLAGS (-Dkey=value words, as zkServer.sh) is split on
      # purpose.
      # shellcheck disable=SC2086
      java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Dlog4j.configuration="file:$ZK_DIR/log4j.properties" \
        -Dzookeeper.admin.enableServer=false \
        ${SERVER_JVMFLAGS:-} \
        -cp "$APACHE_CP" org.apache.zookeeper.server.quorum.QuorumPeerMain \
        "$ZK_DIR/zoo.cfg" >> "$ZK_DIR/server.log" 2>&1 &
      ;;
    zkserver)
      [ -x "$ZKSERVER" ] || fail "server binary $ZKSERVER not found (build it, or run with ZK_IMPL=apache)"
      # shellcheck disable=SC2086
      env ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
          UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" ${ZK_ENV:-} \
        "$ZKSERVER" "$ZK_DIR/zoo.cfg" >> "$ZK_DIR/server.log" 2>&1 &
      ;;
    *) fail "unknown server kind '$ZK_KIND' (zkserver or apache)" ;;
  esac
  ZK_PID=$!
  export ZK_PID
  track_pid "$ZK_PID"
  wait_ruok "$ZK_PORT" 30 || fail "server ($ZK_KIND) did not start"
}

# server_alive : true if the current server process is still running.
server_alive() { kill -0 "$ZK_PID" 2>/dev/null; }

# _check_sanitizer_log : fail if the server log has a sanitizer report.
_check_sanitizer_log() {
  if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$ZK_DIR/server.log" 2>/dev/null; then
    grep -A30 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$ZK_DIR/server.log" | head -60 >&2
    fail "sanitizer report in $ZK_DIR/server.log"
  fi
}

# stop_server : SIGTERM the server, SIGKILL it if still alive after 15 s.
# Fails the test if our server leaves a sanitizer report in its log.
stop_server() {
  local i
  kill -TERM "$ZK_PID" 2>/dev/null || true
  for i in $(seq 150); do kill -0 "$ZK_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$ZK_PID" 2>/dev/null; then
    echo "server $ZK_PID ignored SIGTERM for 15 s; killing it" >&2
    kill -KILL "$ZK_PID" 2>/dev/null || true
  fi
  wait "$ZK_PID" 2>/dev/null || true
  _check_sanitizer_log
}

# kill9_server : SIGKILL the server (simulated crash) and reap it.
kill9_server() {
  kill -KILL "$ZK_PID" 2>/dev/null || true
  wait "$ZK_PID" 2>/dev/null || true
}

# finish_server : stop the server at the end of a test and check it was
# alive until then (a crash is a failure even if every client check passed).
finish_server() {
  server_alive || { tail -40 "$ZK_DIR/server.log" >&2; fail "server died during the test"; }
  stop_server
}

# run_py SCRIPT [ARGS...] : run test/integration/SCRIPT with the system python.
run_py() { local script=$1; shift; "$PY" "$HARNESS_DIR/$script" "$@"; }
