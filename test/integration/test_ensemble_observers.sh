#!/usr/bin/env bash
# Observers: 3 voters (1-3) + 2 observers (4, 5, "server.N=...:observer"),
# tickTime=500.  Observers' srvr/stat Mode is "observer"; they replicate
# (reads through them see writes made elsewhere) and forward writes; they do
# not vote: with 2 voters down the cluster loses its quorum even though
# 1 voter + 2 observers (3 of 5 processes) are up: writes fail everywhere
# and srvr answers "This ZooKeeper instance is not currently serving
# requests".  A voter coming back restores service, observers included.
# Also: an observer keeps its clients' sessions alive; when the leader is
# killed the observers follow the new one.
source "$(dirname "$0")/cluster.sh"

CLUSTER_CFG="tickTime=500 initLimit=10 syncLimit=5"
start_cluster 5 4 5
log "formed: $(cluster_modes)"
for i in 4 5; do
  [ "$(mode_of "$i")" = observer ] || cfail "member $i: srvr Mode is not observer"
  four_letter stat "${CL_CPORT[$i]}" | grep -q '^Mode: observer$' || cfail "member $i: stat Mode is not observer"
done
L=$(leader_of) || cfail "no leader"
[ "$L" -le 3 ] || cfail "an observer leads"
log "ok: observers report Mode: observer; leader is $L"

# Writes through a voter are readable through each observer, and writes
# through an observer are readable everywhere.
run_py ensemble_util.py create "$(member_hosts 1)" /via-voter 20 || cfail "write through 1 failed"
run_py ensemble_util.py create "$(member_hosts 4)" /via-observer 20 || cfail "write through observer 4 failed"
declare -A CK=()
for i in 1 2 3 4 5; do
  py_bg ensemble_util.py check "$(member_hosts "$i")" /via-voter 20; CK[v$i]=$BG_PID
  py_bg ensemble_util.py check "$(member_hosts "$i")" /via-observer 20; CK[o$i]=$BG_PID
done
for i in 1 2 3 4 5; do
  wait "${CK[v$i]}" || cfail "/via-voter not readable on $i"
  wait "${CK[o$i]}" || cfail "/via-observer not readable on $i"
done
# A read right after a write through the same observer sees it (no sync).
"$PY" - "$(member_hosts 5)" <<'EOF' || cfail "read-your-writes through observer 5"
import sys
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1], timeout=10); zk.start(timeout=10)
zk.create("/ryw", b"v1"); zk.set("/ryw", b"v2")
assert zk.get("/ryw")[0] == b"v2", zk.get("/ryw")
zk.stop(); zk.close()
EOF
# Pipelined writes and reads of one client through an observer, a follower
# and the leader: answered in order, reads see the client's own writes.  (On
# the leader a write waiting behind a read is proposed once the commit
# before it is delivered: the host queues it until the Zab core returned.)
F=$(( L % 3 + 1 ))
for i in 4 "$F" "$L"; do
  run_py ensemble_fifo.py "$(member_hosts "$i")" || cfail "client order through member $i"
done
run_py ensemble_verify.py $(for i in 1 2 3 4 5; do member_hosts "$i"; done) >/dev/null \
  || cfail "replicas differ"
log "ok: observers replicate, serve reads and forward writes; client FIFO order through observer, follower and leader"

# A session on an observer stays alive (the observer reports it to the
# leader) and its ephemeral goes on every member when it closes.
run_py ensemble_sessions.py keepalive "$(member_hosts 4)" 1000 4 \
  || cfail "a session on observer 4 expired while its client was connected"
run_py ensemble_util.py absent "$(member_hosts 1)" /keepalive-eph || cfail "closed session's ephemeral left"
log "ok: observer keeps its client's session alive"

# One voter down (the leader, kill -9): the other 2 voters elect a leader
# and the observers follow it.
kill9_member "$L"
wait_cluster_ready 30 || cfail "no new leader after killing $L"
OLD_L=$L
L=$(leader_of)
log "ok: leader $OLD_L killed, new leader $L: $(cluster_modes)"
run_py ensemble_util.py create "$(member_hosts 4)" /one-down 5 || cfail "writes with one voter down failed"
run_py ensemble_util.py check "$(member_hosts 5)" /one-down 5 || cfail "observer 5 does not see the new leader's writes"
log "ok: writes through observer 4, read through observer 5, with voter $OLD_L down"

# Two voters down: 1 voter + 2 observers have no quorum.
F2=$(for i in 1 2 3; do if [ "$i" != "$L" ] && [ "$i" != "$OLD_L" ]; then echo "$i"; fi; done)
stop_member "$F2"
for i in "$L" 4 5; do
  wait_mode "$i" none 20 || cfail "member $i still serves without a voter quorum"
done
log "ok: no quorum with 1 voter + 2 observers: $(cluster_modes)"
out=$(four_letter srvr "${CL_CPORT[4]}")
[ "$out" = "This ZooKeeper instance is not currently serving requests" ] \
  || cfail "observer srvr without quorum: '$out'"
# (the attempts wait out their 5 s at the same time)
declare -A WF=()
for i in "$L" 4 5; do
  py_bg ensemble_util.py write-fails "$(member_hosts "$i")" "/no-quorum-$i" 5
  WF[$i]=$BG_PID
done
for i in "$L" 4 5; do
  wait "${WF[$i]}" || cfail "a write through $i succeeded without a quorum"
done
log "ok: writes fail through the voter and both observers"

# A voter comes back: service resumes, observers included; nothing of the
# failed writes appears.
restart_member "$F2"
wait_cluster_ready 30 || cfail "the ensemble did not recover with 2 voters"
run_py ensemble_util.py create "$(member_hosts 5)" /recovered 5 || cfail "write after recovery failed"
run_py ensemble_verify.py --absent "/no-quorum-$L" --absent /no-quorum-4 --absent /no-quorum-5 \
  $(for i in "$L" "$F2" 4 5; do member_hosts "$i"; done) || cfail "replicas differ after recovery"
log "ok: recovered: $(cluster_modes)"
restart_member "$OLD_L"
wait_cluster_ready 30 || cfail "the killed voter $OLD_L did not rejoin"
run_py ensemble_verify.py --absent "/no-quorum-$L" \
  $(for i in 1 2 3 4 5; do member_hosts "$i"; done) || cfail "replicas differ with all 5 up"
finish_cluster
log "all passed"
