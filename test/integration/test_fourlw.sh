#!/usr/bin/env bash
# Four-letter words on the client port: ruok, srvr, stat, mntr, isro, cons,
# and a word outside a restricted 4lw.commands.whitelist.
source "$(dirname "$0")/harness.sh"

start_server "" "$TEST_TMP/s1"

expect_eq() { [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"; log "ok: $1"; }
expect_match() { grep -q -E -- "$3" <<<"$2" || fail "$1: output does not match /$3/: $2"; log "ok: $1"; }

expect_eq "ruok" "$(four_letter ruok)" "imok"

out=$(four_letter srvr)
expect_match "srvr Zxid" "$out" '^Zxid: 0x[0-9a-f]+$'
expect_match "srvr Mode" "$out" '^Mode: standalone$'
expect_match "srvr version" "$out" '^Zookeeper version: '
expect_match "srvr node count" "$out" '^Node count: [0-9]+$'

out=$(four_letter stat)
expect_match "stat Zxid" "$out" '^Zxid: 0x[0-9a-f]+$'
expect_match "stat Mode" "$out" '^Mode: standalone$'
expect_match "stat Clients" "$out" '^Clients:$'

out=$(four_letter mntr)
expect_match "mntr zk_version" "$out" $'^zk_version\t[^\t]+$'
expect_match "mntr zk_server_state" "$out" $'^zk_server_state\tstandalone$'
expect_match "mntr zk_znode_count" "$out" $'^zk_znode_count\t[0-9]+$'
# every mntr line is KEY<TAB>VALUE
bad=$(grep -v -E $'^zk_[a-z0-9_]+\t' <<<"$out" | grep -v '^$' || true)
[ -z "$bad" ] || fail "mntr lines not of the form zk_key<TAB>value: $bad"

expect_eq "isro" "$(four_letter isro)" "rw"

# cons lists a connected kazoo client (its local port appears in the list).
fifo="$TEST_TMP/kazoo.out"
"$PY" - "$ZK_HOSTS" >"$fifo" 2>&1 <<'PYEOF' &
import sys, time
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1], timeout=10)
zk.start(timeout=10)
zk.create("/fourlw-cons", b"x", ephemeral=True)
print("port", zk._connection._socket.getsockname()[1], "session 0x%x" % zk.client_id[0], flush=True)
time.sleep(20)
PYEOF
track_pid $!
for i in $(seq 50); do grep -q '^port' "$fifo" && break; sleep 0.2; done
grep -q '^port' "$fifo" || fail "kazoo client did not connect: $(cat "$fifo")"
cport=$(awk '/^port/{print $2}' "$fifo")
sid=$(awk '/^port/{print $4}' "$fifo")
out=$(four_letter cons)
expect_match "cons lists the kazoo client" "$out" "/127\.0\.0\.1:${cport}\["
expect_match "cons shows its session id" "$out" "sid=${sid}[,)]"
out=$(four_letter stat)
expect_match "stat lists the kazoo client" "$out" "/127\.0\.0\.1:${cport}\["
finish_server

# A word outside a restricted whitelist.
start_server "" "$TEST_TMP/s2" "4lw.commands.whitelist=ruok,srvr"
expect_eq "ruok (whitelisted)" "$(four_letter ruok)" "imok"
expect_match "srvr (whitelisted)" "$(four_letter srvr)" '^Mode: standalone$'
expect_eq "mntr (not whitelisted)" "$(four_letter mntr)" "mntr is not executed because it is not in the whitelist."
expect_eq "cons (not whitelisted)" "$(four_letter cons)" "cons is not executed because it is not in the whitelist."
finish_server
log "all passed"
