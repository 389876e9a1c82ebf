#!/usr/bin/env bash
# Four-letter words of ensemble members (3 voters + observer 4,
# tickTime=500), compared with Apache 3.8's captures in test/vectors/fourlw/:
#   * a member that is not in a quorum (alone, or left without one) answers
#     srvr, stat, mntr, cons, conf, dump, wchs byte for byte as
#     looking-<word>.txt ("This ZooKeeper instance is not currently serving
#     requests"), ruok "imok", isro "null";
#   * in a formed ensemble srvr and stat say "Mode: leader|follower|observer"
#     with the labelled lines of Apache's <role>-srvr.txt / <role>-stat.txt,
#     mntr has zk_server_state, zk_peer_state "<leading|following|observing>
#     - broadcast", zk_quorum_size (voters), the leader's zk_learners,
#     zk_synced_followers, zk_synced_non_voting_followers,
#     zk_synced_observers, zk_pending_syncs, the observer's
#     zk_observer_master_id; isro is "rw".
source "$(dirname "$0")/cluster.sh"
VEC="$REPO_ROOT/test/vectors/fourlw"

# expect_looking I : member I answers every word as Apache's looking-*.txt.
expect_looking() {
  local i=$1 w
  for w in srvr stat mntr cons conf dump wchs; do
    four_letter "$w" "${CL_CPORT[$i]}" > "$TEST_TMP/out.$w"
    cmp -s "$TEST_TMP/out.$w" "$VEC/looking-$w.txt" \
      || cfail "member $i ($1 not serving) $w: '$(cat "$TEST_TMP/out.$w")' differs from looking-$w.txt"
  done
  [ "$(four_letter ruok "${CL_CPORT[$i]}")" = imok ] || cfail "member $i ruok while not serving"
  [ "$(four_letter isro "${CL_CPORT[$i]}")" = null ] || cfail "member $i isro while not serving: $(four_letter isro "${CL_CPORT[$i]}")"
}
# labels FILE : the "Label:" prefixes of a srvr/stat reply, one a line, sorted.
labels() { grep -o -E '^[A-Z][A-Za-z /]*:' "$1" | sort; }
# mntr_val I KEY : value of KEY in member I's mntr.
mntr_val() { four_letter mntr "${CL_CPORT[$1]}" | awk -F'\t' -v k="$2" '$1 == k { print $2 }'; }
# expect_mntr I KEY VALUE : note a mismatch in MNTR_BAD (all differences of
# the formed ensemble are reported together).
MNTR_BAD=()
expect_mntr() {
  local got; got=$(mntr_val "$1" "$2")
  [ "$got" = "$3" ] || MNTR_BAD+=("member $1 mntr $2: expected '$3', got '$got'")
}

CLUSTER_CFG="tickTime=500 initLimit=10 syncLimit=5"
setup_cluster 4 4
# zkserver: an AdminServer on every member (its `observers` is checked on
# the leader below; Apache's admin.* are system properties, left off)
if [ "$ZK_IMPL" = zkserver ]; then
  for i in 1 2 3 4; do
    CL_APORT[$i]=$(free_port)
    printf 'admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=%s\n' "${CL_APORT[$i]}" >> "${CL_DIR[$i]}/zoo.cfg"
  done
fi

start_member 1
sleep 1
expect_looking 1
start_member 4
sleep 1
expect_looking 4
log "ok: a lone voter and a lone observer answer as Apache's looking-*.txt"

start_member 2
start_member 3
wait_cluster_ready 30 || cfail "the ensemble did not form"
L=$(leader_of) || cfail "no leader"
log "formed: $(cluster_modes)"
for i in 1 2 3 4; do
  if [ "$i" = "$L" ]; then role=leader; peer="leading - broadcast"
  elif [ "$i" = 4 ]; then role=observer; peer="observing - broadcast"
  else role=follower; peer="following - broadcast"; fi
  for w in srvr stat; do
    four_letter "$w" "${CL_CPORT[$i]}" > "$TEST_TMP/out.$w"
    grep -qx "Mode: $role" "$TEST_TMP/out.$w" || cfail "member $i $w has no 'Mode: $role': $(cat "$TEST_TMP/out.$w")"
    diff <(labels "$TEST_TMP/out.$w") <(labels "$VEC/$role-$w.txt") > "$TEST_TMP/labels.diff" \
      || MNTR_BAD+=("member $i ($role) $w labels differ from Apache's $role-$w.txt (< ours, > Apache): $(tr '\n' ' ' < "$TEST_TMP/labels.diff")")
  done
  expect_mntr "$i" zk_server_state "$role"
  expect_mntr "$i" zk_peer_state "$peer"
  expect_mntr "$i" zk_quorum_size 3
  [ "$(four_letter isro "${CL_CPORT[$i]}")" = rw ] || cfail "member $i isro is not rw"
done
expect_mntr "$L" zk_learners 3
expect_mntr "$L" zk_synced_followers 2
expect_mntr "$L" zk_synced_non_voting_followers 0
expect_mntr "$L" zk_synced_observers 1
expect_mntr "$L" zk_pending_syncs 0
expect_mntr 4 zk_observer_master_id "$L"
# The AdminServer's `observers` on the leader: the observer (sid 4) with
# the keys of Apache's LearnerHandler.getLearnerHandlerInfo, its forwarded
# write counted in "requests"; orst zeroes the counts; a follower lists none.
if [ "$ZK_IMPL" = zkserver ]; then
  F=1; [ "$L" = 1 ] && F=2
  "$PY" "$HARNESS_DIR/admin_observers.py" "${CL_APORT[$L]}" "${CL_APORT[$F]}" "${CL_CPORT[4]}" \
    || MNTR_BAD+=("the leader's AdminServer observers (admin_observers.py, above)")
fi
if [ ${#MNTR_BAD[@]} -gt 0 ]; then
  printf '  %s\n' "${MNTR_BAD[@]}" >&2
  log "FAILED: ${#MNTR_BAD[@]} srvr/stat/mntr differences from Apache's (listed above); going on"
else
  log "ok: srvr/stat/mntr of leader, followers and observer"
fi

# The two followers go: the leader and the observer stop serving.
for i in 1 2 3; do if [ "$i" != "$L" ]; then stop_member "$i"; fi; done
wait_mode "$L" none 20 || cfail "the leader still serves without a quorum"
wait_mode 4 none 20 || cfail "the observer still serves without a quorum"
expect_looking "$L"
expect_looking 4
log "ok: the leader and the observer left without a quorum answer as looking-*.txt"
finish_cluster
[ ${#MNTR_BAD[@]} -eq 0 ] || fail "${#MNTR_BAD[@]} srvr/stat/mntr differences from Apache's (see above)"
log "all passed"
