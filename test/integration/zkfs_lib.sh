# zkfs_lib.sh — helpers for the zkfs integration tests (sourced after
# harness.sh by test/integration/test_zkfs_*.sh and by the examples' test).
#
#   zkfs_start_replicas [KIND]   start the servers; sets REPLICA_HOSTS
#                                (one connect string per replica)
#   zkfs_finish_servers          check the servers survived, stop them
#   zkfs_mount NAME HOSTS [ZKFS ARGS...]
#                                mount under $TEST_TMP/NAME (bounded wait);
#                                sets MNT (its path)
#   zkfs_unmount NAME            SIGTERM zkfs, wait, unmount (bounded)
#   t CMD...                     run CMD bounded by $T_TIMEOUT seconds (10)
#   zkcli ARGS...                zkCli.sh against the first replica, bounded
#   check KIND ARGS...           a zkfs_checks.py check (writer, reader, legacy, kazoo-lock...)
#   expect_eq WHAT GOT WANT      fail unless GOT == WANT
#   expect_errno ERRNO CMD...    run CMD; fail unless it fails with ERRNO
#                                (matched as the strerror text in stderr)
#   inotify_bg OUT ARGS...       inotifywait -m ARGS -o OUT in the background
#                                (tracked, BG_PID), returning once its
#                                watches are set (30 s bound)
#
# Every mount is lazily unmounted and its connection aborted in the EXIT
# trap, before the harness stops the servers and removes $TEST_TMP, so a
# failing test never leaves a hung mount behind.  Every wait is bounded.

ZKFS_BIN=${ZKFS_BIN:-$REPO_ROOT/bin/zkfs}
T_TIMEOUT=${T_TIMEOUT:-10}
declare -A _ZKFS_PIDS=()    # mount path -> zkfs pid
declare -A _ZKFS_CONNS=()   # mount path -> fuse connection id (st_dev minor)

# The replicas the tests run on.  ZKFS_CLUSTER=1 (the default when
# test/integration/cluster.sh exists): a real ensemble of ZKFS_REPLICAS
# members, each mount connected to its own member first and to the others
# as fallbacks.  ZKFS_CLUSTER=0: every "replica" is one mount of the same
# standalone server.
if [ -f "$HARNESS_DIR/cluster.sh" ]; then ZKFS_CLUSTER=${ZKFS_CLUSTER:-1}; else ZKFS_CLUSTER=0; fi
ZKFS_REPLICAS=${ZKFS_REPLICAS:-3}

# zkfs_start_replicas [KIND] : start the servers; sets REPLICA_HOSTS (one
# connect string per replica) and ZK_HOSTS (all of them, for other clients).
zkfs_start_replicas() {
  local kind=${1:-$ZK_IMPL} i j
  REPLICA_HOSTS=()
  if [ "$ZKFS_CLUSTER" = 1 ]; then
    # cluster.sh sources harness.sh again, which makes a new $TEST_TMP.
    local first_tmp=$TEST_TMP
    # shellcheck source=cluster.sh
    source "$HARNESS_DIR/cluster.sh"
    trap _zkfs_cleanup EXIT          # cluster.sh installed its own
    rmdir "$first_tmp" 2>/dev/null || true
    ZK_IMPL=$kind start_cluster "$ZKFS_REPLICAS"
    for i in $(seq "$ZKFS_REPLICAS"); do
      local -a order=("$i")
      for j in $(seq "$ZKFS_REPLICAS"); do [ "$j" = "$i" ] || order+=("$j"); done
      REPLICA_HOSTS+=("$(member_hosts "${order[@]}")")
    done
    ZK_HOSTS=$(member_hosts); ZK_PORT=${CL_CPORT[1]}
    export ZK_HOSTS ZK_PORT
    log "ensemble of $ZKFS_REPLICAS ($kind): ${REPLICA_HOSTS[*]}"
  else
    start_server "$kind" "$TEST_TMP/zk" >/dev/null
    for i in $(seq "$ZKFS_REPLICAS"); do REPLICA_HOSTS+=("$ZK_HOSTS"); done
    log "standalone $kind server; $ZKFS_REPLICAS mounts of $ZK_HOSTS stand for the replicas"
  fi
}

# zkfs_finish_servers : check the servers survived the test and stop them.
zkfs_finish_servers() {
  if [ "$ZKFS_CLUSTER" = 1 ]; then finish_cluster; else finish_server; fi
}

t() { timeout -k 2 "$T_TIMEOUT" "$@"; }

# check KIND ARGS... : runs one zkfs_checks.py check (its exit status).
check() { "$PY" "$HARNESS_DIR/zkfs_checks.py" "$@"; }

zkcli() {
  timeout -k 5 60 /usr/share/zookeeper/bin/zkCli.sh -server "${REPLICA_HOSTS[0]:-$ZK_HOSTS}" "$@" 2>&1
}

expect_eq() {
  [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

expect_errno() {
  local want=$1; shift
  local out
  if out=$(t "$@" 2>&1); then fail "'$*' succeeded; expected $want"; fi
  case "$out" in *"$want"*) ;; *) fail "'$*' failed with '$out'; expected $want" ;; esac
}

