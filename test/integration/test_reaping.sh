#!/usr/bin/env bash
# Container and TTL reaping against Apache ZooKeeper and zkserver: the same
# script, the same observations.
source "$(dirname "$0")/harness.sh"
export SERVER_JVMFLAGS="${SERVER_JVMFLAGS:-} -Dzookeeper.extendedTypesEnabled=true -Dznode.container.checkIntervalMs=200"
for kind in apache zkserver; do

  start_server "$kind" "$TEST_TMP/$kind" "extendedTypesEnabled=true" "znode.container.checkIntervalMs=200"
  "$PY" "$HARNESS_DIR/reaping.py" "$ZK_HOSTS" > "$TEST_TMP/$kind.out" || { cat "$TEST_TMP/$kind.out"; fail "$kind"; }
  stop_server
done
diff "$TEST_TMP/apache.out" "$TEST_TMP/zkserver.out" || fail "zkserver reaps differently from Apache"
cat "$TEST_TMP/zkserver.out"
log "passed"
