#!/usr/bin/env bash
# Runs every test/integration/test_*.sh (or those whose name matches the
# optional FILTER argument, an extended regular expression), each under a timeout, prints "ok"/"FAIL" per
# test (with the log of a failed test) and ends with the line
#   integration: N passed, N failed
# and a table of each test's seconds, slowest first.
# Exit status is non-zero if any test failed.
#
# Up to INTEGRATION_JOBS tests (default 2) run at the same time: most of a
# test's time is spent waiting on timers, sockets and child processes, and
# every test has its own temp dir and reserved ports (harness.sh,
# ports.py).  The tests in ALONE (default below) run with no other test
# beside them, first: they measure or perturb the whole machine (network
# namespaces and packet queues, SIGKILL of a server under a timed write
# load, an attack whose victim's latency is reported).  The others start
# slowest first (the order of SLOW_FIRST, then alphabetical) so the two
# slots end together.  INTEGRATION_JOBS=1 runs everything one at a time,
# in alphabetical order.
#
# The whole log of a failed test is kept in build/integration-failed/
# (build/integration-failed-san/ under SAN=1; INTEGRATION_FAIL_DIR).
#
# Environment: ZK_IMPL=zkserver|apache (default zkserver), SAN=1 to test
# bin/zkserver-san and bin/zkfs-san, TEST_TIMEOUT seconds per test (default
# 300: a hang guard, not a time limit; a test takes 2-3 times its idle
# time on a loaded machine), INTEGRATION_JOBS, ALONE (an extended regular
# expression of test names).
set -u
cd "$(dirname "$0")/.." || exit 1
filter=${1:-}
if [ "${SAN:-0}" = 1 ]; then
  export ZKSERVER=bin/zkserver-san
  export ZKFS_BIN="$PWD/bin/zkfs-san"
fi
export ZK_IMPL=${ZK_IMPL:-zkserver}
per_test=${TEST_TIMEOUT:-300}
jobs=${INTEGRATION_JOBS:-2}
alone=${ALONE:-^test_(chaos|durability|attack_client|attack_peer)$}
# The slowest tests (CI, 2 cores), started first when tests run two at a time.
SLOW_FIRST="test_ensemble_failover test_diff test_ensemble_sessions test_hostile
  test_ensemble_observers test_disk_faults test_reconfig test_zkfs_tools
  test_zkfs_basic test_zkfs_inotify test_quota test_readonly"
logdir=$(mktemp -d /tmp/zkit-logs.XXXXXX)
# The whole log of every failed test is kept here (the output has its end).
faildir=build/integration-failed; [ "${SAN:-0}" = 1 ] && faildir+=-san
faildir=${INTEGRATION_FAIL_DIR:-$faildir}
rm -rf "$faildir"
wall_start=$(date +%s)
pass=0; fail=0
times=()                # "SECONDS NAME STATUS" per test, for the table at the end

# The tests to run: ALONE ones first, then SLOW_FIRST, then the rest.
all=()
for t in test/integration/test_*.sh; do
  name=$(basename "$t" .sh)
  [[ -z "$filter" || "$name" =~ $filter ]] || continue
  all+=("$name")
done
queue=()
if [ "$jobs" -gt 1 ]; then
  for name in "${all[@]}"; do [[ "$name" =~ $alone ]] && queue+=("$name"); done
  for name in $SLOW_FIRST; do
    for n in "${all[@]}"; do
      if [ "$n" = "$name" ] && ! [[ "$n" =~ $alone ]]; then queue+=("$n"); fi
    done
  done
  for name in "${all[@]}"; do
    [[ "$name" =~ $alone ]] && continue
    [[ " $SLOW_FIRST " =~ [[:space:]]$name[[:space:]] ]] && continue
    queue+=("$name")
  done
else
  queue=("${all[@]}")
fi

declare -A running_name=() running_start=()
# report PID RC : print and record the result of the finished test PID.
report() {
  local pid=$1 rc=$2 name=${running_name[$1]} secs why
  secs=$(( $(date +%s) - running_start[$1] ))
  unset "running_name[$pid]" "running_start[$pid]"
  if [ "$rc" = 0 ]; then
    pass=$((pass+1)); echo "  ok    $name (${secs}s)"; times+=("$secs $name ok")
  else
    times+=("$secs $name FAIL")
    fail=$((fail+1))
    [ "$rc" = 124 ] && why="timed out after ${per_test}s" || why="exit $rc"
    mkdir -p "$faildir" && cp "$logdir/$name.log" "$faildir/$name.log"
    echo "  FAIL  $name ($why; the whole log is in $faildir/$name.log; its end follows)"
    sed 's/^/        /' "$logdir/$name.log" | tail -80
  fi
}
# wait_one : wait for any running test to end and report it.
wait_one() {
  local pid rc=0
  wait -n -p pid "${!running_name[@]}" || rc=$?
  report "$pid" "$rc"
}
# Kill the running tests (each is `timeout`, which passes the signal on).
cleanup() {
  local pid
  for pid in "${!running_name[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  wait
  rm -rf "$logdir"
}
trap 'cleanup; exit 143' TERM
trap 'cleanup; exit 130' INT

for name in "${queue[@]}"; do
  if [[ "$name" =~ $alone ]]; then
    while [ ${#running_name[@]} -gt 0 ]; do wait_one; done
    slots=1
  else
    slots=$jobs
  fi
  while [ ${#running_name[@]} -ge "$slots" ]; do wait_one; done
  timeout -k 10 "$per_test" bash "test/integration/$name.sh" >"$logdir/$name.log" 2>&1 &
  running_name[$!]=$name
  running_start[$!]=$(date +%s)
  # An ALONE test ends before the next one starts.
  if [[ "$name" =~ $alone ]]; then wait_one; fi
done
while [ ${#running_name[@]} -gt 0 ]; do wait_one; done
rm -rf "$logdir"
# Per-test wall time, slowest first (where make test's minutes go).
if [ ${#times[@]} -gt 0 ]; then
  echo "integration timing (seconds, slowest first${SAN:+, SAN=$SAN}, $jobs at a time):"
  printf '%s\n' "${times[@]}" | sort -k1,1nr | awk '{ printf "  %5d  %-32s %s\n", $1, $2, $3; t += $1 } END { printf "  %5d  total\n", t }'
  echo "  $(( $(date +%s) - wall_start ))  wall clock"
fi
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
