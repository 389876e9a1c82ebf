#!/usr/bin/env bash
# zxid counter exhaustion (ZOOKEEPER-1277) on real processes: a 3-voter
# zkserver ensemble with the test-only zkfs.test.zxidHeadroom=8 (every epoch
# starts its counter 8 zxids before the limit 0xfffffffe); kazoo writes 40
# znodes through several boundaries.  Every write must be acknowledged and
# readable on every replica, the writes span >= 3 epochs, no counter is
# above 0xfffffffe, and the leaders' logs say they stepped down for it.
# zkserver only: Apache has no such hook (a crafted data dir would be needed).
source "$(dirname "$0")/cluster.sh"

if [ "${ZK_IMPL:-zkfs}" = apache ]; then
  log "skipped for Apache (zkfs.test.zxidHeadroom is a zkserver test hook)"
  exit 0
fi
CLUSTER_CFG="tickTime=500 initLimit=10 syncLimit=5 zkfs.test.zxidHeadroom=8"
start_cluster 3
run_py ensemble_rollover.py "$(member_hosts 1 2 3)" 40 \
  "$(member_hosts 1)" "$(member_hosts 2)" "$(member_hosts 3)" || cfail "rollover writes failed"
n=$(cat "${CL_DIR[1]}/server.log" "${CL_DIR[2]}/server.log" "${CL_DIR[3]}/server.log" \
    | grep -c "zxid counter used up" || true)
log "step-downs for a used-up counter in the logs: $n"
[ "$n" -ge 2 ] || cfail "expected >= 2 counter step-downs in the logs, saw $n"
finish_cluster
log "PASS"
