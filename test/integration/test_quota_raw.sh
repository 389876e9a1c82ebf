#!/usr/bin/env bash
# Quotas through the raw protocol (quota_ops.py, diff_test.py), Apache
# ZooKeeper 3.8 and bin/zkserver running side by side, both with
# enforceQuota=true (with ZK_IMPL=apache, Apache against Apache).
# 1. Corner cases, the same ops against each, identical output required:
#    a quota on /zookeeper itself (zkCli allows it) counts the quota znodes
#    made after it; a nested quota (zkCli refuses it) takes its subtree
#    from the outer one, which gets it back when the inner limits go; extra
#    StatsTrack keys survive updates; limits under "/zookeeper/quotaX" make
#    "/X" a quota root without stats; limits text that does not parse makes
#    a checked create, setData or whole multi fail with MARSHALLINGERROR.
# 2. The differential test's random operations (diff_test.py --quota, as
#    test_diff.sh runs it) under a quota with hard limits they often reach:
#    replies (-125 included), events and the stats znode after every op
#    must be the same.
source "$(dirname "$0")/harness.sh"
OPS="$HARNESS_DIR/quota_ops.py"
B_KIND=zkserver; [ "$ZK_IMPL" = apache ] && B_KIND=apache
# Both reap empty containers on their own clock: pushed out of the run.
export SERVER_JVMFLAGS="-Dzookeeper.extendedTypesEnabled=true -Dznode.container.checkIntervalMs=86400000"
start_server apache "$TEST_TMP/da" enforceQuota=true extendedTypesEnabled=true
A_PID=$ZK_PID A_PORT=$ZK_PORT A_DIR=$ZK_DIR
start_server "$B_KIND" "$TEST_TMP/db" enforceQuota=true extendedTypesEnabled=true \
  znode.container.checkIntervalMs=86400000

# corner HOST:PORT OUTFILE : the corner-case ops against one server.
corner() {
  timeout 60 "$PY" "$OPS" "$1" c:/a:xy c:/a/b:123 c:/n c:/n/m \
    c:/zookeeper/quota/a "c:/zookeeper/quota/a/zookeeper_limits:count=3,bytes=-1=;byteHardLimit=10;countHardLimit=-1" \
    c:/zookeeper/quota/a/zookeeper_stats:count=0,bytes=0 \
    c:/zookeeper/quota/n "c:/zookeeper/quota/n/zookeeper_limits:count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=7" \
    c:/zookeeper/quota/n/zookeeper_stats:count=0,bytes=0 \
    c:/zookeeper/quota/zookeeper c:/zookeeper/quota/zookeeper/zookeeper_limits:count=100 \
    c:/zookeeper/quota/zookeeper/zookeeper_stats c:/zookeeper/extra:12 \
    c:/zookeeper/quota/n/m "c:/zookeeper/quota/n/m/zookeeper_limits:count=-1,bytes=-1=;byteHardLimit=3" \
    c:/zookeeper/quota/n/m/zookeeper_stats:x c:/n/m/k:1234 c:/n/m/k:12 \
    "s:/zookeeper/quota/n/m/zookeeper_stats:count=2,bytes=2=;x=9;a=1" c:/n/m/j:1 \
    c:/zookeeper/quotaX c:/zookeeper/quotaX/zookeeper_limits:count=1 c:/X:1 \
    s:/zookeeper/quota/a/zookeeper_limits:count= c:/a/g m:/e/h:,/a/i: s:/a:xyz \
    "s:/zookeeper/quota/a/zookeeper_limits:count=3,bytes=-1=;byteHardLimit=10;countHardLimit=-1" \
    c:/a/c:4567 c:/a/d:1234 dump d:/zookeeper/quota/n/m/zookeeper_limits \
    d:/zookeeper/quota/zookeeper/zookeeper_limits d:/zookeeper/quotaX/zookeeper_limits \
    c:/n/m/after c:/n/p c:/n/q c:/zookeeper/extra2 dump > "$2" || fail "quota_ops.py against $1 failed"
}
log "corner cases: apache and $B_KIND"
corner "127.0.0.1:$A_PORT" "$TEST_TMP/corner.apache"
corner "$ZK_HOSTS" "$TEST_TMP/corner.b"
if ! diff -u "$TEST_TMP/corner.apache" "$TEST_TMP/corner.b" > "$TEST_TMP/corner.diff"; then
  cat "$TEST_TMP/corner.diff" >&2
  fail "corner cases: $B_KIND differs from Apache (diff above: - Apache, + $B_KIND)"
fi
for want in "c:/n/m/k:1234 -> -125" "c:/a/g -> -5" "s:/a:xyz -> -5" "c:/a/d:1234 -> -125" \
            "/zookeeper/quota/n/m/zookeeper_stats b'count=3,bytes=3=;a=1;x=9' v=1 len=24 nc=0 mz==cz=False"; do
  grep -q -x -F -- "$want" "$TEST_TMP/corner.apache" || { cat "$TEST_TMP/corner.apache" >&2; fail "missing line: $want"; }
done

log "random operations under a quota (diff_test.py --quota), Apache vs $B_KIND"
rc=0
timeout 300 "$PY" "$HARNESS_DIR/diff_test.py" --a "127.0.0.1:$A_PORT" --b "$ZK_HOSTS" --seed 7 \
  --ops "${QUOTA_DIFF_OPS:-400}" --sessions 3 \
  --quota "count=5,bytes=-1=;byteHardLimit=300;countHardLimit=25" > "$TEST_TMP/qdiff.out" 2>&1 || rc=$?
cat "$TEST_TMP/qdiff.out"
finish_server
ZK_PID=$A_PID ZK_PORT=$A_PORT ZK_DIR=$A_DIR ZK_KIND=apache
finish_server
[ "$rc" = 0 ] || fail "random operations under a quota: $B_KIND differs from Apache (above)"
grep -q -- '-125=' "$TEST_TMP/qdiff.out" || fail "the random operations never hit a hard limit"
log "all passed (corner cases $(wc -l < "$TEST_TMP/corner.apache") lines; seed 7, ${QUOTA_DIFF_OPS:-400} random ops)"
