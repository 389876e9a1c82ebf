# cluster.sh — helpers for the ensemble integration tests (sourced by
# test/integration/test_ensemble_*.sh).  Configures and runs an ensemble of
# bin/zkserver replicas (or Apache ZooKeeper 3.8 with ZK_IMPL=apache) on
# loopback, every member with its own free client, quorum and election port,
# its own dir (zoo.cfg, data/myid, server.log) under $TEST_TMP, and kills
# every member by PID and removes the temp dir when the test ends (even when
# it fails, is interrupted or is timed out).  Builds on harness.sh (log,
# fail, four_letter, free_port, bg, track_pid, PY, run_py).
#
# Members are numbered 1..N; member I has server id I (server.I line, myid I).
#
# Environment:
#   CLUSTER_CFG   extra zoo.cfg lines, one per word ("tickTime=500 snapCount=100");
#                 a line replaces a default with the same key.  Read by
#                 setup_cluster / start_cluster.
#   ZK_IMPL, ZKSERVER, KEEP_TMP   as in harness.sh
#
# Arrays exported to the test (index = member number):
#   CL_CPORT[I] client port   CL_QPORT[I] quorum port   CL_EPORT[I] election port
#   CL_DIR[I]   member dir    CL_PID[I]   PID while running (empty when down)
#   CL_N        number of members
#   CL_ENV[I]   extra environment for member I's server process, as
#               NAME=VALUE words (e.g. LD_PRELOAD=... for the disk-fault
#               shim); set by the test before start_member
#
# Every wait in here is bounded; nothing may hang.

# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

CL_N=0
CL_CPORT=(); CL_QPORT=(); CL_EPORT=(); CL_DIR=(); CL_PID=(); CL_OBSERVER=(); CL_ENV=()

# Members may be SIGSTOPped by a test: resume them before harness.sh's
# cleanup sends SIGTERM (a stopped process would only die by SIGKILL 5 s later).
_cluster_cleanup() {
  local rc=$? i
  set +e
  for i in $(seq "$CL_N"); do
    if [ -n "${CL_PID[$i]:-}" ]; then kill -CONT "${CL_PID[$i]}" 2>/dev/null; fi
  done
  (exit "$rc")
  _harness_cleanup
}
trap _cluster_cleanup EXIT

# _unique_ports COUNT : print COUNT distinct free loopback ports, one a line,
# reserved for this test until it ends (ports.py).
# They are picked at random below the kernel's ephemeral range: a port the
# kernel hands out as the source port of some outgoing connection (a
# client's, another member's) would make a restarted member's bind fail
# with "Address already in use" for as long as that socket lingers, which
# after a kill -9 of the whole ensemble is up to a minute (FIN_WAIT2).
_unique_ports() { "$PY" "$HARNESS_DIR/ports.py" "$1" "$$" --random-low; }

# setup_cluster N [OBSERVER...] : write the configuration of an N-member
# ensemble (members listed after N are observers) without starting anything.
# zoo.cfg of every member: tickTime=2000, initLimit=10, syncLimit=5,
# dataDir=DIR/data, the member's clientPort on 127.0.0.1, the server.I lines
# (host:quorumPort:electionPort[:observer]), peerType=observer on observers,
# 4lw.commands.whitelist=*, admin.enableServer=false, then $CLUSTER_CFG.
setup_cluster() {
  local n=$1; shift
  local -a observers=("$@") ports
  local i j line key extra
  mapfile -t ports < <(_unique_ports $((3 * n)))
  CL_N=$n
  for i in $(seq "$n"); do
    CL_CPORT[$i]=${ports[$((3 * (i - 1)))]}
    CL_QPORT[$i]=${ports[$((3 * (i - 1) + 1))]}
    CL_EPORT[$i]=${ports[$((3 * (i - 1) + 2))]}
    CL_DIR[$i]="$TEST_TMP/m$i"
    CL_PID[$i]=""
    CL_OBSERVER[$i]=0
    for j in "${observers[@]}"; do if [ "$j" = "$i" ]; then CL_OBSERVER[$i]=1; fi; done
  done
  for i in $(seq "$n"); do
    mkdir -p "${CL_DIR[$i]}/data"
    echo "$i" > "${CL_DIR[$i]}/data/myid"
    local -a lines=("tickTime=2000" "initLimit=10" "syncLimit=5"
                    "dataDir=${CL_DIR[$i]}/data" "clientPort=${CL_CPORT[$i]}"
                    "clientPortAddress=127.0.0.1"
                    "4lw.commands.whitelist=*" "admin.enableServer=false")
    if [ "${CL_OBSERVER[$i]}" = 1 ]; then lines+=("peerType=observer"); fi
    : > "${CL_DIR[$i]}/zoo.cfg"
    for line in "${lines[@]}"; do
      key=${line%%=*}
      for extra in ${CLUSTER_CFG:-}; do [ "${extra%%=*}" = "$key" ] && continue 2; done
      echo "$line" >> "${CL_DIR[$i]}/zoo.cfg"
    done
    for extra in ${CLUSTER_CFG:-}; do echo "$extra" >> "${CL_DIR[$i]}/zoo.cfg"; done
    for j in $(seq "$n"); do
      line="server.$j=127.0.0.1:${CL_QPORT[$j]}:${CL_EPORT[$j]}"
      if [ "${CL_OBSERVER[$j]}" = 1 ]; then line+=":observer"; fi
      echo "$line" >> "${CL_DIR[$i]}/zoo.cfg"
    done
  done
  export CL_N
}

