#!/usr/bin/env bash
# Quota stats on every replica of a 3-member ensemble (enforceQuota=true):
# a quota set up through a follower (the znodes zkCli setquota creates),
# creates/sets/deletes/an ephemeral through the leader and a follower, a
# create past the hard limit refused with -125 through a follower, then a
# follower stopped while more writes and snapshots happen and restarted
# (it syncs from the leader and loads the snapshot it gets or has).  The
# /zookeeper/quota subtree must be the same bytes on every member: the stats
# znode is rewritten as a side effect of applying each transaction, never by
# a transaction of its own.
source "$(dirname "$0")/cluster.sh"
CLUSTER_CFG="tickTime=500 snapCount=4 enforceQuota=true"
OPS="$HARNESS_DIR/quota_ops.py"
start_cluster 3
L=$(leader_of) || cfail "no leader"
F=1; [ "$L" = 1 ] && F=2
G=3; [ "$L" = 3 ] && G=2
log "leader $L, followers $F and $G"

# ops MEMBER ARGS... : quota_ops.py against one member, output kept in $OUT.
OUT="$TEST_TMP/ops.out"
ops() {
  local m=$1; shift
  timeout 60 "$PY" "$OPS" "$(member_hosts "$m")" "$@" >> "$OUT" || cfail "quota_ops.py $* on member $m failed"
}
expect_line() { grep -q -x -F -- "$1" "$OUT" || { cat "$OUT" >&2; cfail "missing line: $1"; }; }
# same_dumps : every running member's /zookeeper/quota dump is the same.
same_dumps() {
  local i first=""
  for i in $(seq "$CL_N"); do
    timeout 60 "$PY" "$OPS" "$(member_hosts "$i")" dump > "$TEST_TMP/dump.$i" || cfail "dump of member $i failed"
    if [ -z "$first" ]; then first=$i; continue; fi
    diff -u "$TEST_TMP/dump.$first" "$TEST_TMP/dump.$i" >&2 || cfail "member $i's quota subtree differs from member $first's"
  done
}

ops "$F" c:/q:ab c:/q/x:123 c:/zookeeper/quota/q \
    "c:/zookeeper/quota/q/zookeeper_limits:count=2,bytes=-1=;byteHardLimit=-1;countHardLimit=6" \
    c:/zookeeper/quota/q/zookeeper_stats:count=0,bytes=0
ops "$L" c:/q/1:1234 s:/q/x:1 e:/q/eph:zz
ops "$F" c:/q/2:5 d:/q/1 c:/q/3 c:/q/4 c:/q/5 c:/q/6
expect_line "c:/q/6 -> -125"
same_dumps
grep -q -x -F "/zookeeper/quota/q/zookeeper_stats b'count=6,bytes=4' v=0 len=15 nc=0 mz==cz=True" "$TEST_TMP/dump.1" \
  || { cat "$TEST_TMP/dump.1" >&2; cfail "unexpected stats"; }
log "stats the same on all members; follower $G stopped, writes go on"
stop_member "$G"
ops "$L" d:/q/3 c:/q/7:abcdef s:/q:0123456789 d:/q/4 c:/q/8 c:/r1 c:/r2 c:/r3 c:/r4 c:/r5
restart_member "$G"
wait_cluster_ready 60 || cfail "member $G did not rejoin: $(cluster_modes)"
same_dumps
grep -q -x -F "/zookeeper/quota/q/zookeeper_stats b'count=6,bytes=18' v=0 len=16 nc=0 mz==cz=True" "$TEST_TMP/dump.$G" \
  || { cat "$TEST_TMP/dump.$G" >&2; cfail "unexpected stats on the restarted member"; }
finish_cluster
log "all passed"
