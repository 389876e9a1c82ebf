#!/usr/bin/env bash
# test_zktool_apache.sh — zktool against a real Apache ZooKeeper 3.8 data
# directory, side by side with Apache's own tools and servers:
#  1. Apache serves a workload of every transaction type (zktool_data.py)
#     with small snapCount, so its dataDir holds many snapshots and logs;
#     one session with ephemerals is left alive.
#  2. zktool log (both formats) and zktool snapshot (plain, -d, --json) of
#     every file print exactly what TxnLogToolkit, the 3.5 LogFormatter and
#     SnapshotFormatter print; zktool verify finds the dir clean.
#  3. zktool import converts it; zkserver serves exactly Apache's view
#     (tree, stats, ACLs, data, sessions with ephemerals) and the live
#     session resumes on zkserver with its ephemerals.
#  4. zktool export converts zkserver's dir back; Apache 3.8 loads it
#     (checking our tree digest) and serves exactly zkserver's view;
#     TxnLogToolkit prints the exported log as zktool prints zkserver's.
source "$(dirname "$0")/harness.sh"
source "$HARNESS_DIR/zktool_lib.sh"

# preAllocSize: Apache's log files stay small (64 KiB instead of 64 MiB).
CFG=("extendedTypesEnabled=true" "snapCount=20" "maxSessionTimeout=60000" "preAllocSize=64")

