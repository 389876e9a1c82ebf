#!/usr/bin/env bash
# test_zkfs_inotify.sh — the kernel raises inotify events on a mount for
# changes made elsewhere (SPEC section 8, docs/filesystem.md section 8):
# `inotifywait -m -r` on replica B's mount sees IN_CREATE, IN_MODIFY,
# IN_CLOSE_WRITE, IN_DELETE, IN_ATTRIB, with IN_ISDIR where it applies, for
# changes made through replica A's mount, through kazoo connected to
# replica C, and through zkCli.sh; and, on an ensemble, changes made while
# a mount's session was cut off from the servers (no silent gap).
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/zkfs_lib.sh"

zkfs_start_replicas
zkfs_mount a "${REPLICA_HOSTS[0]}"; A=$MNT
zkfs_mount b "${REPLICA_HOSTS[1]}"; B=$MNT
C_HOSTS=${REPLICA_HOSTS[2]:-${REPLICA_HOSTS[0]}}
t mkdir "$A/w" "$A/w/viaA" "$A/w/viaK" "$A/w/viaZ"
EV=$TEST_TMP/events.log
inotify_bg "$EV" -r --format '%w%f %e' "$B/w"
IW=$BG_PID

# wait_event PATTERN : wait (bounded) until the event log has a line matching
# the extended regular expression PATTERN.
wait_event() {
  local i
  for i in $(seq 100); do grep -Eq "$1" "$EV" && return 0; sleep 0.1; done
  echo "--- events so far:" >&2; cat "$EV" >&2
  fail "no event matching '$1' on B"
}

log "changes through replica A's mount"
t sh -c "echo one > '$A/w/viaA/f'"
wait_event "viaA/f CREATE$"
wait_event "viaA/f (MODIFY|CLOSE_WRITE,CLOSE)$"
t sh -c "echo two > '$A/w/viaA/f'"
wait_event "viaA/f MODIFY$"
wait_event "viaA/f CLOSE_WRITE,CLOSE$"
t mkdir "$A/w/viaA/d"
wait_event "viaA/d CREATE,ISDIR$"
t sh -c "echo k > '$A/w/viaA/d/kid'"
wait_event "viaA/d/kid CREATE$"
# The data of a directory (it has a child) changes: IN_ATTRIB|IN_ISDIR.
t sh -c "echo dirdata > '$A/.zk/data/w/viaA/d/@data'"
wait_event "viaA/d ATTRIB,ISDIR$"
t rm "$A/w/viaA/f"
wait_event "viaA/f DELETE$"
t mkdir "$A/w/viaA/e"
wait_event "viaA/e CREATE,ISDIR$"
t rmdir "$A/w/viaA/e"
wait_event "viaA/e DELETE,ISDIR$"
# d loses its last child and has data: it becomes a file (docs section 1).
t rm "$A/w/viaA/d/kid"
wait_event "viaA/d/kid DELETE$"
wait_event "viaA/d CREATE$"
expect_eq "former directory is a file with its data" "$(t cat "$B/w/viaA/d")" "dirdata"

log "changes through kazoo (connected to replica C)"
kz() { t "$PY" "$HARNESS_DIR/zkfs_checks.py" kazoo "$C_HOSTS" "$@" || fail "kazoo $*"; }
kz create /w/viaK/f hello
wait_event "viaK/f CREATE$"
kz set /w/viaK/f world
wait_event "viaK/f MODIFY$"
kz mkdir /w/viaK/d
wait_event "viaK/d CREATE,ISDIR$"
kz delete /w/viaK/f
wait_event "viaK/f DELETE$"
kz delete /w/viaK/d
wait_event "viaK/d DELETE,ISDIR$"

log "changes through zkCli.sh"
zkcli create /w/viaZ/f hello >/dev/null
wait_event "viaZ/f CREATE$"
zkcli set /w/viaZ/f world >/dev/null
wait_event "viaZ/f MODIFY$"
zkcli delete /w/viaZ/f >/dev/null
wait_event "viaZ/f DELETE$"

log "the content seen on B after the events is the new one"
kz create /w/viaK/g fresh
wait_event "viaK/g CREATE$"
expect_eq "content on B" "$(t cat "$B/w/viaK/g")" "fresh"

log "changes made through B itself are not echoed twice"
: > "$EV.before"; cp "$EV" "$EV.before"
t sh -c "echo local > '$B/w/viaK/local'"
sleep 1
n=$(grep -c "viaK/local CREATE$" "$EV" || true)
expect_eq "IN_CREATE count for a local create" "$n" 1

kill "$IW" 2>/dev/null || true

if [ "$ZKFS_CLUSTER" = 1 ]; then
  log "no silent gap: changes made while a mount was disconnected raise their events"
  # Mount D talks to a follower F first; F is frozen while the changes are
  # made through the other members, so D's session misses their watch
  # events; when D's client gives up on F it resumes the session elsewhere
  # and zkfs compares what the kernel has with the server.
  L=$(leader_of) || fail "no leader"
  F=1; [ "$L" = 1 ] && F=2
  others=(); for i in $(seq "$CL_N"); do [ "$i" = "$F" ] || others+=("$i"); done
  OTHERS=$(member_hosts "${others[@]}")
  zkfs_mount d "$(member_hosts "$F" "${others[@]}")" -o session_timeout=4000,timeout=3000; D=$MNT
  t mkdir "$A/rc"
  t sh -c "echo v1 > '$A/rc/keep'; echo bye > '$A/rc/gone'; echo same > '$A/rc/same'"
  for i in $(seq 50); do [ "$(ls "$D/rc" 2>/dev/null | wc -l)" = 3 ] && break; sleep 0.1; done
  t cat "$D/rc/keep" "$D/rc/gone" "$D/rc/same" >/dev/null || fail "D does not see rc"
  EV2=$TEST_TMP/events2.log
  inotify_bg "$EV2" --format '%f %e' "$D/rc"; IW2=$BG_PID
  pause_member "$F"
  kzo() { t "$PY" "$HARNESS_DIR/zkfs_checks.py" kazoo "$OTHERS" "$@" || fail "kazoo $*"; }
  kzo create /rc/new born
  kzo set /rc/keep v2
  kzo delete /rc/gone
  for i in $(seq 600); do
    grep -q "^new CREATE" "$EV2" && grep -q "^gone DELETE" "$EV2" && grep -q "^keep MODIFY" "$EV2" && break
    sleep 0.1
  done
  resume_member "$F"
  grep -q "^new CREATE" "$EV2" || { cat "$EV2" >&2; fail "no IN_CREATE for a znode created while disconnected"; }
  grep -q "^gone DELETE" "$EV2" || { cat "$EV2" >&2; fail "no IN_DELETE for a znode deleted while disconnected"; }
  grep -q "^keep MODIFY" "$EV2" || { cat "$EV2" >&2; fail "no IN_MODIFY for a znode changed while disconnected"; }
  grep -q "^same " "$EV2" && { cat "$EV2" >&2; fail "an event for an unchanged znode"; }
  expect_eq "D reads the new data" "$(t cat "$D/rc/keep")" "v2"
  kill "$IW2" 2>/dev/null || true
  zkfs_unmount d
fi
zkfs_unmount a; zkfs_unmount b
zkfs_finish_servers
log "ok"