# start_cluster N [OBSERVER...] : setup_cluster, start members 1..N in order,
# then wait (60 s) until one member leads and every other one follows or
# observes.  Prints nothing; fails the test on timeout.
start_cluster() {
  local i
  setup_cluster "$@"
  for i in $(seq "$CL_N"); do start_member "$i"; done
  wait_cluster_ready 60 || fail "the ensemble did not form: $(cluster_modes)"
}

# start_member I : start member I (its existing config and data) in the
# background, output appended to CL_DIR[I]/server.log, and wait (30 s) until
# it answers ruok (it may still be looking for a leader).
start_member() {
  local i=$1 k
  local dir=${CL_DIR[$i]}
  [ -z "${CL_PID[$i]}" ] || fail "member $i is already running (pid ${CL_PID[$i]})"
  echo "---- start $(date +%T.%N)" >> "$dir/server.log"
  case "$ZK_IMPL" in
    apache)
      cat > "$dir/log4j.properties" <<EOF
log4j.rootLogger=INFO, OUT
log4j.appender.OUT=org.apache.log4j.ConsoleAppender
log4j.appender.OUT.layout=org.apache.log4j.PatternLayout
log4j.appender.OUT.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n
EOF
      # shellcheck disable=SC2086
      java -Xmx192m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Dlog4j.configuration="file:$dir/log4j.properties" \
        -Dzookeeper.admin.enableServer=false ${SERVER_JVMFLAGS:-} \
        -cp "$APACHE_CP" org.apache.zookeeper.server.quorum.QuorumPeerMain \
        "$dir/zoo.cfg" >> "$dir/server.log" 2>&1 &
      ;;
    zkserver)
      [ -x "$ZKSERVER" ] || fail "server binary $ZKSERVER not found (run make)"
      # shellcheck disable=SC2086
      env ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
          UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" ${CL_ENV[$i]:-} \
        "$ZKSERVER" "$dir/zoo.cfg" >> "$dir/server.log" 2>&1 &
      ;;
    *) fail "unknown server kind '$ZK_IMPL' (zkserver or apache)" ;;
  esac
  CL_PID[$i]=$!
  track_pid "${CL_PID[$i]}"
  for k in $(seq 120); do
    [ "$(four_letter ruok "${CL_CPORT[$i]}")" = imok ] && return 0
    if ! kill -0 "${CL_PID[$i]}" 2>/dev/null; then
      tail -30 "$dir/server.log" >&2
      CL_PID[$i]=""
      fail "member $i died during startup"
    fi
    sleep 0.25
  done
  tail -30 "$dir/server.log" >&2
  fail "member $i did not answer ruok within 30 s"
}

# restart_member I : start member I again after stop/kill9 (same config, data).
restart_member() { start_member "$1"; }

# _member_sanitizer_check I : fail on a sanitizer report in member I's log.
_member_sanitizer_check() {
  local log=${CL_DIR[$1]}/server.log
  if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log" 2>/dev/null; then
    grep -A30 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log" | head -60 >&2
    fail "sanitizer report in $log"
  fi
}

# stop_member I : SIGTERM member I (SIGKILL after 15 s) and reap it; fails on
# a sanitizer report in its log.
stop_member() {
  local i=$1 k pid=${CL_PID[$1]}
  [ -n "$pid" ] || return 0
  kill -CONT "$pid" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  for k in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "member $i (pid $pid) ignored SIGTERM for 15 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  CL_PID[$i]=""
  _member_sanitizer_check "$i"
}

# kill9_member I : SIGKILL member I (a crash) and reap it.
kill9_member() {
  local i=$1 pid=${CL_PID[$1]}
  [ -n "$pid" ] || return 0
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  CL_PID[$i]=""
}

# pause_member I / resume_member I : SIGSTOP / SIGCONT member I (it keeps
# its sockets but answers nothing, like a hung or partitioned replica).
pause_member() { kill -STOP "${CL_PID[$1]}"; }
resume_member() { kill -CONT "${CL_PID[$1]}"; }

# member_alive I : true if member I's process is running.
member_alive() { [ -n "${CL_PID[$1]}" ] && kill -0 "${CL_PID[$1]}" 2>/dev/null; }

# finish_cluster : fail if a member that should be running died, then stop
# every running member (checking the sanitizer logs).
finish_cluster() {
  local i
  for i in $(seq "$CL_N"); do
    if [ -n "${CL_PID[$i]}" ] && ! kill -0 "${CL_PID[$i]}" 2>/dev/null; then
      tail -40 "${CL_DIR[$i]}/server.log" >&2
      fail "member $i died during the test"
    fi
  done
  for i in $(seq "$CL_N"); do stop_member "$i"; done
}

