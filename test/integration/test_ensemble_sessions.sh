#!/usr/bin/env bash
# Sessions across a 3-voter ensemble (tickTime=500: session timeouts are
# clamped to [1 s, 10 s]):
#   1. a session on a follower stays alive well past its timeout while its
#      client pings the follower (the leader owns expiry, the follower keeps
#      it informed);
#   2. ephemerals of a session whose client was kill -9'd (timeout 2 s)
#      vanish on every replica once it expires, and only then; the same for
#      a client frozen with SIGSTOP (its connection stays open);
#   3. a client moved from replica 1 to replica 3 keeps its session and its
#      ephemerals (kazoo client_id on a new client after kill -9 of the
#      first client process);
#   4. a raw-protocol client moved from replica 1 to replica 3 keeps its
#      watches (setWatches, including a change missed while away), its
#      ephemeral and its session; changes through replica 2 fire on 3; the
#      same between the two followers when 1 -> 3 was not that;
#   5. a session on a follower (timeout 6 s) and its ephemeral survive a
#      kill -9 of the leader and the election of a new one;
#   6. the session of a client kill -9'd just before its leader is kill
#      -9'd expires under the new leader (its ephemeral vanishes).
source "$(dirname "$0")/cluster.sh"

CLUSTER_CFG="tickTime=500 initLimit=10 syncLimit=5"
start_cluster 3
L=$(leader_of) || cfail "no leader"
F=$(( L % 3 + 1 ))
log "formed: $(cluster_modes)"
all_hosts=("$(member_hosts 1)" "$(member_hosts 2)" "$(member_hosts 3)")

# 1. keepalive through a follower
run_py ensemble_sessions.py keepalive "$(member_hosts "$F")" 2000 7 \
  || cfail "a session on follower $F expired while its client was connected"
log "ok: a follower keeps its client's session alive"

# 2. expiry of a killed client's session
py_bg ensemble_sessions.py hold "$(member_hosts "$F")" 2000 /exp/a /exp/b > "$TEST_TMP/hold.out" 2>&1
HOLD=$BG_PID
for k in $(seq 100); do grep -q '^session' "$TEST_TMP/hold.out" && break; sleep 0.1; done
grep -q '^session' "$TEST_TMP/hold.out" || cfail "holder did not start: $(cat "$TEST_TMP/hold.out")"
# Still there right after the kill (the timeout has not passed) on a
# replica.  The checker connects before the kill: the session expires its
# timeout after the client's last request or ping (as in Apache, a learner
# reports only sessions that sent something), so starting a client after
# the kill can take longer than what is left of it on a loaded machine.
"$PY" - "${all_hosts[0]}" "$TEST_TMP/killed" > "$TEST_TMP/still.out" 2>&1 <<'EOF' &
import os, sys, time
from kazoo.client import KazooClient
from kazoo.retry import KazooRetry
zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=10)
print("connected", flush=True)
deadline = time.monotonic() + 30
while not os.path.exists(sys.argv[2]) and time.monotonic() < deadline:
    time.sleep(0.01)
# (retried across a ConnectionLoss: a re-election on a loaded machine)
retry = KazooRetry(max_tries=-1, delay=0.1, max_delay=1, deadline=20)
assert retry(zk.exists, "/exp/a") is not None and retry(zk.exists, "/exp/b") is not None
zk.stop(); zk.close()
EOF
STILL=$!
track_pid "$STILL"
for k in $(seq 100); do grep -q connected "$TEST_TMP/still.out" && break; sleep 0.1; done
kill -KILL "$HOLD"; wait "$HOLD" 2>/dev/null || true
killed_at=$(date +%s.%N)
touch "$TEST_TMP/killed"
wait "$STILL" || cfail "ephemerals vanished before the session timeout: $(cat "$TEST_TMP/still.out")"
for h in "${all_hosts[@]}"; do
  run_py ensemble_util.py check "$h" /exp 0 || cfail "replica $h"
done
gone=0
for k in $(seq 40); do
  if run_py ensemble_util.py absent "${all_hosts[0]}" /exp/a /exp/b 2>/dev/null; then gone=1; break; fi
  sleep 0.5
done
[ "$gone" = 1 ] || cfail "ephemerals of the killed client still there 20 s after the kill"
took=$("$PY" -c "import time,sys; print('%.1f' % (time.time() - float(sys.argv[1])))" "$killed_at")
for h in "${all_hosts[@]}"; do
  run_py ensemble_util.py absent "$h" /exp/a /exp/b || cfail "an expired ephemeral is still on $h"
done
log "ok: the killed client's ephemerals vanished on every replica after ${took} s"

# 2b. the same for a client that is frozen (SIGSTOP) instead of killed: its
# TCP connection to the follower stays open but it sends nothing, like a
# client cut off by a partition; the session must expire all the same (the
# follower used to report every session with an open connection as alive).
py_bg ensemble_sessions.py hold "$(member_hosts "$F")" 2000 /frozen/a > "$TEST_TMP/hold4.out" 2>&1
HOLD=$BG_PID
for k in $(seq 100); do grep -q '^session' "$TEST_TMP/hold4.out" && break; sleep 0.1; done
grep -q '^session' "$TEST_TMP/hold4.out" || cfail "holder 4 did not start: $(cat "$TEST_TMP/hold4.out")"
kill -STOP "$HOLD"
gone=0
for k in $(seq 40); do
  if run_py ensemble_util.py absent "${all_hosts[0]}" /frozen/a 2>/dev/null; then gone=1; break; fi
  sleep 0.5
