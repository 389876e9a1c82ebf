#!/usr/bin/env bash
# tools/kazoo-upstream.sh: runs kazoo's own upstream test suite (the tests
# shipped in Debian's python3-kazoo, kazoo/tests, with pytest) against a
# zkserver ensemble started by kazoo's own harness, as a new user would run
# it; or, with IMPL=apache, against Debian's Apache ZooKeeper 3.8, to see
# which tests pass there.  kazoo's harness writes its own zoo.cfg, myid and
# jaas.conf and starts each replica as `java ... QuorumPeerMain zoo.cfg`; for
# zkserver a stand-in java (tools/kazoo-upstream/java) on PATH execs
# bin/zkserver instead.
#
# Usage: tools/kazoo-upstream.sh [PYTEST ARGS...]
#   tools/kazoo-upstream.sh                       # the whole suite
#   tools/kazoo-upstream.sh -k TestReadOnlyMode   # one class
#   ZOOKEEPER_JAAS_AUTH=digest tools/kazoo-upstream.sh -k SASL
#   IMPL=apache tools/kazoo-upstream.sh -k TestReconfig
# Environment: IMPL (zkfs | apache, default zkfs), ZKSERVER (default
# bin/zkserver; bin/zkserver-san works), ZOOKEEPER_CLUSTER_SIZE (default 3),
# ZOOKEEPER_JAAS_AUTH, KAZOO_UPSTREAM_TIMEOUT (seconds for the whole run,
# default 2400), KAZOO_UPSTREAM_TEST_TIMEOUT (seconds per test, default 120:
# a kazoo call has no timeout of its own, so a server that never answers, or
# an answer that kills kazoo's connection thread, would otherwise hang the
# run; pytest-timeout (SIGALRM) fails that test and goes on).  Prints
# pytest's summary; exits with pytest's status.
# Everything it starts runs under a private TMPDIR that is removed at the
# end; any server left by the suite is killed by PID.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
impl=${IMPL:-zkfs}
py=/usr/bin/python3

if ! "$py" -c 'import pytest, pytest_timeout, kazoo, mock, objgraph, puresasl' 2>/dev/null; then
  echo "kazoo-upstream: installing pytest and kazoo's test dependencies" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq python3-pytest python3-kazoo python3-pure-sasl python3-mock python3-objgraph python3-pytest-timeout >/dev/null
fi

work=$(mktemp -d /tmp/kazoo-upstream.XXXXXX)
runner=""
cleanup() {
  [ -z "$runner" ] || kill "$runner" 2>/dev/null || true
  # Servers are started with cwd/paths under $work: kill what is left by PID.
  local pids
  pids=$(pgrep -f "$work" || true)
  [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# A base port with 10 * size + 4 free ports above it (kazoo uses
# base + 10 i + 0..3 for server i).
size=${ZOOKEEPER_CLUSTER_SIZE:-3}
base=$("$py" - "$size" <<'PYEOF'
import random, socket, sys
size = int(sys.argv[1])
def free(p):
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", p))
        return True
    except OSError:
        return False
    finally:
        s.close()
for _ in range(200):
    b = random.randrange(20000, 45000, 10)
    if all(free(b + i) for i in range(10 * size + 4)):
        print(b)
        break
else:
    sys.exit("no free port range found")
PYEOF
)

export ZOOKEEPER_PORT_OFFSET=$base ZOOKEEPER_CLUSTER_SIZE=$size
export ZOOKEEPER_VERSION=3.8.0 TMPDIR=$work
case "$impl" in
  apache)
    export ZOOKEEPER_CLASSPATH="/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar"
    unset ZOOKEEPER_PATH || true
    ;;
  zkfs)
    zkserver=${ZKSERVER:-$root/bin/zkserver}
    [ -x "$zkserver" ] || { echo "kazoo-upstream: $zkserver not built (run make)" >&2; exit 2; }
    mkdir -p "$work/zkhome"
    : > "$work/zkhome/zookeeper-3.8.0.jar"   # kazoo only globs for it
    export ZOOKEEPER_PATH=$work/zkhome
    export KAZOO_UPSTREAM_ZKSERVER=$zkserver KAZOO_UPSTREAM_REAL_JAVA=$(command -v java || echo /usr/bin/java)
    export PATH="$root/tools/kazoo-upstream:$PATH"
    ;;
  *) echo "kazoo-upstream: IMPL must be zkfs or apache" >&2; exit 2 ;;
esac

echo "kazoo-upstream: IMPL=$impl, ports from $base, cluster of $size, pytest $*" >&2
cd "$work"
# In the background and waited for, so that a signal to this script runs
# the cleanup trap at once (bash defers traps while a foreground child runs).
set +e
timeout -k 10 "${KAZOO_UPSTREAM_TIMEOUT:-2400}" \
  "$py" -m pytest -p no:cacheprovider -q -rfEs \
    --timeout "${KAZOO_UPSTREAM_TEST_TIMEOUT:-120}" --timeout-method signal \
    --pyargs kazoo.tests "$@" &
runner=$!
wait "$runner"
rc=$?
runner=""
set -e
[ "$rc" != 124 ] || echo "kazoo-upstream: timed out after ${KAZOO_UPSTREAM_TIMEOUT:-2400} s" >&2
exit "$rc"
