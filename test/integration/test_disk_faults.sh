#!/usr/bin/env bash
# Disk faults, injected with the LD_PRELOAD shim build/chaos/libfaultfs.so
# (test/chaos/faultfs.c) into real zkserver processes, under a kazoo write
# load whose acknowledged writes are recorded (ensemble_writer.py).  Short
# writes (every write(2)/pwrite(2) of the data directory writes at most
# half of what was asked) stay on for every server of the whole test.
#   A. standalone, fsync EIO on the log: the server stops (exit status 3,
#      a FATAL line); restarted without the fault, every acknowledged
#      write is there.
#   B. ensemble, fsync EIO on follower F1 while follower F2 is SIGSTOPped
#      (F1 is the leader's only quorum partner): F1 must stop, never ACK a
#      later zxid over the failed batch.  (Before the fix F1 went on, ACKed
#      the next batch, and its log lacked a committed transaction: after a
#      whole-ensemble restart the replicas' trees differed.)
#   C. ENOSPC on a follower: it stops; the other two keep committing.
#   D. fsync EIO on the leader, E. ENOSPC on the leader: it stops, the
#      followers elect a new leader that commits.
#   F. a very slow fsync (6 s per call) on a follower, then on the leader:
#      the other two keep committing meanwhile.
#   G. fsync EIO on a follower's acceptedEpoch file as a new epoch starts
#      (the leader is killed): the follower fail-stops (exit 3, a FATAL
#      line, no abort), and the ensemble re-forms once both are back.
# E and F run only with DISK_FAULTS_ALL=1 (make chaos runs them; make
# test's budget takes A-D).
# After each step the faulty server is restarted without its fault and
# rejoins; at the end the whole ensemble is killed (-9) and restarted, and
# every acknowledged write must be on every replica, the trees identical.
source "$(dirname "$0")/cluster.sh"
[ "$ZK_IMPL" = zkserver ] || { log "skipped: zkserver-specific (LD_PRELOAD shim)"; exit 0; }
SHIM="$REPO_ROOT/build/chaos/libfaultfs.so"
[ -f "$SHIM" ] || fail "$SHIM not built (make build/chaos/libfaultfs.so)"
BASE_FAULTS="short=1"

