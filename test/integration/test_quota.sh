#!/usr/bin/env bash
# Quotas (issue 12 item 3) against Apache ZooKeeper 3.8 and bin/zkserver,
# side by side: the same steps run against each, and everything they print
# must be identical (with ZK_IMPL=apache only Apache runs).  zkCli.sh
# setquota -n/-b/-N/-B (and its refusals), listquota, delquota (-N and
# whole); the /zookeeper/quota subtree byte for byte (data, version,
# dataLength, and that the stats znode's Stat never moves) after creates,
# sets, deletes, an ephemeral's session ending and a multi; enforceQuota=true
# refusing past hard limits with the raw code -125 (quota_ops.py: kazoo 2.8
# cannot take that code) while soft limits only log ("Quota exceeded" lines
# of both logs compared); a stats znode a client overwrote, recomputed from
# the subtree after a restart (snapshot load), with enforcement then off;
# mntr's quota gauge and counter sets (QuotaMetricsUtils).
source "$(dirname "$0")/harness.sh"

ZKCLI=/usr/share/zookeeper/bin/zkCli.sh
OPS="$HARNESS_DIR/quota_ops.py"

# zkcli NAME < COMMANDS : zkCli.sh batch; stdout+stderr minus banner, SLF4J
# and watcher noise appended to $OUT.
zkcli() {
  local rc=0
  echo "== zkCli $1" >> "$OUT"
  timeout 60 "$ZKCLI" -server "$ZK_HOSTS" > "$TEST_TMP/cli.raw" 2>&1 || rc=$?
  [ "$rc" = 124 ] && fail "zkCli.sh timed out"
  grep -v -E '^(SLF4J:|Connecting to |Welcome to ZooKeeper!|JLine support is|WATCHER::|WatchedEvent state:|$)' \
    "$TEST_TMP/cli.raw" >> "$OUT" || true
}

# ops ARGS... : quota_ops.py against the running server, output to $OUT.
ops() {
  echo "== ops $*" >> "$OUT"
  timeout 60 "$PY" "$OPS" "$ZK_HOSTS" "$@" >> "$OUT" || fail "quota_ops.py $* failed"
}

# expect_line TEXT : $OUT must hold that exact line.
expect_line() {
  grep -q -x -F -- "$1" "$OUT" || { cat "$OUT" >&2; fail "[$KIND] missing line: $1"; }
}

# The "Quota exceeded" messages of the server log (the text after
# "Message:", which both servers log the same), appended to $OUT.
quota_log() {
  echo "== log" >> "$OUT"
  grep -o 'Message:Quota exceeded.*' "$ZK_DIR/server.log" >> "$OUT" || true
}

kinds="apache zkserver"; [ "$ZK_IMPL" = apache ] && kinds=apache
for KIND in $kinds; do
  OUT="$TEST_TMP/out.$KIND"; : > "$OUT"
  start_server "$KIND" "$TEST_TMP/$KIND" enforceQuota=true snapCount=2
  log "[$KIND] setquota / listquota through zkCli.sh"
  ops c:/a:xy c:/a/b:123 c:/n c:/n/m c:/e
  zkcli setquota <<'CMDS'
setquota -n 3 /a
setquota -B 10 /a
setquota -N 5 /n
setquota -b 4 /n/m
setquota -n 3 /zookeeper/quota/x
setquota -n 0 /a
setquota -b 100 /missing
listquota /a
listquota /n
listquota /e
CMDS
  expect_line "Output quota for /a count=3,bytes=-1=;byteHardLimit=10;countHardLimit=-1"
  expect_line "Output stat for /a count=2,bytes=5"
  expect_line "Output quota for /n count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=5"
  ops dump

  log "[$KIND] stats and enforcement (enforceQuota=true)"
  # /a: soft count 3 (only logs), hard bytes 10; /n: hard count 5
  ops c:/a/c:4567 c:/a/d:x c:/a/e s:/a/b:1234567890123 s:/a:x c:/a/f:12 d:/a/c \
      e:/a/eph:zz n:/a/b c:/n/1 c:/n/2 c:/n/3 c:/n/4 m:/n/x:,/n/y: s:/n:1234567
  expect_line "s:/a/b:1234567890123 -> -125"
  expect_line "c:/n/4 -> -125"
  ops dump
  expect_line "/zookeeper/quota/a/zookeeper_stats b'count=4,bytes=2' v=0 len=15 nc=0 mz==cz=True"
  zkcli exceeded <<'CMDS'
