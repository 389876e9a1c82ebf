#!/usr/bin/env bash
# A full disk: zkserver's dataDir lives on a tiny tmpfs that a filler file
# fills up.  Writes must then fail without ever being acknowledged (the
# client loses its connection), reads keep working, the server survives;
# once space is freed, writes succeed again, and after a restart every
# acknowledged write is there.  Needs root (mount); skipped otherwise.
source "$(dirname "$0")/harness.sh"
if [ "$(id -u)" != 0 ]; then log "skipped: needs root to mount a tmpfs"; exit 0; fi
[ "$ZK_IMPL" = zkserver ] || { log "skipped: zkserver-specific"; exit 0; }
mnt="$TEST_TMP/small"
mkdir -p "$mnt"
mount -t tmpfs -o size=6m tmpfs "$mnt" || fail "cannot mount tmpfs"
trap 'rc=$?; umount -l "$mnt" 2>/dev/null; (exit $rc); _harness_cleanup' EXIT
# preAllocSize is in KiB: small chunks so the disk runs out mid-stream.
start_server zkserver "$TEST_TMP/s" "dataDir=$mnt/data" "preAllocSize=256" "snapCount=1000000"
cat > "$TEST_TMP/fill.py" <<'PY'
import sys, threading, time
from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import ConnectionLoss, SessionExpiredError
from kazoo.handlers.threading import KazooTimeoutError
hosts, phase, out = sys.argv[1], sys.argv[2], sys.argv[3]
# connection_retry: reconnect (and reattach the session) without end.
zk = KazooClient(hosts=hosts, timeout=10, connection_retry={"max_tries": -1, "delay": 0.1, "max_delay": 0.5},
                 command_retry=None)
zk.start(timeout=10)
if phase == "fill":
    acked = open(out, "w")
    zk.ensure_path("/fill")
    failures = 0
    i = 0
    blob = b"x" * 50000
    deadline = time.monotonic() + 60
    while failures < 3 and time.monotonic() < deadline:
        try:
            zk.create(f"/fill/n{i:06d}", blob)
            acked.write(f"/fill/n{i:06d}\n"); acked.flush()
        except (ConnectionLoss, KazooTimeoutError, SessionExpiredError) as e:
            # The server refused the write and closed the connection.  The
            # session lives on: kazoo reattaches it (no log write needed),
            # whereas a new session could not be created on a full disk.
            failures += 1
            if not zk.connected:
                reattached = threading.Event()
                zk.add_listener(lambda st: reattached.set() if st == KazooState.CONNECTED else None)
                if not zk.connected:
                    assert reattached.wait(20), "the session did not reattach on a full disk"
        i += 1
    print(f"created {sum(1 for _ in open(out))} nodes before the disk was full, {failures} refused")
    assert failures >= 1, "the disk never filled up"
    # reads still work while the disk is full
    assert zk.exists("/fill") is not None
    print("reads work on a full disk")
elif phase == "write":
    zk.create("/after-free", b"ok")
    print("write after freeing space: ok")
elif phase == "check":
    names = [l.strip() for l in open(out)]
    missing = [n for n in names if zk.exists(n) is None]
    assert not missing, f"acknowledged writes lost: {missing[:5]}"
    assert zk.get("/after-free")[0] == b"ok"
    print(f"all {len(names)} acknowledged writes survived the restart")
zk.stop()
PY
# Fill the disk with a plain file too, so the log cannot grow much.
dd if=/dev/zero of="$mnt/filler" bs=1M count=3 status=none || true
"$PY" "$TEST_TMP/fill.py" "$ZK_HOSTS" fill "$TEST_TMP/acked" || fail "fill phase"
server_alive || fail "server died on a full disk"
rm -f "$mnt/filler"
ok=0
for _ in $(seq 30); do
  if "$PY" "$TEST_TMP/fill.py" "$ZK_HOSTS" write "$TEST_TMP/acked" 2>/dev/null; then ok=1; break; fi
  sleep 0.5
done
[ "$ok" = 1 ] || fail "writes did not recover after space was freed"
stop_server
# The log and a snapshot of ~3 MB of data do not both fit in 6 MiB: the
# operator grows the volume before restarting (a new session is itself a
# logged write, so a server whose disk is still full serves no new client).
mount -o remount,size=16m "$mnt" || fail "cannot grow the tmpfs"
restart_server
"$PY" "$TEST_TMP/fill.py" "$ZK_HOSTS" check "$TEST_TMP/acked" || { tail -5 "$ZK_DIR/server.log" >&2; df "$mnt" >&2; fail "check phase"; }
grep -q "transaction log write failed" "$ZK_DIR/server.log" || fail "no log line about the failed write"
finish_server
log "passed"
