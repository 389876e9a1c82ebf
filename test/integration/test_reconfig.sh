#!/usr/bin/env bash
# Dynamic reconfiguration (reconfigEnabled=true, super user super:test as in
# kazoo's test harness) on 3 voters, with a 4th server that joins as an
# observer by reconfig:
#  * reconfig_probe.py: kazoo's TestReconfig scenarios (test_no_super_auth,
#    test_bad_input, test_add_remove_observer) and more inputs, every answer
#    (error, config text, Stat) equal to what Apache 3.8 answers
#    (reconfig_probe.expected, captured from Apache);
#  * zkCli.sh's `config` and `reconfig -add/-remove` (output normalised:
#    ports by name, versions as V);
#  * the observer added by reconfig serves reads of the ensemble's data,
#    removed again it stops being an observer of the ensemble;
#  * a follower becomes an observer and a participant again;
#  * the leader removed by reconfig steps down and another voter leads;
#  * all of it under a kazoo write load: every acknowledged write is on
#    every remaining member at the end, whose trees are identical;
#  * the dynamic config file: zoo.cfg points at zoo.cfg.dynamic.<version>
#    and a restarted member comes back with the new membership.
# RECONFIG_CAPTURE=DIR writes the normalised outputs to DIR instead of
# comparing them (how the expected files were made, against Apache).
source "$(dirname "$0")/cluster.sh"

CLUSTER_CFG="tickTime=500 initLimit=10 syncLimit=5 reconfigEnabled=true"
export SERVER_JVMFLAGS="-Dzookeeper.DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU="
ZKCLI=/usr/share/zookeeper/bin/zkCli.sh
setup_cluster 4 4
# Members 1-3 know only each other; member 4 starts with their config plus
# itself (as an Apache joiner does) and gets in once a reconfig adds it.
for i in 1 2 3; do sed -i '/^server\.4=/d' "${CL_DIR[$i]}/zoo.cfg"; done
for i in 1 2 3; do start_member "$i"; done
CL_N=3 wait_cluster_ready 60 || cfail "the 3 voters did not form an ensemble"
L=$(leader_of) || cfail "no leader"
F=$(( L % 3 + 1 ))
log "formed: $(cluster_modes) (leader $L)"

mapfile -t FREE < <(_unique_ports 3)
# normalise : ports by name (Q1 E1 C1 ... F1 F2 F3), versions by V
SEDPORTS=()
for i in 1 2 3 4; do
  SEDPORTS+=(-e "s/:${CL_QPORT[$i]}\b/:Q$i/g" -e "s/:${CL_EPORT[$i]}\b/:E$i/g" -e "s/:${CL_CPORT[$i]}\b/:C$i/g")
done
normalise() { sed -E "${SEDPORTS[@]}" -e 's/^version=[0-9a-f]+$/version=V/' -e 's/0x[0-9a-f]{9,}/0xV/g'; }

expect() {  # expect NAME : $TEST_TMP/NAME.out against reconfig_NAME.expected
  local name=$1
  if [ -n "${RECONFIG_CAPTURE:-}" ]; then
    cp "$TEST_TMP/$name.out" "$RECONFIG_CAPTURE/reconfig_$name.expected"; return 0
  fi
  diff -u "$HARNESS_DIR/reconfig_$name.expected" "$TEST_TMP/$name.out" >&2 ||
    cfail "$name: output differs from Apache 3.8's (diff above: - Apache, + got)"
  log "ok: $name as Apache 3.8"
}

# 1. kazoo's scenarios and more inputs, through a follower (forwarded).
run_py reconfig_probe.py "$(member_hosts "$F")" \
  "${CL_QPORT[1]}" "${CL_EPORT[1]}" "${CL_CPORT[1]}" "${CL_QPORT[2]}" "${CL_EPORT[2]}" "${CL_CPORT[2]}" \
  "${CL_QPORT[3]}" "${CL_EPORT[3]}" "${CL_CPORT[3]}" "${FREE[@]}" > "$TEST_TMP/probe.out" ||
  { cat "$TEST_TMP/probe.out" >&2; cfail "reconfig_probe.py failed"; }
expect probe

# 2. A write load through member 1 (then 2, 3) for the rest of the test.
py_bg ensemble_writer.py "$(member_hosts 1 2 3)" 1 14 "$TEST_TMP/acked"
WRITER=$BG_PID