create /n/5 x
set /a/b 0123456789
listquota /n
CMDS
  quota_log
  expect_line "Message:Quota exceeded: /a [current bytes=20, hardByteLimit=10] Value:null"
  echo "== mntr quota lines" >> "$OUT"
  # approximate_data_size does not follow the stats znodes' rewrites
  four_letter mntr | grep -E 'quota|approximate_data_size' >> "$OUT" || true
  expect_line "zk_a_quota_bytes_limit_per_namespace	10"
  expect_line "zk_n_quota_exceeded_error_per_namespace	3"

  log "[$KIND] a stats znode overwritten by a client"
  # (the restarts below must correct it: recomputed from the tree)
  ops s:/zookeeper/quota/n/zookeeper_stats:count=0,bytes=0 c:/n/4 c:/n/5 c:/n/6 c:/n/7
  ops dump
  log "[$KIND] quota corner cases through the raw protocol"
  # a quota on /zookeeper itself (zkCli allows it) counts the quota znodes
  # made after it; a nested quota (zkCli refuses it) takes its subtree from
  # the outer one; extra StatsTrack keys survive updates; limits under
  # "/zookeeper/quotaX" make "/X" a quota root without stats; limits text
  # that does not parse makes a checked write (and its whole multi) fail
  # with MARSHALLINGERROR.  Every quota made here is deleted again.
  ops c:/zookeeper/quota/zookeeper c:/zookeeper/quota/zookeeper/zookeeper_limits:count=100 \
      c:/zookeeper/quota/zookeeper/zookeeper_stats c:/zookeeper/extra:12 \
      c:/zookeeper/quota/n/m "c:/zookeeper/quota/n/m/zookeeper_limits:count=-1,bytes=-1=;byteHardLimit=3" \
      c:/zookeeper/quota/n/m/zookeeper_stats:x c:/n/m/k:1234 c:/n/m/k:12 \
      "s:/zookeeper/quota/n/m/zookeeper_stats:count=2,bytes=2=;x=9;a=1" c:/n/m/j:1 \
      c:/zookeeper/quotaX c:/zookeeper/quotaX/zookeeper_limits:count=1 c:/X:1 \
      s:/zookeeper/quota/a/zookeeper_limits:count= c:/a/g m:/e/h:,/a/i: s:/a:xyz \
      "s:/zookeeper/quota/a/zookeeper_limits:count=3,bytes=-1=;byteHardLimit=10;countHardLimit=-1" \
      dump d:/zookeeper/quota/n/m/zookeeper_limits d:/zookeeper/quota/zookeeper/zookeeper_limits \
      d:/zookeeper/quotaX/zookeeper_limits c:/n/m/after c:/zookeeper/extra2 dump \
      d:/zookeeper/quota/n/m/zookeeper_stats d:/zookeeper/quota/n/m \
      d:/zookeeper/quota/zookeeper/zookeeper_stats d:/zookeeper/quota/zookeeper d:/zookeeper/quotaX
  expect_line "c:/n/m/k:1234 -> -125"
  expect_line "c:/a/g -> -5"
  expect_line "/zookeeper/quota/n/m/zookeeper_stats b'count=3,bytes=3=;a=1;x=9' v=1 len=24 nc=0 mz==cz=False"

  log "[$KIND] restarts without enforcement: the stats are recomputed"
  # Which snapshot a restart loads depends on timing (both servers snapshot
  # in the background every snapCount/2 writes, and skip while one is
  # running), and the stats are recomputed from the snapshot's tree and
  # counted on incrementally from the log after it: after the overwritten
  # stats znode and the nested quota above, what the first restart shows
  # depends on where that snapshot was.  Both servers write a snapshot of
  # what they loaded when they start, so the second restart loads the final
  # tree and recomputes /a and /n from it: that is compared.
  stop_server
  grep -v '^enforceQuota=' "$ZK_DIR/zoo.cfg" > "$ZK_DIR/zoo.cfg.new"
  mv "$ZK_DIR/zoo.cfg.new" "$ZK_DIR/zoo.cfg"
  restart_server
  timeout 60 "$PY" "$OPS" "$ZK_HOSTS" dump > /dev/null || fail "dump after the first restart failed"
  stop_server
  restart_server
  echo "== after restart" >> "$OUT"
  ops dump
  expect_line "/zookeeper/quota/n/zookeeper_stats b'count=12,bytes=10' v=1 len=17 nc=0 mz==cz=False"
  ops c:/n/8 s:/a/b:0123456789abcdef
  expect_line "s:/a/b:0123456789abcdef -> 0"

  log "[$KIND] delquota"
  zkcli delquota <<'CMDS'
delquota -N /n
listquota /n
delquota /a
listquota /a
delquota /e
CMDS
  ops c:/a/after:1 c:/n/9 dump
  expect_line "quota for /a does not exist."
  quota_log    # nothing new: without enforceQuota there is no check and no log
  finish_server
done

if [ "$kinds" != apache ]; then
  if ! diff -u "$TEST_TMP/out.apache" "$TEST_TMP/out.zkserver" > "$TEST_TMP/diff"; then
    cat "$TEST_TMP/diff" >&2
    fail "zkserver's quota behaviour differs from Apache's (diff above: - Apache, + zkserver)"
  fi
  # The differential test's random operations (diff_test.py, as test_diff.sh
  # runs it) under a quota with hard limits that they often hit: replies,
  # events and the stats znode after every op must be the same.
  log "random operations under a quota (diff_test.py --quota), Apache vs zkserver"
  SERVER_JVMFLAGS="-Dzookeeper.extendedTypesEnabled=true -Dznode.container.checkIntervalMs=86400000" \
    start_server apache "$TEST_TMP/da" enforceQuota=true extendedTypesEnabled=true
  A_PID=$ZK_PID A_PORT=$ZK_PORT A_DIR=$ZK_DIR
  start_server zkserver "$TEST_TMP/db" enforceQuota=true extendedTypesEnabled=true \
    znode.container.checkIntervalMs=86400000
  rc=0
  timeout 300 "$PY" "$HARNESS_DIR/diff_test.py" --a "127.0.0.1:$A_PORT" --b "$ZK_HOSTS" --seed 7 \
    --ops "${QUOTA_DIFF_OPS:-400}" --sessions 3 \
    --quota "count=5,bytes=-1=;byteHardLimit=300;countHardLimit=25" > "$TEST_TMP/qdiff.out" 2>&1 || rc=$?
  cat "$TEST_TMP/qdiff.out"
  finish_server
  ZK_PID=$A_PID ZK_PORT=$A_PORT ZK_DIR=$A_DIR ZK_KIND=apache
  finish_server
  [ "$rc" = 0 ] || fail "random operations under a quota: zkserver differs from Apache (above)"
  grep -q -- '-125=' "$TEST_TMP/qdiff.out" || fail "the random operations never hit a hard limit"
fi
log "all passed ($(wc -l < "$TEST_TMP/out.apache") lines of output; servers: $kinds)"
