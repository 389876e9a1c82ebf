#!/usr/bin/env bash
# test_zktool.sh — zktool on zkserver's own data directories:
#  1. log / snapshot / verify of a dataDir zkserver wrote (workload of every
#     transaction type, several snapshots and log files);
#  2. export, then Apache's TxnLogToolkit and SnapshotFormatter read the
#     exported files exactly as zktool prints them; compare finds the
#     export identical, and finds the differences of a rolled-back copy;
#  3. a corrupt record in the middle of the log: verify reports that
#     zkserver refuses to start (and it does), truncate --dry-run changes
#     nothing, truncate keeps a byte-exact backup and cuts, and zkserver
#     then starts at the last valid zxid verify reported;
#  4. hostile copies of every file (flips, cuts, garbage): every command
#     exits 0, 1 or 2 and never crashes (under ASan when bin/zktool-san
#     is built).
source "$(dirname "$0")/harness.sh"
source "$HARNESS_DIR/zktool_lib.sh"

# preAllocSize: small log files, quick to copy.
CFG=("extendedTypesEnabled=true" "snapCount=20" "maxSessionTimeout=60000" "preAllocSize=64" "autopurge.snapRetainCount=100")
log "zkserver serves the workload"
start_server zkserver "$TEST_TMP/zks" "${CFG[@]}"
# zkserver removes the log files older than its oldest snapshot after each
# snapshot, and when the first snapshot of the workload comes depends on
# the load (in CI once it came after the setACL, whose log was then gone).
# A snapshot of two transactions first: everything the workload writes is
# then newer than the oldest snapshot, and every log of it is kept.
run_py zktool_data.py session "$ZK_HOSTS" || fail "first session failed"
stop_server
restart_server
for _ in $(seq 100); do
  ls "$TEST_TMP/zks/data/zkfs-v1"/snapshot.* > /dev/null 2>&1 && break
  sleep 0.1
done
ls "$TEST_TMP/zks/data/zkfs-v1"/snapshot.* > /dev/null 2>&1 || fail "no snapshot after the restart: $(ls "$TEST_TMP/zks/data/zkfs-v1")"
run_py zktool_data.py workload "$ZK_HOSTS" "$TEST_TMP/session" || fail "workload failed"
# A restart: a snapshot of what was replayed and a new log file, whatever
# the snapshots during the workload did (they depend on timing).
stop_server
restart_server
run_py zktool_data.py view "$ZK_HOSTS" > /dev/null || fail "view failed"
finish_server
D="$TEST_TMP/zks/data"
Z="$D/zkfs-v1"
nlogs=$(ls "$Z"/log.* | wc -l); nsnaps=$(ls "$Z"/snapshot.* | wc -l)
[ "$nlogs" -ge 2 ] && [ "$nsnaps" -ge 1 ] || fail "expected several logs and a snapshot ($nlogs, $nsnaps)"

log "log, snapshot, verify ($nlogs logs, $nsnaps snapshots)"
zktool_expect 0 log "$D"
cp "$TEST_TMP/zktool.out" "$TEST_TMP/zk.log.txt"
txns=$(txn_lines "$TEST_TMP/zk.log.txt" | grep -a -c ' zxid 0x')
[ "$txns" -ge 60 ] || fail "only $txns transactions printed"
for op in createSession closeSession create setData setACL delete multi error createContainer createTtl; do
  grep -a -q " $op " "$TEST_TMP/zk.log.txt" || fail "no $op in zktool log"
done
zktool_expect 0 snapshot "$D"
grep -q '^ZNode Details (count=' "$TEST_TMP/zktool.out" || fail "snapshot: no znode details"
zktool_expect 0 snapshot --summary "$D"
grep -q '^znodes: ' "$TEST_TMP/zktool.out" || fail "snapshot --summary: $(cat "$TEST_TMP/zktool.out")"
zktool_expect 0 verify "$D"
grep -q '^clean$' "$TEST_TMP/zktool.out" || fail "verify: $(cat "$TEST_TMP/zktool.out")"
last=$(sed -n 's/^last valid zxid: \(0x[0-9a-f]*\).*/\1/p' "$TEST_TMP/zktool.out")

