#!/usr/bin/env bash
# Syncing learners on a 3-voter ensemble:
#   1. A learner's forwarded sync queued ahead of a forwarded write, while
#      the leader has proposals in flight (ensemble_sync_race.py): every
#      request is answered, in order.  Found by the chaos test
#      (docs/chaos-testing.md): the learner used to stop answering
#      forwarded requests for good.
#   2. DIFF from the leader's on-disk log: with 2 MB in the tree, a
#      follower stopped during 2000 small writes (twice the leader's
#      1000-proposal in-memory history; the log since then well under
#      zookeeper.snapshotSizeFactor 0.33 of the snapshot) is DIFFed from the
#      log: the leader logs reading it, the follower logs "synced with
#      leader N by DIFF" (no snapshot install) and has every write.
#      (snapCount=800 snapshots every 401 txns; autopurge.snapRetainCount=10
#      keeps the logs of 10 of them, as zkserver purges after each snapshot.)
source "$(dirname "$0")/cluster.sh"
CLUSTER_CFG="tickTime=500 snapCount=800 autopurge.snapRetainCount=10"
start_cluster 3
L=$(leader_of) || cfail "no leader"
# 2 MB for step 2's snapshot; step 1's 600 txns roll the log past it
run_py ensemble_util.py create "$(member_hosts "$L")" /ballast 20 n 102400 || cfail "ballast writes failed"
F=1; [ "$L" = 1 ] && F=2
log "leader $L, follower $F: 300 sync+create pairs through $F under load on $L"
run_py ensemble_sync_race.py "$(member_hosts "$L")" "$(member_hosts "$F")" 300 \
  || cfail "a forwarded request was never answered"
run_py ensemble_verify.py "$(member_hosts 1)" "$(member_hosts 2)" "$(member_hosts 3)" \
  || cfail "replicas differ"
log "ok: 1"

lines_of() { wc -l < "$(member_log "$1")"; }
log_since() { tail -n +"$(( $2 + 1 ))" "$(member_log "$1")"; }
L=$(leader_of) || cfail "no leader"
F=1; [ "$L" = 1 ] && F=2
log "2: stop follower $F, 2000 writes, restart it (expect a DIFF from the leader's log)"
stop_member "$F"
run_py ensemble_util.py create "$(member_hosts "$L")" /logdiff 2000 || cfail "2: writes failed"
n=$(lines_of "$F")
nl=$(lines_of "$L")
restart_member "$F"
wait_cluster_ready 30 || cfail "2: $F did not rejoin"
if [ "$ZK_IMPL" = apache ]; then
  # Apache counts whole preallocated log files against the limit: often a SNAP
  log "2: $F synced by $(log_since "$F" "$n" | grep -o "Getting a [a-z]* from the leader" | tail -1 || true)"
else
  synced=""
  for k in $(seq 100); do   # logged once it serves (bounded: 20 s)
    synced=$(log_since "$F" "$n" | grep -o "synced with leader [0-9]* by [A-Z]*" | tail -1 || true)
    [ -n "$synced" ] && break
    sleep 0.2
  done
  log "2: $F $synced"
  [ "$synced" = "synced with leader $L by DIFF" ] || cfail "2: expected a DIFF, $F logged '$synced'"
  ! log_since "$F" "$n" | grep -q "installed the leader's snapshot" || cfail "2: $F installed a snapshot"
  log_since "$L" "$nl" | grep -q "reading the log after .* to DIFF server $F" \
    || cfail "2: the leader did not DIFF $F from its log: $(log_since "$L" "$nl" | grep "server $F" | tail -3)"
  log "2: leader: $(log_since "$L" "$nl" | grep -o "reading the log after .*" | tail -1)"
fi
run_py ensemble_util.py check "$(member_hosts "$F")" /logdiff 2000 || cfail "2: $F misses writes"
log "ok: 2"
finish_cluster
log "all passed"