# 3. zkCli: config, then add member 4 as an observer.
start_member 4
zkcli() {  # zkcli NAME HOSTS < COMMANDS
  local name=$1 hosts=$2 rc=0
  timeout 60 "$ZKCLI" -server "$hosts" >"$TEST_TMP/$name.raw" 2>"$TEST_TMP/$name.rawerr" || rc=$?
  [ "$rc" = 124 ] && cfail "zkCli.sh timed out"
  grep -v -E '^(Connecting to |Welcome to ZooKeeper!|JLine support is|WATCHER::|WatchedEvent state:|$)' \
    "$TEST_TMP/$name.raw" | grep -v -E '^[cm]time = ' | normalise > "$TEST_TMP/$name.out" || true
  grep -v '^SLF4J:' "$TEST_TMP/$name.rawerr" | sed 's/^/stderr: /' | normalise >> "$TEST_TMP/$name.out" || true
}
zkcli zkcli_add "$(member_hosts "$F")" <<EOF2
config
reconfig -add server.4=127.0.0.1:${CL_QPORT[4]}:${CL_EPORT[4]}:observer;127.0.0.1:${CL_CPORT[4]}
addauth digest super:test
reconfig -add server.4=127.0.0.1:${CL_QPORT[4]}:${CL_EPORT[4]}:observer;127.0.0.1:${CL_CPORT[4]}
config -s
EOF2
expect zkcli_add
wait_mode 4 observer 60 || cfail "member 4 did not become an observer after the reconfig added it"
run_py ensemble_util.py create "$(member_hosts 1)" /after-add 20 || cfail "write after the add failed"
run_py ensemble_util.py check "$(member_hosts 4)" /after-add 20 || cfail "observer 4 does not serve the new data"
log "ok: member 4 joined by reconfig and observes: $(cluster_modes)"

# 4. Remove the observer again: it no longer observes this ensemble.
zkcli zkcli_remove "$(member_hosts "$F")" <<EOF2
addauth digest super:test
reconfig -remove 4
config
EOF2
expect zkcli_remove
for k in $(seq 150); do [ "$(mode_of 4)" != observer ] && break; sleep 0.2; done
[ "$(mode_of 4)" != observer ] || cfail "member 4 still observes after its removal"
log "ok: member 4 removed: $(cluster_modes)"

# 4b. Role changes: a follower becomes an observer, then a participant again.
X=$(( F % 3 + 1 )); [ "$X" = "$L" ] && X=$(( X % 3 + 1 ))
role_change() {  # role_change SID TYPE
  "$PY" - "$(member_hosts "$F")" "$1" "127.0.0.1:${CL_QPORT[$1]}:${CL_EPORT[$1]}:$2;127.0.0.1:${CL_CPORT[$1]}" <<'EOF2'
import sys, time
from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionLoss, KazooException
zk = KazooClient(hosts=sys.argv[1], timeout=20, auth_data=[("digest", "super:test")])
zk.start(timeout=30)
line = ("server.%s=%s" % (sys.argv[2], sys.argv[3])).encode()
try:
    data, st = zk.reconfig(joining=line.decode(), leaving=None, new_members=None)
except ConnectionLoss:
    data = b""
deadline = time.time() + 60
while line not in data and time.time() < deadline:
    try:
        zk.sync("/")
        data = zk.get("/zookeeper/config")[0]
    except KazooException:
        time.sleep(0.5)
assert line in data, data
zk.stop(); zk.close()
EOF2
}
# wait_counts F O : the leader's mntr reaches zk_synced_followers F,
# zk_synced_observers O and zk_synced_non_voting_followers 0 (the member
# whose role changed re-joined in its new role), within 30 s.
wait_counts() {
  local k got
  for k in $(seq 150); do
    got=$(four_letter mntr "${CL_CPORT[$L]}" | awk -F'\t' '$1 ~ /^zk_synced_(followers|observers|non_voting_followers)$/ { printf "%s=%s ", $1, $2 }')
    [ "$got" = "zk_synced_followers=$1 zk_synced_non_voting_followers=0 zk_synced_observers=$2 " ] && return 0
    sleep 0.2
  done
  echo "leader $L mntr: $got (expected followers $1, observers $2, non-voting 0)" >&2
  return 1
}
role_change "$X" observer || cfail "making member $X an observer failed"
wait_mode "$X" observer 60 || cfail "member $X did not become an observer"
wait_counts 1 1 || cfail "the leader does not count member $X as an observer"
role_change "$X" participant || cfail "making member $X a participant again failed"
wait_mode "$X" follower 60 || cfail "member $X did not become a follower again"
wait_counts 2 0 || cfail "the leader does not count member $X as a follower again"
log "ok: member $X follower -> observer -> follower by reconfig: $(cluster_modes)"

# 5. Remove the leader: it steps down, another voter leads.
"$PY" - "$(member_hosts "$F")" "$L" <<'EOF2' || cfail "removing the leader failed"
import sys, time
from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionLoss, KazooException
zk = KazooClient(hosts=sys.argv[1], timeout=20, auth_data=[("digest", "super:test")])
zk.start(timeout=30)
gone = ("server.%s=" % sys.argv[2]).encode()
try:
    data, st = zk.reconfig(joining=None, leaving=sys.argv[2], new_members=None)
except ConnectionLoss:
    # The servers go back to an election once the leader left: the reply
    # may be lost (Apache too).  Whether it was committed shows in the data.
    data = gone
deadline = time.time() + 60
while gone in data and time.time() < deadline:
    try:
        zk.sync("/")
        data = zk.get("/zookeeper/config")[0]
    except KazooException:
        time.sleep(0.5)
