#!/usr/bin/env bash
# A 5-voter ensemble (tickTime=500) survives 2 failures and not 3 (and,
# first, concurrent sequential creates through every replica get distinct
# numbers, and concurrent versioned read-modify-write increments through
# every replica lose no update): with two
# members kill -9'd (the leader among them) the other three elect a leader
# and serve writes; with a third member down the two left stop serving and
# refuse writes; bringing one back restores service with every write
# acknowledged before.
source "$(dirname "$0")/cluster.sh"

CLUSTER_CFG="tickTime=500 initLimit=10 syncLimit=5"
start_cluster 5
L=$(leader_of) || cfail "no leader"
log "formed: $(cluster_modes)"
run_py ensemble_util.py create "$(member_hosts 1)" /before 20 || cfail "initial writes failed"
# Sequential children created concurrently through all 5 replicas get
# distinct numbers (the leader assigns them).
run_py ensemble_util.py create "$(member_hosts 1)" /seqbase 0 || cfail "makepath failed"
pids=()
for i in 1 2 3 4 5; do py_bg ensemble_util.py seq "$(member_hosts "$i")" /seqbase 60; pids+=("$BG_PID"); done
for p in "${pids[@]}"; do wait "$p" || cfail "sequential creates failed"; done
for i in 1 2 3 4 5; do
  run_py ensemble_util.py count "$(member_hosts "$i")" /seqbase 300 || cfail "sequential children on $i"
done
log "ok: 300 concurrent sequential creates through 5 replicas, distinct numbers"
# Conditional updates (setData with a version) through all 5 replicas at
# once: no lost update.
out=$(run_py ensemble_counter.py 40 $(for i in 1 2 3 4 5; do member_hosts "$i"; done)) \
  || cfail "lost or duplicated conditional updates: $out"
log "ok: 400 concurrent versioned increments through 5 replicas: $out"

# Two failures: the leader and one follower.
F=$(( L % 5 + 1 ))
kill9_member "$L"
kill9_member "$F"
wait_cluster_ready 30 || cfail "3 of 5 did not form a quorum after killing $L and $F"
L2=$(leader_of)
log "ok: members $L and $F down, new leader $L2: $(cluster_modes)"
live=()
for i in 1 2 3 4 5; do if [ -n "${CL_PID[$i]}" ]; then live+=("$i"); fi; done
for i in "${live[@]}"; do
  run_py ensemble_util.py create "$(member_hosts "$i")" "/two-down-$i" 5 \
    || cfail "write through $i failed with 2 members down"
done
run_py ensemble_verify.py $(for i in "${live[@]}"; do member_hosts "$i"; done) >/dev/null \
  || cfail "the 3 live replicas differ"
log "ok: writes through each of ${live[*]} with 2 down"

# Third failure: no quorum.
X=${live[0]}
[ "$X" != "$L2" ] || X=${live[1]}
kill9_member "$X"
left=()
for i in 1 2 3 4 5; do if [ -n "${CL_PID[$i]}" ]; then left+=("$i"); fi; done
for i in "${left[@]}"; do
  wait_mode "$i" none 20 || cfail "member $i still serves with 3 of 5 down"
done
log "ok: 3 down, no quorum: $(cluster_modes)"
# (the attempts wait out their 5 s at the same time)
declare -A WF=()
for i in "${left[@]}"; do
  py_bg ensemble_util.py write-fails "$(member_hosts "$i")" "/three-down-$i" 5
  WF[$i]=$BG_PID
done
for i in "${left[@]}"; do
  wait "${WF[$i]}" || cfail "a write through $i succeeded with 3 of 5 down"
done

# One comes back: service resumes; everything acknowledged is there, the
# refused writes are not.
restart_member "$X"
wait_cluster_ready 30 || cfail "no recovery after restarting $X"
log "ok: recovered: $(cluster_modes)"
absent=()
for i in "${left[@]}"; do absent+=(--absent "/three-down-$i"); done
run_py ensemble_util.py create "$(member_hosts "$X")" /after 5 || cfail "write after recovery failed"
for i in "${live[@]}"; do
  run_py ensemble_util.py check "$(member_hosts "$X")" "/two-down-$i" 5 || cfail "/two-down-$i lost"
done
run_py ensemble_util.py check "$(member_hosts "$X")" /before 20 || cfail "/before lost"
run_py ensemble_verify.py "${absent[@]}" $(for i in "${live[@]}"; do member_hosts "$i"; done) \
  || cfail "replicas differ after recovery"
# The two killed first come back and catch up too.
restart_member "$L"
restart_member "$F"
wait_cluster_ready 30 || cfail "the full ensemble did not re-form"
run_py ensemble_verify.py "${absent[@]}" $(member_hosts 1) $(member_hosts 2) $(member_hosts 3) \
  $(member_hosts 4) $(member_hosts 5) || cfail "replicas differ with all 5 up"
finish_cluster
log "all passed"
