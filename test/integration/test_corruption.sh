#!/usr/bin/env bash
# Damaged transaction logs: a torn tail is cut off with a log line and the
# server starts with everything before it; corruption in the middle of the
# log makes the server refuse to start with a message naming the file and
# offset (it must never silently drop acknowledged writes).
source "$(dirname "$0")/harness.sh"
[ "$ZK_IMPL" = zkserver ] || { log "skipped: zkserver-specific"; exit 0; }
start_server zkserver "$TEST_TMP/s" "snapCount=1000000"
cat > "$TEST_TMP/w.py" <<'PY'
import sys
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=10)
if sys.argv[2] == "write":
    zk.ensure_path("/c")
    for i in range(200):
        zk.create(f"/c/n{i:03d}", b"v" * 100)
else:
    n = len(zk.get_children("/c"))
    print(n)
zk.stop()
PY
"$PY" "$TEST_TMP/w.py" "$ZK_HOSTS" write || fail "writes"
stop_server
logf=$(ls "$ZK_DIR"/data/zkfs-v1/log.* | sort | tail -1)
[ -f "$logf" ] || fail "no log file"
# End of data: the last non-zero byte (the rest is preallocated zeros).
end=$("$PY" -c '
import sys
d = open(sys.argv[1], "rb").read()
print(len(d.rstrip(b"\0")))' "$logf")
log "log $logf has $end bytes of data"
cp "$logf" "$TEST_TMP/log.orig"

# 1. Torn tail: cut the last record in half.
"$PY" -c '
import sys
p, end = sys.argv[1], int(sys.argv[2])
with open(p, "r+b") as f:
    f.seek(end - 20); f.write(b"\0" * 20)' "$logf" "$end"
restart_server
n=$("$PY" "$TEST_TMP/w.py" "$ZK_HOSTS" count) || fail "count after torn tail"
[ "$n" -ge 199 ] || fail "torn tail lost more than the torn record: $n nodes"
grep -qiE "torn|truncat|cut" "$ZK_DIR/server.log" || fail "no log line about the torn tail"
log "torn tail: $n of 200 nodes after restart, and a log line says so"
stop_server

# 2. Corruption in the middle: flip a byte a third into the data.
cp "$TEST_TMP/log.orig" "$logf"
rm -f "$ZK_DIR"/data/zkfs-v1/snapshot.*
for f in "$ZK_DIR"/data/zkfs-v1/log.*; do [ "$f" = "$logf" ] || rm -f "$f"; done
"$PY" -c '
import sys
p, end = sys.argv[1], int(sys.argv[2])
with open(p, "r+b") as f:
    f.seek(end // 3); b = f.read(1); f.seek(end // 3); f.write(bytes([b[0] ^ 0xff]))' "$logf" "$end"
: > "$ZK_DIR/server.log"
if timeout 20 "$ZKSERVER" "$ZK_DIR/zoo.cfg" >> "$ZK_DIR/server.log" 2>&1; then
  fail "the server started on a log corrupted in the middle"
fi
grep -q "$(basename "$logf")" "$ZK_DIR/server.log" || { cat "$ZK_DIR/server.log"; fail "the refusal does not name the log file"; }
log "middle corruption: refused to start: $(grep -i "cannot recover" "$ZK_DIR/server.log" | head -1 | cut -c1-200)"
log "passed"