done
kill -KILL "$HOLD"; wait "$HOLD" 2>/dev/null || true
[ "$gone" = 1 ] || cfail "the frozen client's session never expired (its connection to $F is open)"
for h in "${all_hosts[@]}"; do
  run_py ensemble_util.py absent "$h" /frozen/a || cfail "an expired ephemeral is still on $h"
done
log "ok: a frozen client's session expires although its connection stays open"

# 3. session moved 1 -> 3 with kazoo client_id
py_bg ensemble_sessions.py hold "$(member_hosts 1)" 6000 /moved/e1 > "$TEST_TMP/hold2.out" 2>&1
HOLD=$BG_PID
for k in $(seq 100); do grep -q '^session' "$TEST_TMP/hold2.out" && break; sleep 0.1; done
read -r _ sid passwd < <(grep '^session' "$TEST_TMP/hold2.out") || cfail "holder 2 did not start"
kill -KILL "$HOLD"; wait "$HOLD" 2>/dev/null || true
run_py ensemble_sessions.py resume "$(member_hosts 3)" "${sid#0x}" "$passwd" /moved/e1 \
  || cfail "the session did not survive the move from 1 to 3"
for h in "${all_hosts[@]}"; do
  run_py ensemble_util.py absent "$h" /moved/e1 /resumed-write || cfail "closed session's ephemerals on $h"
done
log "ok: kazoo session moved from 1 to 3 with its ephemeral"

# 4. raw protocol move with watches
run_py ensemble_sessions.py move "$(member_hosts 1)" "$(member_hosts 2)" "$(member_hosts 3)" \
  || cfail "the moved session lost its watches, ephemeral or session"
log "ok: raw session moved from 1 to 3 with its watches"
# Also between the two followers (the session then lives through a learner
# that did not create it), if 1 -> 3 was not already that.
read -r FA FB <<<"$(for i in 1 2 3; do if [ "$i" != "$L" ]; then echo "$i"; fi; done | xargs)"
if [ "$FA $FB" != "1 3" ]; then
  run_py ensemble_sessions.py move "$(member_hosts "$FB")" "$(member_hosts "$L")" "$(member_hosts "$FA")" \
    || cfail "a session moved from follower $FB to follower $FA lost its watches, ephemeral or session"
  log "ok: raw session moved from follower $FB to follower $FA with its watches"
fi

# 5. a session survives a leader change
L=$(leader_of) || cfail "no leader"
F=$(( L % 3 + 1 ))
others=$(for i in 1 2 3; do if [ "$i" != "$L" ] && [ "$i" != "$F" ]; then echo "$i"; fi; done)
py_bg ensemble_sessions.py survive "$(member_hosts "$F" $others)" 6000 "$TEST_TMP/go5" > "$TEST_TMP/surv.out" 2>&1
SURV=$BG_PID
for k in $(seq 100); do grep -q '^ready' "$TEST_TMP/surv.out" && break; sleep 0.1; done
grep -q '^ready' "$TEST_TMP/surv.out" || cfail "survivor client did not start: $(cat "$TEST_TMP/surv.out")"
kill9_member "$L"
wait_cluster_ready 30 || cfail "no new leader after killing $L"
touch "$TEST_TMP/go5"
wait "$SURV" || cfail "the session on follower $F did not survive the leader change: $(cat "$TEST_TMP/surv.out")"
log "ok: $(tail -1 "$TEST_TMP/surv.out") ($(cluster_modes))"
restart_member "$L"
wait_cluster_ready 30 || cfail "$L did not rejoin"

# 6. a killed client's session expires even when the leader that tracked it
#    dies first: the new leader expires the sessions it inherited.
L=$(leader_of) || cfail "no leader"
F=$(( L % 3 + 1 ))
py_bg ensemble_sessions.py hold "$(member_hosts "$F")" 2000 /orphan/a > "$TEST_TMP/hold3.out" 2>&1
HOLD=$BG_PID
for k in $(seq 100); do grep -q '^session' "$TEST_TMP/hold3.out" && break; sleep 0.1; done
grep -q '^session' "$TEST_TMP/hold3.out" || cfail "holder 3 did not start: $(cat "$TEST_TMP/hold3.out")"
kill -KILL "$HOLD"; wait "$HOLD" 2>/dev/null || true
kill9_member "$L"
wait_cluster_ready 30 || cfail "no new leader after killing $L"
gone=0
for k in $(seq 40); do
  if run_py ensemble_util.py absent "$(member_hosts "$F")" /orphan/a 2>/dev/null; then gone=1; break; fi
  sleep 0.5
done
[ "$gone" = 1 ] || cfail "the dead client's ephemeral outlived its session across a leader change (20 s)"
restart_member "$L"
wait_cluster_ready 30 || cfail "$L did not rejoin"
run_py ensemble_util.py absent "$(member_hosts "$L")" /orphan/a || cfail "/orphan/a back on $L"
log "ok: the new leader expired the session of a client killed before the leader change"

run_py ensemble_verify.py "${all_hosts[@]}" >/dev/null || cfail "replicas differ"
finish_cluster
log "all passed"