# shim_env DATADIR CTLFILE : the environment words that load the shim.
shim_env() {
  echo "LD_PRELOAD=$SHIM FAULTFS_CTL=$2 FAULTFS_MATCH=$1/ ASAN_OPTIONS=detect_leaks=1:verify_asan_link_order=0"
}
# wait_exit PID SECONDS : wait until PID (a child of this shell) exited;
# sets EXIT_RC to its status; returns 1 if it is still running.
wait_exit() {
  local pid=$1 k
  for k in $(seq $(($2 * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && return 1
  EXIT_RC=0; wait "$pid" || EXIT_RC=$?
}
acked_count() { cat "$TEST_TMP"/acked.* 2>/dev/null | wc -l; }
# wait_acked N : wait (20 s at most) until N more writes than now are acknowledged.
wait_acked() {
  local want=$(( $(acked_count) + $1 )) k
  for k in $(seq 200); do [ "$(acked_count)" -ge "$want" ] && return 0; sleep 0.1; done
  cfail "fewer than $1 writes acknowledged within 20 s"
}

# ---------------------------------------------------------------- A
log "A: standalone, fsync EIO under a write load"
CTL_A="$TEST_TMP/standalone.ctl"
echo "$BASE_FAULTS" > "$CTL_A"
mkdir -p "$TEST_TMP/sa"
ZK_ENV="$(shim_env "$TEST_TMP/sa/data" "$CTL_A")" start_server zkserver "$TEST_TMP/sa" snapCount=200
py_bg ensemble_writer.py "$ZK_HOSTS" sa 4 "$TEST_TMP/acked.sa"
W=$BG_PID
wait_acked 20
echo "$BASE_FAULTS fsync=eio only=log." > "$CTL_A"
wait_exit "$ZK_PID" 15 || fail "A: the server did not stop after a failed fsync"
[ "$EXIT_RC" = 3 ] || fail "A: the server exited with status $EXIT_RC, expected 3"
grep -q "FATAL: transaction log failure: txnlog: cannot .*Input/output error" "$ZK_DIR/server.log" \
  || fail "A: no FATAL line for the failed fsync: $(tail -5 "$ZK_DIR/server.log")"
grep -q "fdatasync EIO" "$CTL_A.hits" || fail "A: the shim never failed an fsync"
grep -q "short" "$CTL_A.hits" || fail "A: the shim never shortened a write"
wait "$W" || fail "A: writer failed"
before=$(wc -l < "$TEST_TMP/acked.sa")
echo "$BASE_FAULTS" > "$CTL_A"
restart_server
run_py ensemble_verify.py --acked "$TEST_TMP/acked.sa" "$ZK_HOSTS" || fail "A: acknowledged writes lost"
stop_server
log "ok: A ($before writes acknowledged before the failed fsync, all there after the restart)"
rm -f "$TEST_TMP/acked.sa"

# ---------------------------------------------------------------- ensemble
CLUSTER_CFG="tickTime=500 initLimit=10 syncLimit=5 snapCount=400"
setup_cluster 3
# Epochs start at 12, so every epoch file written is 2+ bytes long and the
# shim shortens it too (the epoch writer once took a short write for an
# error and aborted).
for i in 1 2 3; do
  mkdir -p "${CL_DIR[$i]}/data/zkfs-v1"
  echo 12 > "${CL_DIR[$i]}/data/zkfs-v1/acceptedEpoch"
  echo 12 > "${CL_DIR[$i]}/data/zkfs-v1/currentEpoch"
done
for i in 1 2 3; do
  CTL[$i]="$TEST_TMP/m$i.ctl"
  echo "$BASE_FAULTS" > "${CTL[$i]}"
  CL_ENV[$i]="$(shim_env "${CL_DIR[$i]}/data" "${CTL[$i]}")"
done
for i in 1 2 3; do start_member "$i"; done
wait_cluster_ready 60 || cfail "the ensemble did not form: $(cluster_modes)"
others() { local i; for i in 1 2 3; do if [ "$i" != "$1" ]; then echo "$i"; fi; done; }
# writers SECONDS [MEMBER...] : one writer per member (default: all) for
# SECONDS, its connect string starting at that member; sets WPIDS.
WRITERS=0
writers() {
  local i secs=$1; shift
  local -a through=("$@")
  [ ${#through[@]} -gt 0 ] || through=(1 2 3)
  WPIDS=()
  for i in "${through[@]}"; do
    WRITERS=$((WRITERS + 1))
    py_bg ensemble_writer.py "$(member_hosts "$i" $(others "$i"))" "w$WRITERS" "$secs" "$TEST_TMP/acked.$WRITERS"
    WPIDS+=("$BG_PID")
  done
}
wait_writers() { local p; for p in "${WPIDS[@]}"; do wait "$p" || cfail "a writer failed"; done; }
verify_all() {
  local -a acked=()
  local f
  for f in "$TEST_TMP"/acked.*; do acked+=(--acked "$f"); done
  run_py ensemble_verify.py "${acked[@]}" "$(member_hosts 1)" "$(member_hosts 2)" "$(member_hosts 3)" \
    || cfail "$1: verify failed"
}
# expect_fatal I STEP : member I must stop with status 3 and the FATAL line.
expect_fatal() {
  wait_exit "${CL_PID[$1]}" 20 || cfail "$2: member $1 did not stop after its log failed"
  CL_PID[$1]=""
  [ "$EXIT_RC" = 3 ] || cfail "$2: member $1 exited with status $EXIT_RC, expected 3"
  grep -q "FATAL: transaction log failure" "$(member_log "$1")" || cfail "$2: no FATAL line in member $1's log"
}
# heal I : clear member I's fault, restart it, wait for the ensemble.
heal() {
  echo "$BASE_FAULTS" > "${CTL[$1]}"
  restart_member "$1"
  wait_cluster_ready 30 || cfail "member $1 did not rejoin: $(cluster_modes)"
}

# ---------------------------------------------------------------- B
L=$(leader_of) || cfail "no leader"
read -r F1 F2 <<<"$(others "$L" | xargs)"
log "B: leader $L; SIGSTOP follower $F2, fsync EIO on follower $F1 under load"
run_py ensemble_util.py create "$(member_hosts "$L")" /before 20 || cfail "B: writes failed"
pause_member "$F2"
writers 3 "$L" "$L"
wait_acked 20
echo "$BASE_FAULTS fsync=eio:1 only=log." > "${CTL[$F1]}"
expect_fatal "$F1" B
grep -q "fdatasync EIO" "${CTL[$F1]}.hits" || cfail "B: the shim never failed an fsync"
wait_writers
resume_member "$F2"
heal "$F1"
log "ok: B ($(acked_count) acknowledged so far; $(cluster_modes))"

# ---------------------------------------------------------------- C
L=$(leader_of) || cfail "no leader"
F=$(others "$L" | head -1)
log "C: ENOSPC on follower $F under load"
writers 3
wait_acked 20
echo "$BASE_FAULTS write=enospc" > "${CTL[$F]}"
expect_fatal "$F" C
n=$(acked_count)
sleep 1.5
wait_writers
[ "$(acked_count)" -gt "$n" ] || cfail "C: nothing was acknowledged after follower $F stopped"
heal "$F"
log "ok: C"

# ---------------------------------------------------------------- D, E
leader_faults=("fsync=eio only=log.")
[ "${DISK_FAULTS_ALL:-0}" = 1 ] && leader_faults+=("write=enospc")
for fault in "${leader_faults[@]}"; do
  L=$(leader_of) || cfail "no leader"
  log "D/E: $fault on the leader $L under load"
  writers 3
  wait_acked 20
  echo "$BASE_FAULTS $fault" > "${CTL[$L]}"
  expect_fatal "$L" "D/E"
  NL=""
  for k in $(seq 100); do
    for i in $(others "$L"); do if [ "$(mode_of "$i")" = leader ]; then NL=$i; fi; done
    [ -n "$NL" ] && break; sleep 0.2
  done
  [ -n "$NL" ] || cfail "D/E: no new leader after the leader's log failed"
  run_py ensemble_util.py create "$(member_hosts "$NL")" "/after-leader-fault-$L" 10 \
    || cfail "D/E: the new leader $NL does not commit"
  wait_writers
  heal "$L"
done
log "ok: D${leader_faults[1]:+, E}"

# ---------------------------------------------------------------- F
slow=()
[ "${DISK_FAULTS_ALL:-0}" = 1 ] && slow=(follower leader)
for who in "${slow[@]}"; do
  L=$(leader_of) || cfail "no leader"
  if [ "$who" = leader ]; then S=$L; else S=$(others "$L" | head -1); fi
  log "F: every fsync of $who $S takes 6 s; the others keep committing"
  echo "$BASE_FAULTS fsync_delay_ms=6000 only=log." > "${CTL[$S]}"
  n=$(acked_count)
  writers 3
  wait_writers
  grep -q "delay" "${CTL[$S]}.hits" || cfail "F: $S never fsynced slowly"
  got=$(( $(acked_count) - n ))
  # One fsync of S takes longer than the whole load: had the commits
  # waited for S, at most a batch or two would be acknowledged.
  [ "$got" -ge 50 ] || cfail "F: only $got writes acknowledged while $who $S was slow"
  echo "$BASE_FAULTS" > "${CTL[$S]}"
  log "F: $got writes acknowledged while $who $S was slow"
done
wait_cluster_ready 30 || cfail "F: ensemble not ready: $(cluster_modes)"
[ ${#slow[@]} -gt 0 ] && log "ok: F"

# ---------------------------------------------------------------- G
# An epoch file that cannot be made durable (fsync EIO on acceptedEpoch)
# when a new epoch starts: the member fail-stops (exit 3, a FATAL line;
# it used to abort(), SIGABRT = 134); the other two go on once the killed
# leader is back.
L=$(leader_of) || cfail "no leader"
F=$(others "$L" | head -1)
log "G: fsync EIO on follower $F's acceptedEpoch; kill -9 the leader $L for a new epoch"
echo "$BASE_FAULTS fsync=eio only=acceptedEpoch" > "${CTL[$F]}"
kill9_member "$L"
wait_exit "${CL_PID[$F]}" 30 || cfail "G: member $F did not stop after its epoch write failed"
CL_PID[$F]=""
[ "$EXIT_RC" = 3 ] || cfail "G: member $F exited with status $EXIT_RC, expected 3"
grep -q "FATAL: Zab: cannot persist epochs" "$(member_log "$F")" \
  || cfail "G: no FATAL line in member $F's log: $(tail -5 "$(member_log "$F")")"
grep -q "EIO .*acceptedEpoch" "${CTL[$F]}.hits" || cfail "G: the shim never failed an epoch fsync"
echo "$BASE_FAULTS" > "${CTL[$F]}"
restart_member "$L"
restart_member "$F"
wait_cluster_ready 60 || cfail "G: the ensemble did not re-form: $(cluster_modes)"
log "ok: G"

# ---------------------------------------------------------------- end
log "whole-ensemble crash and restart"
for i in 1 2 3; do kill9_member "$i"; done
for i in 1 2 3; do start_member "$i"; done
wait_cluster_ready 60 || cfail "the ensemble did not re-form: $(cluster_modes)"
verify_all end
for i in 1 2 3; do
  grep -q "short .*/log\." "${CTL[$i]}.hits" || cfail "member $i never had a short log write"
  grep -q "short .*Epoch" "${CTL[$i]}.hits" || cfail "member $i never had a short epoch-file write"
done
finish_cluster
log "all passed ($(acked_count) acknowledged writes checked on every replica)"
