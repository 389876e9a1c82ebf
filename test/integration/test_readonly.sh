#!/usr/bin/env bash
# Read-only mode (-Dreadonlymode.enabled=true in SERVER_JVMFLAGS,
# localSessionsEnabled=true) of a 3-replica ensemble, driven by readonly.py
# (kazoo read_only=True + raw sockets):
#   0. standalone: never read-only (isro rw, readOnly=false).
#   1. r/w: data written; isro = rw.
#   2. members 2 and 3 are stopped: member 1 (looking) serves a new
#      read-only client: reads answer, every write and sync is ZNOTREADONLY
#      (NotReadOnlyCallError), isro = ro, srvr's Mode / mntr's
#      zk_server_state = read-only, clients without canBeReadOnly are
#      refused.
#   3. members 2 and 3 come back: the read-only client is closed by the
#      survivor, reconnects r/w (its local session expired: LOST, then
#      KazooState CONNECTED, not CONNECTED_RO) and writes; isro = rw.
#      zkCli.sh -r gets ConnectedReadOnly, reads, "Not a read-only call".
#   4./5. the same with members 2 and 3 SIGSTOPped and SIGCONTed (a
#      partitioned minority: its peers silent rather than gone).
# The transcript must equal readonly.expected, which is what Apache
# ZooKeeper 3.8 answers (ZK_IMPL=apache runs this test against it).
source "$(dirname "$0")/cluster.sh"

export SERVER_JVMFLAGS="-Dreadonlymode.enabled=true"

# 0. standalone: never read-only (isro rw, a canBeReadOnly client gets a
#    read-write session), as Apache's ZooKeeperServerMain.
start_server "" "$TEST_TMP/standalone" "localSessionsEnabled=true"
{
  echo "0 isro $(four_letter isro "$ZK_PORT")"
  echo "0 srvr $(four_letter srvr "$ZK_PORT" | sed -n 's/^Mode: //p')"
  "$PY" -c '
import sys
sys.path.insert(0, sys.argv[1])
import zkwire
c = zkwire.Conn("127.0.0.1", int(sys.argv[2]))
r = c.connect(read_only=True)
print("0 connect canBeReadOnly=True readOnly=%s session=%s"
      % (r["readOnly"], "yes" if r["sessionId"] else "no"))
c.close_session()
' "$HARNESS_DIR" "$ZK_PORT"
} > "$TEST_TMP/standalone.out"
stop_server

CLUSTER_CFG="tickTime=500 initLimit=4 syncLimit=5 localSessionsEnabled=true"
setup_cluster 3
# zkserver: member 1's admin server too (Debian's Apache has no Jetty, so
# its admin answers are not in the transcript: they follow Apache's
# Commands.java, see admin_check below).
ADMIN_PORT=""
if [ "$ZK_IMPL" = zkserver ]; then
  ADMIN_PORT=$(free_port)
  sed -i '/^admin\.enableServer=/d' "${CL_DIR[1]}/zoo.cfg"
  printf 'admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=%s\n' \
    "$ADMIN_PORT" >> "${CL_DIR[1]}/zoo.cfg"
fi
for i in 1 2 3; do start_member "$i"; done
wait_cluster_ready 60 || cfail "the ensemble did not form: $(cluster_modes)"
CTL="$TEST_TMP/ctl"
mkdir -p "$CTL"

# admin_check : in read-only mode, member 1's admin server says read_only
# true, leader "server is not initialized", zabstate voting false and ""
# (a ReadOnlyZooKeeperServer is not a QuorumZooKeeperServer).  zkserver only.
admin_check() {
  [ -n "$ADMIN_PORT" ] || return 0
  local url="http://127.0.0.1:$ADMIN_PORT/commands" out
  # http_get URL : the body (python: curl need not be installed).
  http_get() {
    "$PY" -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' "$1"
  }
  out=$(http_get "$url/is_read_only") || cfail "admin is_read_only: no answer"
  grep -q '"read_only" : true' <<<"$out" || cfail "admin is_read_only: $out"
  out=$(http_get "$url/leader") || cfail "admin leader: no answer"
  grep -q '"error" : "server is not initialized"' <<<"$out" || cfail "admin leader: $out"
  out=$(http_get "$url/zabstate") || cfail "admin zabstate: no answer"
  grep -q '"voting" : false' <<<"$out" && grep -q '"zabstate" : ""' <<<"$out" \
    || cfail "admin zabstate: $out"
}

