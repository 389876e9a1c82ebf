#!/usr/bin/env bash
# test_admin.sh — the AdminServer (server/admin_http.c) against the Apache
# ZooKeeper 3.8 captures in test/vectors/admin/: every command's JSON keys
# and types, the deterministic values, aliases, errors, and hostile HTTP
# (checks in admin_check.py).  Also: admin.enableServer=false opens no
# admin port, and a busy admin port does not stop the server (as Apache).
# Run from the repository root: bash test/integration/test_admin.sh
# Bounded: free loopback ports, 30 s server starts, 10 s HTTP timeouts;
# the harness kills what it started by PID and removes its temp dir.
source "$(dirname "$0")/harness.sh"
cd "$REPO_ROOT"

T=$TEST_TMP

APORT=$(free_port)
# a long idle timeout: the connections the hostile phase leaves closed by
# their peer must be reaped at once (http_server.c), not at the timeout
start_server zkserver "$T/s1" "admin.enableServer=true" "admin.serverAddress=127.0.0.1" "admin.serverPort=$APORT" "admin.idleTimeout=60000"
grep -q "Started AdminServer on address 127.0.0.1, port $APORT" "$ZK_DIR/server.log" || fail "no AdminServer line in the log"
timeout 120 "$PY" test/integration/admin_check.py "$ZK_PORT" "$APORT" test/vectors/admin || fail "admin_check"
server_alive || fail "server died"
[ "$(four_letter ruok)" = imok ] || fail "ruok after the admin checks"

# A second server on the same admin port: warns, serves clients anyway.
OLD_PID=$ZK_PID OLD_DIR=$ZK_DIR
start_server zkserver "$T/s2" "admin.serverAddress=127.0.0.1" "admin.enableServer=true" "zookeeper.admin.serverPort=$APORT"
grep -q "Problem starting AdminServer" "$ZK_DIR/server.log" || fail "no warning for the busy admin port"
finish_server
ZK_PID=$OLD_PID ZK_DIR=$OLD_DIR
finish_server

# admin.enableServer=false (the harness default): nothing listens.
APORT2=$(free_port)
start_server zkserver "$T/s3" "admin.serverPort=$APORT2"
if curl -s -m 3 "http://127.0.0.1:$APORT2/commands/ruok" >/dev/null 2>&1; then fail "admin port open while disabled"; fi
finish_server
log "PASS"
