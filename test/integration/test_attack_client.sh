#!/usr/bin/env bash
# The attack suite on the client port (attack.py client; docs/security.md
# "Attack suite"): against a running 3-replica ensemble, with a
# well-behaved kazoo client writing and reading on follower F the whole
# time, F's client port gets, one after the other: a client that pipelines
# reads and never reads the replies, output that passes the output limit,
# a write flood past globalOutstandingLimit, slowloris handshakes and a
# trickling session, more connections than maxCnxns (and maxClientCnxns),
# a file descriptor shortage, huge multis / long and deep paths / a huge
# setWatches, more watches than cnxnMaxWatches, and an auth flood.
# attack.py asserts that only the attacking connection was closed or
# throttled (log lines, cons), that every replica stays up and that every
# acknowledged write of the good client is on every replica; it prints
# each attack's figures (good client ops and latency, RSS of every member
# before/peak/after).  Under SAN=1 the phases are shorter and the floods
# smaller.  ATTACKS=name,name runs only those (for debugging).
source "$(dirname "$0")/cluster.sh"
# zkserver's own bounds and log lines (Apache lacks most of them).
[ "$ZK_IMPL" = zkserver ] || { log "skipped: zkserver-specific"; exit 0; }

if [ "${SAN:-0}" = 1 ]; then
  watches=20000; short=--short
  only=--only=noread,output-limit,write-flood,slowloris,many-connections,emfile,big-requests,watches,auth-flood
else
  watches=100000; short=; only=
fi
[ -z "${ATTACKS:-}" ] || only=--only=$ATTACKS
CLUSTER_CFG="tickTime=1000 nio.sessionlessCnxnTimeout=2000 maxCnxns=300 globalOutstandingLimit=200 cnxnMaxWatches=$watches"
start_cluster 3
L=$(leader_of) || cfail "no leader"
F=$(( L % 3 + 1 ))
log "formed: $(cluster_modes); attacking follower $F"
args=()
for i in 1 2 3; do
  args+=(--member "$i:${CL_PID[$i]}:${CL_CPORT[$i]}:${CL_QPORT[$i]}:${CL_EPORT[$i]}:$(member_log "$i")")
done
run_py attack.py client "${args[@]}" --target "$F" --max-cnxns 300 --max-watches "$watches" \
  --outstanding-limit 200 $short $only || cfail "the client-port attack suite failed"
[ "$(leader_of)" = "$L" ] || cfail "the leader changed: $(cluster_modes)"
finish_cluster
log "all passed"