# mode_of I : member I's role from srvr: leader, follower, observer,
# standalone, "none" (answers but is not serving requests) or "down" (no
# answer).
mode_of() {
  local out
  out=$(four_letter srvr "${CL_CPORT[$1]}")
  case "$out" in
    *"Mode: "*) sed -n 's/^Mode: //p' <<<"$out" | head -1 ;;
    *"not currently serving requests"*) echo none ;;
    *) echo down ;;
  esac
}

# cluster_modes : "1=leader 2=follower 3=down ..." for every member.
cluster_modes() {
  local i s=""
  for i in $(seq "$CL_N"); do s+="$i=$(mode_of "$i") "; done
  echo "${s% }"
}

# wait_mode I MODE [SECONDS] : wait (default 30 s) until member I's srvr Mode
# is MODE ("none" = not serving); returns 1 on timeout (prints the modes).
wait_mode() {
  local i=$1 want=$2 secs=${3:-30} k
  for k in $(seq $((secs * 5))); do
    [ "$(mode_of "$i")" = "$want" ] && return 0
    sleep 0.2
  done
  echo "member $i did not reach mode $want within $secs s: $(cluster_modes)" >&2
  return 1
}

# leader_of [SECONDS] : print the member number whose srvr Mode is leader
# (the lowest if, wrongly, several are), waiting (default 30 s) while no
# running member leads (an election in progress: on a loaded machine a
# member may miss its heartbeats and the ensemble re-elect between two
# steps of a test); print nothing and return 1 if none led in that time.
leader_of() {
  local secs=${1:-30} i k
  for k in $(seq $((secs * 4))); do
    for i in $(seq "$CL_N"); do
      [ -n "${CL_PID[$i]}" ] || continue
      [ "$(mode_of "$i")" = leader ] && { echo "$i"; return 0; }
    done
    sleep 0.25
  done
  echo "no member led within $secs s: $(cluster_modes)" >&2
  return 1
}

# count_leaders : number of running members whose Mode is leader.
count_leaders() {
  local i c=0
  for i in $(seq "$CL_N"); do
    [ -n "${CL_PID[$i]}" ] || continue
    if [ "$(mode_of "$i")" = leader ]; then c=$((c + 1)); fi
  done
  echo "$c"
}

# wait_cluster_ready [SECONDS] : wait (default 30 s) until, among the running
# members, exactly one leads and every other follows (voters) or observes
# (observers).  Returns 1 on timeout.
wait_cluster_ready() {
  local secs=${1:-30} k i m ok leaders
  for k in $(seq $((secs * 4))); do
    ok=1; leaders=0
    for i in $(seq "$CL_N"); do
      [ -n "${CL_PID[$i]}" ] || continue
      m=$(mode_of "$i")
      case "$m" in
        leader) leaders=$((leaders + 1)) ;;
        follower) [ "${CL_OBSERVER[$i]}" = 0 ] || ok=0 ;;
        observer) [ "${CL_OBSERVER[$i]}" = 1 ] || ok=0 ;;
        *) ok=0 ;;
      esac
    done
    [ "$ok" = 1 ] && [ "$leaders" = 1 ] && return 0
    sleep 0.25
  done
  echo "ensemble not ready within $secs s: $(cluster_modes)" >&2
  return 1
}

# member_hosts [I...] : kazoo connect string of the given members (default:
# all), e.g. "127.0.0.1:4001,127.0.0.1:4002".
member_hosts() {
  local -a ids=("$@") out=()
  local i
  [ ${#ids[@]} -gt 0 ] || mapfile -t ids < <(seq "$CL_N")
  for i in "${ids[@]}"; do out+=("127.0.0.1:${CL_CPORT[$i]}"); done
  (IFS=,; echo "${out[*]}")
}

# member_log I : path of member I's server log.
member_log() { echo "${CL_DIR[$1]}/server.log"; }

# py_bg SCRIPT [ARGS...] : run test/integration/SCRIPT with the system
# python in the background (the PID is python's own, so kill -9 of BG_PID
# kills the client itself), tracked for cleanup; sets BG_PID.
py_bg() {
  local script=$1; shift
  "$PY" "$HARNESS_DIR/$script" "$@" &
  BG_PID=$!
  track_pid "$BG_PID"
}

# dump_logs : print the tail of every member's log to stderr (on failure).
dump_logs() {
  local i
  for i in $(seq "$CL_N"); do
    echo "==== member $i ($(mode_of "$i")) ${CL_DIR[$i]}/server.log" >&2
    tail -"${1:-25}" "${CL_DIR[$i]}/server.log" >&2 2>/dev/null || true
  done
}

# cfail MESSAGE... : dump the members' logs, then fail.
cfail() { dump_logs; fail "$@"; }