# zkcli_ro : zkCli.sh -r (the Java client with canBeReadOnly) on member 1:
# its connection state, a read and a write (stdout lines that say so).
zkcli_ro() {
  # zkCli.sh exits non-zero after the refused write: not a failure here.
  # Its event line comes from another thread (any order): sorted.
  { printf 'ls /ro\ncreate /x\nquit\n' |
      timeout 60 env CLIENT_JVMFLAGS="-Xmx128m -Dzookeeper.log.threshold=ERROR" \
        /usr/share/zookeeper/bin/zkCli.sh -r -server "127.0.0.1:${CL_CPORT[1]}" 2>&1 || true; } |
    grep -E '^WatchedEvent state:ConnectedReadOnly|^\[|^Not a read-only call' |
    LC_ALL=C sort | sed 's/^/zkCli /' || true
}

# wait_ro : wait (60 s) until member 1 answers isro with ro, so the new
# read-only client finds it at once (not after connect timeouts on the
# stopped members).
wait_ro() {
  local k
  for k in $(seq 240); do
    [ "$(four_letter isro "${CL_CPORT[1]}")" = ro ] && return 0
    sleep 0.25
  done
  cfail "member 1 did not become read-only within 60 s"
}

# wait_file PATH SECONDS : wait until PATH exists (the client's handshake).
wait_file() {
  local k
  for k in $(seq $(($2 * 10))); do
    [ -e "$1" ] && return 0
    kill -0 "$CLIENT" 2>/dev/null || { cat "$TEST_TMP/out" >&2; cfail "client died"; }
    sleep 0.1
  done
  cat "$TEST_TMP/out" >&2
  cfail "no $1 within $2 s"
}

# word_lines : isro, srvr's Mode and mntr's zk_server_state of member 1
# (leader and follower both print as "rw-role": which one leads differs).
word_lines() {
  {
    echo "isro $(four_letter isro "${CL_CPORT[1]}")"
    echo "srvr $(four_letter srvr "${CL_CPORT[1]}" | sed -n 's/^Mode: //p')"
    echo "mntr $(four_letter mntr "${CL_CPORT[1]}" | sed -n 's/^zk_server_state\t//p')"
    four_letter srvr "${CL_CPORT[1]}" | grep '^READ-ONLY mode' || true
    echo "peer_state lines $(four_letter mntr "${CL_CPORT[1]}" | grep -c '^zk_peer_state')"
  } | sed -E 's/ (leader|follower)$/ rw-role/'
}

"$PY" "$HARNESS_DIR/readonly.py" "$(member_hosts 1 2 3)" "${CL_CPORT[1]}" "$CTL" \
  > "$TEST_TMP/out" 2>"$TEST_TMP/client.err" &
CLIENT=$!
track_pid "$CLIENT"
wait_file "$CTL/ready.1" 90
word_lines | sed 's/^/1 /' >> "$TEST_TMP/words"

# Round one (phases 2, 3): members 2 and 3 stopped, then started again.
log "stopping members 2 and 3"
stop_member 2; stop_member 3
wait_ro
touch "$CTL/go.1"
wait_file "$CTL/ready.2" 150
word_lines | sed 's/^/2 /' >> "$TEST_TMP/words"
zkcli_ro | sed 's/^/2 /' >> "$TEST_TMP/words"
admin_check
log "starting members 2 and 3"
start_member 2; start_member 3
wait_cluster_ready 90 || cfail "the ensemble did not form again: $(cluster_modes)"
touch "$CTL/go.2"
wait_file "$CTL/ready.3" 240
word_lines | sed 's/^/3 /' >> "$TEST_TMP/words"

# Round two (phases 4, 5): a partitioned minority.  Members 2 and 3 are
# SIGSTOPped (their sockets stay open and answer nothing, as replicas cut
# off by a network partition), then SIGCONTed.
log "SIGSTOP members 2 and 3 (member 1 is a partitioned minority)"
pause_member 2; pause_member 3
wait_ro
touch "$CTL/go.3"
wait_file "$CTL/ready.4" 150
word_lines | sed 's/^/4 /' >> "$TEST_TMP/words"
admin_check
log "SIGCONT members 2 and 3"
resume_member 2; resume_member 3
wait_cluster_ready 90 || cfail "the ensemble did not form again: $(cluster_modes)"
touch "$CTL/go.4"
rc=0
for k in $(seq 2400); do kill -0 "$CLIENT" 2>/dev/null || break; sleep 0.1; done
wait "$CLIENT" || rc=$?
word_lines | sed 's/^/5 /' >> "$TEST_TMP/words"
cat "$TEST_TMP/words" >> "$TEST_TMP/out"
cat "$TEST_TMP/standalone.out" "$TEST_TMP/out" > "$TEST_TMP/all"
mv "$TEST_TMP/all" "$TEST_TMP/out"
if [ "$rc" != 0 ] || ! diff -u "$HARNESS_DIR/readonly.expected" "$TEST_TMP/out"; then
  tail -20 "$TEST_TMP/client.err" >&2
  cfail "transcript differs from readonly.expected (client exit $rc)"
fi
log "transcript as Apache's ($(wc -l < "$TEST_TMP/out") lines)"
finish_cluster
log "ok"
