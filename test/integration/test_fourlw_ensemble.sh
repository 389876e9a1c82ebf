#!/usr/bin/env bash
# test_fourlw_ensemble.sh — the four-letter words of ensemble members
# compared with Apache ZooKeeper 3.8's captures
# test/vectors/fourlw/{looking,leader,follower,observer}-*.txt, which
# capture.py --ensemble took from a 2-voter + 1-observer ensemble.  Same
# topology here: servers 1 and 2 vote, 3 observes, every server.N line with
# a ";127.0.0.1:<clientPort>" client part like the captures'.
#
#   1. server 1 alone (no quorum): every word answers as looking-*.txt
#      ("not currently serving requests"), ruok imok, isro null;
#   2. servers 2 and 3 join; a kazoo session on the observer runs the
#      capture's workload; every word of the leader, the follower and the
#      observer is checked against <role>-<word>.txt (fourlw_ensemble.py:
#      same lines, order and keys; values normalised as
#      docs/fourlw-formats.md §13; exact Mode, zk_server_state,
#      zk_peer_state, zk_quorum_size, zk_learners, zk_synced_* ...);
#   3. the follower is stopped: the leader and the observer lose their
#      quorum and answer as looking-*.txt again.
#
# Run from anywhere:  bash test/integration/test_fourlw_ensemble.sh
# Environment: ZKSERVER (default bin/zkserver), ZK_IMPL=apache runs the
# same checks against the Debian Apache ZooKeeper (validates the checker),
# KEEP_TMP=1 keeps the temp dir.  Bounded: free loopback ports, every wait
# has a limit, cluster.sh's trap kills the members by PID and removes the
# temp dir.  Prints "fourlw-ensemble: N passed, N failed"; exit status
# non-zero on failure.

# shellcheck source=cluster.sh
source "$(dirname "$0")/cluster.sh"
set +e   # count failures instead of stopping at the first one

VECTORS="$REPO_ROOT/test/vectors/fourlw"
HELPER="$HARNESS_DIR/fourlw_ensemble.py"
passed=0
failed=0

pass() { passed=$((passed + 1)); echo "ok: $*"; }
failcheck() { failed=$((failed + 1)); echo "FAIL: $*"; }

# finish : print the totals and exit (the EXIT trap stops the members).
finish() {
  echo "fourlw-ensemble: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}

# run_helper ARGS... : runs fourlw_ensemble.py (120 s bound), adds its counts.
run_helper() {
  local out counts
  out=$(timeout -k 5 120 "$PY" "$HELPER" "$@" 2>&1)
  echo "$out" | grep -v '^COUNTS '
  counts=$(echo "$out" | sed -n 's/^COUNTS //p' | tail -1)
  if [ -z "$counts" ]; then
    failcheck "fourlw_ensemble.py $1 did not finish"
    return
  fi
  passed=$((passed + ${counts% *}))
  failed=$((failed + ${counts#* }))
}

# stop_counted I : stop member I (cluster.sh's stop_member, which exits on
# a sanitizer report, runs in a subshell so that the report is counted as
# a failure and the totals are still printed); reaps it here.
stop_counted() {
  local i=$1 pid=${CL_PID[$1]}
  [ -n "$pid" ] || return 0
  if ( stop_member "$i" ); then
    pass "member $i stopped cleanly, no sanitizer report"
  else
    failcheck "member $i: stop or sanitizer check failed"
  fi
  wait "$pid" 2>/dev/null
  CL_PID[$i]=""
}

# member_arg I : "SID:ROLE:CPORT:QPORT:EPORT" of member I for the helper.
member_arg() {
  echo "$1:$(mode_of "$1"):${CL_CPORT[$1]}:${CL_QPORT[$1]}:${CL_EPORT[$1]}"
}

# The configuration: cluster.sh's, plus the capture's client part on every
# server.N line (conf prints it back in the membership).
setup_cluster 3 3
for i in 1 2 3; do
  for j in 1 2 3; do
    sed -i "s|^\(server\.$j=127\.0\.0\.1:[0-9]*:[0-9]*\(:observer\)\?\)\$|\1;127.0.0.1:${CL_CPORT[$j]}|" \
      "${CL_DIR[$i]}/zoo.cfg"
  done
done
if [ "$(grep -c ';127.0.0.1:' "${CL_DIR[1]}/zoo.cfg")" = 3 ]; then
  pass "server.N lines carry a client part"
else
  failcheck "server.N lines carry a client part: $(grep '^server' "${CL_DIR[1]}/zoo.cfg")"
fi

# 1. server 1 alone: no quorum.
start_member 1
sleep 2
run_helper looking "$VECTORS" "server 1 alone" "${CL_CPORT[1]}"

# 2. the formed ensemble.
start_member 2
start_member 3
if ! wait_cluster_ready 60; then
  failcheck "the ensemble did not form: $(cluster_modes)"
  dump_logs
  finish
fi
pass "ensemble formed: $(cluster_modes)"
run_helper formed "$VECTORS" "$(member_arg 1)" "$(member_arg 2)" "$(member_arg 3)"

# 3. stop the follower: the leader has no quorum left, the observer no leader.
leader=$(leader_of)
follower=""
for i in 1 2; do [ "$i" != "$leader" ] && follower=$i; done
if [ -z "$leader" ] || [ -z "$follower" ]; then
  failcheck "no leader/follower to stop: $(cluster_modes)"
  finish
fi
stop_counted "$follower"
if wait_mode "$leader" none 30; then
  pass "leader (server $leader) stops serving without its follower"
  run_helper looking "$VECTORS" "former leader (server $leader)" "${CL_CPORT[$leader]}"
else
  failcheck "leader (server $leader) still serving without a quorum: $(cluster_modes)"
fi
if wait_mode 3 none 30; then
  pass "observer stops serving without a leader"
  run_helper looking "$VECTORS" "observer without a leader" "${CL_CPORT[3]}"
else
  failcheck "observer still serving without a leader: $(cluster_modes)"
fi

for i in 1 2 3; do
  if [ -n "${CL_PID[$i]}" ] && ! kill -0 "${CL_PID[$i]}" 2>/dev/null; then
    failcheck "member $i died"
    tail -30 "${CL_DIR[$i]}/server.log"
  fi
done
for i in 1 2 3; do stop_counted "$i"; done
finish