log "Apache serves the workload"
start_server apache "$TEST_TMP/apache" "${CFG[@]}"
run_py zktool_data.py workload "$ZK_HOSTS" "$TEST_TMP/session" || fail "workload failed"
run_py zktool_data.py view "$ZK_HOSTS" > "$TEST_TMP/apache.view" || fail "view failed"
stop_server
V2="$TEST_TMP/apache/data/version-2"
logs=("$V2"/log.*); snaps=("$V2"/snapshot.*)
[ ${#logs[@]} -ge 4 ] && [ ${#snaps[@]} -ge 4 ] || fail "expected several logs and snapshots, got ${#logs[@]} and ${#snaps[@]}"

log "zktool log/snapshot vs Apache's tools on ${#logs[@]} logs and ${#snaps[@]} snapshots"
OUT="$TEST_TMP/out"; mkdir -p "$OUT"
args=()
for f in "${logs[@]}"; do b=$(basename "$f"); args+=(toolkit "$f" "$OUT/$b.tk" logformatter "$f" "$OUT/$b.lf"); done
for f in "${snaps[@]}"; do b=$(basename "$f"); args+=(snapshot "$f" "$OUT/$b.sf" snapshot-d "$f" "$OUT/$b.sfd"); done
newest=$(for f in "${snaps[@]}"; do echo "$((16#${f##*.})) $f"; done | sort -n | tail -1 | cut -d' ' -f2)
args+=(snapshot-json "$newest" "$OUT/newest.json")
apache_tools "${args[@]}"
lines=0
for f in "${logs[@]}"; do
  b=$(basename "$f")
  "$ZKTOOL" log "$f" > "$OUT/$b.mine.tk" || fail "zktool log $f failed"
  same_output "zktool log $b" "$OUT/$b.mine.tk" "$OUT/$b.tk"
  "$ZKTOOL" log --format=logformatter "$f" > "$OUT/$b.mine.lf" || fail "zktool log --format=logformatter $f failed"
  # Java's println after a toString() that ends in a newline leaves empty lines.
  grep -v '^$' "$OUT/$b.lf" > "$OUT/$b.lf.nonempty" || true
  same_output "zktool log --format=logformatter $b" "$OUT/$b.mine.lf" "$OUT/$b.lf.nonempty"
  lines=$((lines + $(wc -l < "$OUT/$b.tk")))
done
grep -q "multi " "$OUT"/*.tk || fail "the logs hold no multi"
grep -q "createTtl " "$OUT"/*.tk && grep -q "createContainer " "$OUT"/*.tk || fail "no TTL or container txn"
for f in "${snaps[@]}"; do
  b=$(basename "$f")
  "$ZKTOOL" snapshot "$f" > "$OUT/$b.mine.sf" || fail "zktool snapshot $f failed"
  same_output "zktool snapshot $b" "$OUT/$b.mine.sf" "$OUT/$b.sf"
  "$ZKTOOL" snapshot -d "$f" > "$OUT/$b.mine.sfd" || fail "zktool snapshot -d $f failed"
  same_output "zktool snapshot -d $b" "$OUT/$b.mine.sfd" "$OUT/$b.sfd"
  lines=$((lines + $(wc -l < "$OUT/$b.sf")))
done
"$ZKTOOL" snapshot --json "$newest" | sed 's/"timestamp":[0-9]*/"timestamp":T/' > "$OUT/mine.json"
sed 's/"timestamp":[0-9]*/"timestamp":T/' "$OUT/newest.json" > "$OUT/theirs.json"
same_output "zktool snapshot --json" "$OUT/mine.json" "$OUT/theirs.json"
sessions=$(sed -n '/^Session Details/,/^----/p' "$OUT/$(basename "$newest").sf" | grep -c '^0x')
[ "$sessions" -ge 13 ] || fail "the newest snapshot has only $sessions sessions (want > 12: HashMap resizing)"
log "identical: $lines lines ($sessions sessions in the newest snapshot)"
zktool_expect 0 verify "$TEST_TMP/apache/data"
grep -q '^clean$' "$TEST_TMP/zktool.out" || fail "verify did not say clean"

log "import into a zkserver dataDir; zkserver serves Apache's view"
zktool_expect 0 import "$TEST_TMP/apache/data" "$TEST_TMP/zk"
grep -q "tree digest .* matches the one Apache recorded" "$TEST_TMP/zktool.out" || fail "no digest check: $(cat "$TEST_TMP/zktool.out")"
cat "$TEST_TMP/zktool.out"
mkdir -p "$TEST_TMP/zkserver"
start_server zkserver "$TEST_TMP/zkserver" "dataDir=$TEST_TMP/zk" "${CFG[@]}"
run_py zktool_data.py view "$ZK_HOSTS" > "$TEST_TMP/zk.view" || fail "view of zkserver failed"
same_output "the view of the imported database" "$TEST_TMP/zk.view" "$TEST_TMP/apache.view"
run_py zktool_data.py resume "$ZK_HOSTS" "$TEST_TMP/session" > "$TEST_TMP/resume.out" || fail "session resume failed: $(cat "$TEST_TMP/resume.out")"
grep -q "ephemerals \['/held', '/held-seq-[0-9]\{10\}', '/queue/held-lock'\]" "$TEST_TMP/resume.out" \
  || fail "resumed session lost its ephemerals: $(cat "$TEST_TMP/resume.out")"
cat "$TEST_TMP/resume.out"
run_py zktool_data.py view "$ZK_HOSTS" > "$TEST_TMP/zk-after.view" || fail "view failed"
grep -q '^/held ' "$TEST_TMP/zk-after.view" && fail "closing the resumed session left its ephemerals"
finish_server

log "export back to Apache; Apache 3.8 serves zkserver's view"
zktool_expect 0 export "$TEST_TMP/zk" "$TEST_TMP/exported"
cat "$TEST_TMP/zktool.out"
zktool_expect 0 compare "$TEST_TMP/zk" "$TEST_TMP/exported"
grep -q '^identical$' "$TEST_TMP/zktool.out" || fail "compare: $(cat "$TEST_TMP/zktool.out")"
elog=$(ls "$TEST_TMP/exported/version-2"/log.*)
apache_tools toolkit "$elog" "$OUT/exported.tk"
"$ZKTOOL" log "$TEST_TMP/zk" > "$OUT/zk.tk" || fail "zktool log of zkserver's dir failed"
txn_lines "$OUT/exported.tk" > "$OUT/exported.txns"; txn_lines "$OUT/zk.tk" > "$OUT/zk.txns"
[ -s "$OUT/zk.txns" ] || fail "zkserver's log is empty"
same_output "TxnLogToolkit on the exported log vs zktool on zkserver's" "$OUT/zk.txns" "$OUT/exported.txns"
mkdir -p "$TEST_TMP/apache2"
start_server apache "$TEST_TMP/apache2" "dataDir=$TEST_TMP/exported" "${CFG[@]}"
run_py zktool_data.py view "$ZK_HOSTS" > "$TEST_TMP/apache2.view" || fail "view of Apache on the export failed"
same_output "Apache serving the exported database" "$TEST_TMP/apache2.view" "$TEST_TMP/zk-after.view"
finish_server
grep -q "The digest in the snapshot has digest version of 2" "$ZK_DIR/server.log" || fail "Apache did not read our digest"
grep -qi "digests are not matching\|digest mismatch" "$ZK_DIR/server.log" && fail "Apache found a digest mismatch in the export"
log "ok"