assert gone not in data, data
zk.stop(); zk.close()
EOF2
REST=(); for i in 1 2 3; do [ "$i" = "$L" ] || REST+=("$i"); done
NL=""
for k in $(seq 150); do
  for i in "${REST[@]}"; do [ "$(mode_of "$i")" = leader ] && NL=$i; done
  [ -n "$NL" ] && [ "$(mode_of "$L")" != leader ] && break
  NL=""; sleep 0.2
done
[ -n "$NL" ] || cfail "no remaining voter leads after the leader's removal: $(cluster_modes)"
log "ok: leader $L removed, $NL leads: $(cluster_modes)"

# 6. The write load ends; nothing acknowledged is lost on the remaining voters.
for k in $(seq 300); do kill -0 "$WRITER" 2>/dev/null || break; sleep 0.2; done
kill -0 "$WRITER" 2>/dev/null && cfail "the writer did not finish"
wait "$WRITER" || true
acked=$(wc -l < "$TEST_TMP/acked")
[ "$acked" -gt 0 ] || cfail "no write was acknowledged"
run_py ensemble_verify.py --acked "$TEST_TMP/acked" $(for i in "${REST[@]}"; do member_hosts "$i"; done) \
  > "$TEST_TMP/verify.out" || { cat "$TEST_TMP/verify.out" >&2; cfail "a replica lost acknowledged writes or differs"; }
log "ok: $acked acknowledged writes on every remaining voter ($(tail -1 "$TEST_TMP/verify.out"))"

# 7. The dynamic config file: a restarted voter keeps the new membership.
R=${REST[0]} O=${REST[1]}
# both remaining voters come back with skipACL=yes (step 8)
for i in "$R" "$O"; do echo "skipACL=yes" >> "${CL_DIR[$i]}/zoo.cfg"; done
grep -q "^dynamicConfigFile=.*zoo.cfg.dynamic.[0-9a-f]*$" "${CL_DIR[$R]}/zoo.cfg" ||
  cfail "member $R's zoo.cfg does not point at a dynamic config file"
grep -q '^server\.' "${CL_DIR[$R]}/zoo.cfg" && cfail "member $R's zoo.cfg still has server.N lines"
dyn=$(sed -n 's/^dynamicConfigFile=//p' "${CL_DIR[$R]}/zoo.cfg")
grep -q "^server\.$L=" "$dyn" && cfail "the dynamic config file still lists the removed leader $L"
stop_member "$R"
start_member "$R"
for k in $(seq 150); do
  case "$(mode_of "$R")" in leader|follower) break ;; esac; sleep 0.2
done
case "$(mode_of "$R")" in leader|follower) ;; *) cfail "member $R did not rejoin after a restart: $(cluster_modes)" ;; esac
"$PY" - "$(member_hosts "$R")" "$L" <<'EOF2' || cfail "the restarted member's /zookeeper/config"
import sys
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1], timeout=20, auth_data=[("digest", "super:test")])
zk.start(timeout=30)
zk.sync("/")
data = zk.get("/zookeeper/config")[0].decode()
assert "server.%s=" % sys.argv[2] not in data and "server.4=" not in data, data
zk.stop(); zk.close()
EOF2
log "ok: member $R restarted from its dynamic config file: $(cluster_modes)"

# 8. skipACL=yes (Apache's zookeeper.skipACL): no ACL is checked, so a
# client that is not the super user may reconfig (Apache logs a warning).
stop_member "$O"
start_member "$O"
for k in $(seq 150); do
  case "$(mode_of "$O")/$(mode_of "$R")" in leader/follower|follower/leader) break ;; esac; sleep 0.2
done
"$PY" - "$(member_hosts "$R" "$O")" <<'EOF2' || cfail "skipACL=yes: a reconfig without the super user"
import sys, time
from kazoo.client import KazooClient
from kazoo.exceptions import NewConfigNoQuorumError, ConnectionLoss
from kazoo.security import make_digest_acl
zk = KazooClient(hosts=sys.argv[1], timeout=20)
zk.start(timeout=30)
deadline = time.time() + 60
while True:   # a member just back may still be syncing: bounded retries
    try:
        data, st = zk.reconfig(joining=None, leaving="99", new_members=None)
        break
    except (NewConfigNoQuorumError, ConnectionLoss):
        if time.time() > deadline:
            raise
        time.sleep(0.5)
assert b"version=" in data, data
zk.create("/skipacl", b"x", acl=[make_digest_acl("someone", "pw", all=True)])
assert zk.get("/skipacl")[0] == b"x"
zk.delete("/skipacl")
zk.stop(); zk.close()
EOF2
grep -q "skipACL is set, reconfig operation will skip ACL checks!" "$(member_log "$R")" "$(member_log "$O")" ||
  cfail "skipACL=yes: no warning logged for the reconfig"
log "ok: skipACL=yes lets a client without the super user reconfig: $(cluster_modes)"
CL_N=4
for i in 1 2 3 4; do stop_member "$i"; done