# inotify_bg OUT ARGS... : `inotifywait -m ARGS -o OUT` in the background
# (tracked for cleanup; sets BG_PID); returns once it says its watches are
# established (bounded, 30 s; a fixed `sleep 1` was too short on a loaded
# machine and the events of the next step were never seen).
inotify_bg() {
  local out=$1 i; shift
  bg inotifywait -m "$@" -o "$out" 2> "$out.setup"
  for i in $(seq 300); do
    grep -q "Watches established" "$out.setup" 2>/dev/null && return 0
    kill -0 "$BG_PID" 2>/dev/null || fail "inotifywait $* exited: $(cat "$out.setup")"
    sleep 0.1
  done
  fail "inotifywait $* did not set its watches within 30 s: $(cat "$out.setup")"
}

zkfs_mount() {
  local name=$1 hosts=$2; shift 2
  local dir="$TEST_TMP/$name" i
  mkdir -p "$dir"
  "$ZKFS_BIN" -f --servers "$hosts" "$@" "$dir" >>"$TEST_TMP/$name.log" 2>&1 &
  local pid=$!
  _ZKFS_PIDS[$dir]=$pid
  for i in $(seq 100); do
    if grep -q " $dir fuse" /proc/mounts; then
      _ZKFS_CONNS[$dir]=$(_fuse_conn_of "$dir")
      MNT=$dir
      # The first request waits for the session: make sure it is served.
      t stat "$dir" >/dev/null || fail "mount $dir does not answer"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$TEST_TMP/$name.log" >&2; fail "zkfs for $dir exited"; }
    sleep 0.1
  done
  cat "$TEST_TMP/$name.log" >&2
  fail "zkfs did not mount $dir within 10 s"
}

# The fuse connection id of a mount (minor device number).
_fuse_conn_of() {
  local dev
  dev=$(awk -v d="$1" '$5 == d { print $3 }' /proc/self/mountinfo | tail -1)
  echo "${dev#*:}"
}

_abort_conn() {
  local conn=$1
  [ -n "$conn" ] || return 0
  if [ ! -d /sys/fs/fuse/connections ] || [ -z "$(ls /sys/fs/fuse/connections 2>/dev/null)" ]; then
    mount -t fusectl fusectl /sys/fs/fuse/connections 2>/dev/null || true
  fi
  [ -e "/sys/fs/fuse/connections/$conn/abort" ] && echo 1 > "/sys/fs/fuse/connections/$conn/abort" 2>/dev/null
  return 0
}

zkfs_unmount() {
  local dir="$TEST_TMP/$1"
  _zkfs_unmount_dir "$dir"
}

_zkfs_unmount_dir() {
  local dir=$1 pid=${_ZKFS_PIDS[$1]:-} i
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "zkfs $pid ($dir) ignored SIGTERM for 5 s; killing it" >&2
      _abort_conn "${_ZKFS_CONNS[$dir]:-}"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  fi
  if grep -q " $dir fuse" /proc/mounts; then
    fusermount3 -uz "$dir" 2>/dev/null || umount -l "$dir" 2>/dev/null || true
  fi
  _abort_conn_if_dead "${_ZKFS_CONNS[$dir]:-}"
  unset "_ZKFS_PIDS[$dir]"
}

# After the unmount, the connection is aborted only if no mount uses its id
# any more: ids are reused, and with tests running two at a time another
# test's fresh mount may already have this one's id (aborting it once broke
# that mount with ENOTCONN in CI).
_abort_conn_if_dead() {
  local conn=$1
  [ -n "$conn" ] && [ -e "/sys/fs/fuse/connections/$conn/abort" ] || return 0
  awk -v c="0:$conn" '$3 == c { found = 1 } END { exit !found }' /proc/self/mountinfo && return 0
  _abort_conn "$conn"
  return 0
}

_zkfs_cleanup() {
  local rc=$? dir f
  set +e   # errexit must not cut the cleanup short (the harness' part last)
  if [ "$rc" != 0 ]; then
    for f in "$TEST_TMP"/*.log; do
      [ -s "$f" ] && { echo "--- $f (last lines)" >&2; tail -n 15 "$f" >&2; }
    done
  fi
  for dir in "${!_ZKFS_PIDS[@]}"; do _zkfs_unmount_dir "$dir"; done
  # A zkfs built with sanitizers (SAN=1: bin/zkfs-san) reports into its log.
  for f in "$TEST_TMP"/*.log; do
    if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f" 2>/dev/null; then
      echo "FAIL: sanitizer report in $f:" >&2
      grep -A30 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f" | head -60 >&2
      rc=1
    fi
  done
  # The next cleanup reads the test's status from $?.
  if [ "$ZKFS_CLUSTER" = 1 ] && declare -F _cluster_cleanup >/dev/null; then
    (exit "$rc"); _cluster_cleanup
  else
    (exit "$rc"); _harness_cleanup
  fi
}
trap _zkfs_cleanup EXIT