log "export: Apache's tools read it as zktool prints it"
zktool_expect 0 export "$D" "$TEST_TMP/exp"
elog=$(ls "$TEST_TMP/exp/version-2"/log.*); esnap=$(ls "$TEST_TMP/exp/version-2"/snapshot.*)
[ "$esnap" = "$TEST_TMP/exp/version-2/snapshot.${last#0x}" ] || fail "export snapshot $esnap is not at $last"
apache_tools toolkit "$elog" "$TEST_TMP/exp.tk" snapshot "$esnap" "$TEST_TMP/exp.sf" snapshot-d "$esnap" "$TEST_TMP/exp.sfd"
txn_lines "$TEST_TMP/exp.tk" > "$TEST_TMP/exp.txns"; txn_lines "$TEST_TMP/zk.log.txt" > "$TEST_TMP/zk.txns"
same_output "TxnLogToolkit on the export vs zktool log on zkserver's dir" "$TEST_TMP/zk.txns" "$TEST_TMP/exp.txns"
"$ZKTOOL" snapshot "$esnap" > "$TEST_TMP/mine.sf" && "$ZKTOOL" snapshot -d "$esnap" > "$TEST_TMP/mine.sfd" || fail "zktool snapshot of the export"
same_output "SnapshotFormatter on the export" "$TEST_TMP/mine.sf" "$TEST_TMP/exp.sf"
same_output "SnapshotFormatter -d on the export" "$TEST_TMP/mine.sfd" "$TEST_TMP/exp.sfd"
zktool_expect 0 compare "$D" "$TEST_TMP/exp"
grep -q '^identical$' "$TEST_TMP/zktool.out" || fail "compare with the export: $(cat "$TEST_TMP/zktool.out")"

log "compare at a zxid; truncate --zxid rolls back"
# The zxid of a create under /many (before n39's) that is in the log and
# not older than the oldest snapshot: zkserver removes log files older than
# its oldest snapshot after each snapshot, and when the first snapshot
# comes depends on the machine's load (in CI once, every log line of n2x
# was gone and a `grep | head` ended the test without a word).
mid=$(/usr/bin/python3 - "$TEST_TMP/zk.log.txt" "$Z" <<'PY'
import os, re, sys
snaps = [int(n.split('.', 1)[1], 16) for n in os.listdir(sys.argv[2])
         if re.fullmatch(r'snapshot\.[0-9a-f]+', n)]
base = min(snaps) if snaps else 0
for line in open(sys.argv[1], encoding='latin-1'):
    z = re.search(r' zxid (0x[0-9a-f]+) ', line)
    c = re.search(r' create /many/n(\d+),', line)
    if z and c and int(c.group(1)) < 39 and int(z.group(1), 16) >= base:
        print(z.group(1))
        break
PY
)
[ -n "$mid" ] || fail "no create under /many in zktool's log to roll back to ($(grep -a -c ' create /many/' "$TEST_TMP/zk.log.txt" || true) creates; files: $(ls "$Z" | tr '\n' ' '))"
cp -a "$D" "$TEST_TMP/back"
zktool_expect 0 truncate --zxid "$mid" --no-backup "$TEST_TMP/back"
zktool_expect 1 compare "$TEST_TMP/back" "$D"
grep -q '^only in B: /many/n39$' "$TEST_TMP/zktool.out" || fail "compare after the roll back: $(cat "$TEST_TMP/zktool.out")"
grep -q 'differences$' "$TEST_TMP/zktool.out" || fail "compare did not count differences"
zktool_expect 0 compare --zxid "$mid" "$TEST_TMP/back" "$D"
grep -q '^identical$' "$TEST_TMP/zktool.out" || fail "compare --zxid $mid: $(cat "$TEST_TMP/zktool.out")"
grep -q "at zxid $mid " "$TEST_TMP/zktool.out" || fail "compare --zxid did not load the state at $mid"

