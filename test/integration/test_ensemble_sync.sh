#!/usr/bin/env bash
# A learner's forwarded sync queued ahead of a forwarded write, while the
# leader has proposals in flight (ensemble_sync_race.py): every request is
# answered, in order.  Found by the chaos test (docs/chaos-testing.md): the
# learner used to stop answering forwarded requests for good.
source "$(dirname "$0")/cluster.sh"
CLUSTER_CFG="tickTime=500"
start_cluster 3
L=$(leader_of) || cfail "no leader"
F=1; [ "$L" = 1 ] && F=2
log "leader $L, follower $F: 300 sync+create pairs through $F under load on $L"
run_py ensemble_sync_race.py "$(member_hosts "$L")" "$(member_hosts "$F")" 300 \
  || cfail "a forwarded request was never answered"
run_py ensemble_verify.py "$(member_hosts 1)" "$(member_hosts 2)" "$(member_hosts 3)" \
  || cfail "replicas differ"
finish_cluster
log "all passed"
