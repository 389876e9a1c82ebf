#!/usr/bin/env bash
# The short version of `make chaos` (docs/chaos-testing.md): one fixed
# schedule (seed CHAOS_SEED: default 1 for bin/zkserver, 2 for the ASan
# build, so the two runs of make test see different faults) of 15 s of
# short random faults (partitions, one-way loss, packet loss/delay/reorder,
# flapping links, kill -9, SIGSTOP, whole-ensemble crash, disk faults)
# against 3 replicas in network namespaces, with every checker
# (linearizable CAS register, unique creates, queues, FIFO, watch streams,
# session expiry, one leader per epoch, identical replicas).  Runs the
# server named by $ZKSERVER (run-integration.sh's SAN=1 sets
# bin/zkserver-san).  Needs root; skipped otherwise.
source "$(dirname "$0")/harness.sh"
[ "$ZK_IMPL" = zkserver ] || { log "skipped: zkserver-specific"; exit 0; }
if [ "$(id -u)" != 0 ]; then log "skipped: needs root (network namespaces)"; exit 0; fi
for tool in libfaultfs.so nfq-delay chaos-client; do
  [ -e "$REPO_ROOT/build/chaos/$tool" ] || fail "build/chaos/$tool not built (make build/chaos/$tool)"
done
"$PY" "$REPO_ROOT/test/chaos/lincheck.py" || fail "the linearizability checker's self-test failed"
(cd "$REPO_ROOT/test/chaos" && "$PY" checkers.py) || fail "the ephemerals checker's self-test failed"
# The driver cleans up itself (its processes by PID, its namespaces by
# name) on exit, SIGTERM and SIGINT, and its children die with it; should it
# be SIGKILLed, this trap removes the namespaces named with our tag.
export CHAOS_TAG="zt$$"
CHAOS_PID=""
_chaos_cleanup() {
  local rc=$? ns
  set +e
  [ -n "$CHAOS_PID" ] && _kill_pid "$CHAOS_PID"
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$CHAOS_TAG"); do
    ip netns del "$ns"
  done
  (exit "$rc")
  _harness_cleanup
}
trap _chaos_cleanup EXIT
seed=1; case "$ZKSERVER" in *-san) seed=2 ;; esac
"$PY" "$REPO_ROOT/test/chaos/chaos.py" --short --clean-passed --server "$ZKSERVER" --schedules "${CHAOS_SCHEDULES:-1}" \
  --seed "${CHAOS_SEED:-$seed}" --duration "${CHAOS_DURATION:-15}" &
CHAOS_PID=$!
track_pid "$CHAOS_PID"
wait "$CHAOS_PID" || fail "chaos schedules found anomalies (see above)"
log "all passed"