log "a corrupt record in the middle of the log"
X="$TEST_TMP/x"; cp -a "$D" "$X"
victim=$(ls "$X/zkfs-v1"/log.* | head -1)
read -r off zxid < <(run_py zktool_mutate.py records "$victim" | sed -n 3p)
[ -n "$off" ] || fail "no third record in $victim"
printf '\xff' | dd of="$victim" bs=1 seek=$((off + 20)) conv=notrunc status=none
zktool_expect 1 verify "$X"
grep -q "refuses to start" "$TEST_TMP/zktool.out" || fail "verify did not report the refusal: $(cat "$TEST_TMP/zktool.out")"
after=$(sed -n 's/^last valid zxid: \(0x[0-9a-f]*\).*/\1/p' "$TEST_TMP/zktool.out")
sed "s#^dataDir=.*#dataDir=$X#; s#^clientPort=.*#clientPort=$(free_port)#" "$TEST_TMP/zks/zoo.cfg" > "$TEST_TMP/x.cfg"
rc=0; timeout 20 "$ZKSERVER" "$TEST_TMP/x.cfg" > "$TEST_TMP/x.log" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "corrupt record" "$TEST_TMP/x.log" || fail "zkserver started on a corrupt log (rc $rc): $(tail -3 "$TEST_TMP/x.log")"
md5_before=$(md5sum "$X"/zkfs-v1/* | sort)
zktool_expect 0 truncate --dry-run "$X"
grep -q "^would cut $victim at offset $off$" "$TEST_TMP/zktool.out" || fail "dry run: $(cat "$TEST_TMP/zktool.out")"
[ "$(md5sum "$X"/zkfs-v1/* | sort)" = "$md5_before" ] || fail "the dry run changed files"
zktool_expect 0 truncate --backup "$TEST_TMP/backup" "$X"
grep -q "^cut $victim at offset $off$" "$TEST_TMP/zktool.out" || fail "truncate: $(cat "$TEST_TMP/zktool.out")"
for f in "$TEST_TMP/backup"/*; do
  grep -q "$(md5sum < "$f" | cut -d' ' -f1)" <<< "$md5_before" || fail "backup $f is not a copy of an original file"
done
[ "$(ls "$TEST_TMP/backup" | wc -l)" -ge 2 ] || fail "backup holds $(ls "$TEST_TMP/backup")"
zktool_expect 0 verify "$X"
grep -q '^clean$' "$TEST_TMP/zktool.out" || fail "still damaged after truncate: $(cat "$TEST_TMP/zktool.out")"
grep -q "^last valid zxid: $after " "$TEST_TMP/zktool.out" || fail "last valid zxid changed from $after: $(cat "$TEST_TMP/zktool.out")"
mkdir -p "$TEST_TMP/xs"
start_server zkserver "$TEST_TMP/xs" "dataDir=$X" "${CFG[@]}"
four_letter srvr | grep -q "^Zxid: $after$" || fail "zkserver on the cut log: $(four_letter srvr | grep Zxid) (expected $after)"
finish_server

log "hostile copies of every file"
TOOL="$ZKTOOL"
[ -x "$REPO_ROOT/bin/zktool-san" ] && TOOL="$REPO_ROOT/bin/zktool-san"
files=("$Z"/log.* "$Z"/snapshot.* "$elog" "$esnap")
runs=0
for i in "${!files[@]}"; do
  src=${files[$i]}
  name=$(basename "$src")
  case "$src" in "$Z"/*) sub=zkfs-v1; convert=export ;; *) sub=version-2; convert=import ;; esac
  case "$name" in log.*) dump=log ;; *) dump=snapshot ;; esac
  for seed in 1 2 3; do
    # A directory holding just the damaged file.
    H="$TEST_TMP/h"; rm -rf "$H" "$TEST_TMP/hout"; mkdir -p "$H/$sub"
    run_py zktool_mutate.py $((i * 100 + seed)) "$src" "$H/$sub/$name"
    for cmd in "$dump $H/$sub/$name" "verify $H" "compare $H $TEST_TMP/exp" "$convert $H $TEST_TMP/hout"; do
      rc=0
      # shellcheck disable=SC2086
      ASAN_OPTIONS=detect_leaks=1 "$TOOL" $cmd > "$TEST_TMP/h.out" 2>&1 || rc=$?
      runs=$((runs + 1))
      if [ "$rc" -gt 2 ] || grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$TEST_TMP/h.out"; then
        tail -30 "$TEST_TMP/h.out" >&2
        fail "zktool $cmd on a mutation of $name (seed $((i * 100 + seed))) exited $rc"
      fi
      rm -rf "$TEST_TMP/hout"
    done
  done
done
log "ok ($runs runs on hostile input with $(basename "$TOOL"))"
