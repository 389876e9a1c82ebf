#!/usr/bin/env bash
# SPEC section 4's three election scenarios, exactly as written, with the
# default timing (tickTime=2000, initLimit=10, syncLimit=5), checked through
# srvr's Mode line:
#   1. three empty servers started in order 1, 2, 3: 2 leads, 3 follows;
#   2. kill the leader 2: 3 leads;
#   3. write data with 1 and 3 up, stop 1 and 3, restart 1, 2, 3 in order:
#      1 leads (2's zxid is older; 1 and 2 form a quorum first).
source "$(dirname "$0")/cluster.sh"

expect_mode() { wait_mode "$1" "$2" "${3:-30}" || cfail "$4: member $1 is not $2 ($(cluster_modes))"; }

setup_cluster 3

log "scenario 1: start 1, 2, 3 in order"
start_member 1
sleep 1
m=$(mode_of 1)
[ "$m" = none ] || cfail "a lone member must not serve (srvr Mode: $m)"
start_member 2
expect_mode 2 leader 30 "scenario 1"
expect_mode 1 follower 30 "scenario 1"
# A late joiner finds the existing leader: no new epoch (zxid high 32 bits).
epoch_of_write() {
  "$PY" - "$(member_hosts "$1")" "$2" <<'EOF'
import sys
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1], timeout=10); zk.start(timeout=10)
print(zk.create(sys.argv[2], b"", include_data=True)[1].czxid >> 32)
zk.stop(); zk.close()
EOF
}
e_before=$(epoch_of_write 1 /before-3) || cfail "write before 3 joined failed"
start_member 3
expect_mode 3 follower 30 "scenario 1"
e_after=$(epoch_of_write 3 /after-3) || cfail "write after 3 joined failed"
[ "$e_before" = "$e_after" ] || cfail "scenario 1: 3 joining started a new epoch ($e_before -> $e_after)"
[ "$(mode_of 2)" = leader ] || cfail "scenario 1: 2 lost the lead when 3 joined"
log "ok: scenario 1: $(cluster_modes)"
run_py ensemble_util.py create "$(member_hosts 3)" /s1 5 || cfail "write through 3 failed"
for i in 1 2 3; do
  run_py ensemble_util.py check "$(member_hosts "$i")" /s1 5 || cfail "scenario 1 data not on $i"
done

log "scenario 2: kill -9 the leader 2"
kill9_member 2
expect_mode 3 leader 30 "scenario 2"
expect_mode 1 follower 30 "scenario 2"
log "ok: scenario 2: $(cluster_modes)"

log "scenario 3: write with 1 and 3 up, stop 1 and 3, restart 1, 2, 3"
run_py ensemble_util.py create "$(member_hosts 1)" /s3 20 || cfail "write through 1 failed"
run_py ensemble_util.py check "$(member_hosts 3)" /s3 20 || cfail "write not on 3"
stop_member 1
stop_member 3
start_member 1
sleep 1
start_member 2
expect_mode 1 leader 30 "scenario 3"
expect_mode 2 follower 30 "scenario 3"
start_member 3
expect_mode 3 follower 30 "scenario 3"
[ "$(mode_of 1)" = leader ] || cfail "scenario 3: 1 lost the lead when 3 joined"
log "ok: scenario 3: $(cluster_modes)"
for i in 1 2 3; do
  run_py ensemble_util.py check "$(member_hosts "$i")" /s1 5 || cfail "/s1 not on $i after scenario 3"
  run_py ensemble_util.py check "$(member_hosts "$i")" /s3 20 || cfail "/s3 not on $i after scenario 3"
done
finish_cluster
log "all passed"
