#!/usr/bin/env bash
# The attack suite on the quorum and election ports (attack.py peer;
# docs/security.md "Attack suite"): a 3-voter ensemble whose configuration
# also names an observer 4 that never runs (a sid an impostor can claim),
# with a well-behaved kazoo client writing and reading the whole time.
# The peer ports get garbage, oversize lengths and bad hellos; half-open
# connections that never say hello; hellos claiming an unknown sid, the
# receiver's own sid, a lower sid on the election port and sids already
# connected; an impostor for sid 4 sending an oversize election frame, a
# malformed Zab message, a truncated TOUCH and an oversize learner frame;
# and a second real zkserver process with myid 3.  attack.py asserts that
# each such connection was refused or dropped with a log line, that no
# election happened (same leader, same epoch), that every replica stays up
# and that every acknowledged write is on every replica; it prints each
# attack's figures.  ATTACKS=name,name runs only those (for debugging).
source "$(dirname "$0")/cluster.sh"
# zkserver's own bounds and log lines (Apache lacks most of them).
[ "$ZK_IMPL" = zkserver ] || { log "skipped: zkserver-specific"; exit 0; }

[ "${SAN:-0}" = 1 ] && short=--short || short=
CLUSTER_CFG="tickTime=1000 quorumCnxnTimeoutMs=2000"
setup_cluster 4 4
for i in 1 2 3; do start_member "$i"; done
wait_cluster_ready 60 || cfail "the ensemble did not form: $(cluster_modes)"
L=$(leader_of) || cfail "no leader"
log "formed: $(cluster_modes); observer 4 is configured but never started"

# The duplicate: member 3's configuration with its own ports and data.
dup="$TEST_TMP/dup"
mkdir -p "$dup/data"
echo 3 > "$dup/data/myid"
mapfile -t ports < <(_unique_ports 3)
sed -e "s|^dataDir=.*|dataDir=$dup/data|" -e "s|^clientPort=.*|clientPort=${ports[0]}|" \
    -e "s|^server\.3=.*|server.3=127.0.0.1:${ports[1]}:${ports[2]}|" \
    "${CL_DIR[3]}/zoo.cfg" > "$dup/zoo.cfg"

args=()
for i in 1 2 3; do
  args+=(--member "$i:${CL_PID[$i]}:${CL_CPORT[$i]}:${CL_QPORT[$i]}:${CL_EPORT[$i]}:$(member_log "$i")")
done
run_py attack.py peer "${args[@]}" --target "$L" --free-sid 4 --dup-cfg "$dup/zoo.cfg" \
  --zkserver "$ZKSERVER" $short ${ATTACKS:+--only=$ATTACKS} || cfail "the peer-port attack suite failed"
if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$dup/zoo.cfg.log" 2>/dev/null; then
  cfail "sanitizer report in the duplicate's log: $(grep -A20 -E 'ERROR: |runtime error:' "$dup/zoo.cfg.log" | head -30)"
fi
[ "$(leader_of)" = "$L" ] || cfail "the leader changed: $(cluster_modes)"
finish_cluster
log "all passed"
