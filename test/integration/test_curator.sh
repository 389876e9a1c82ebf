#!/usr/bin/env bash
# Apache Curator 5.4 (Debian libcurator-*-java, unmodified) against Apache
# ZooKeeper 3.8 and against bin/zkserver: curator/CuratorSuite.java is
# compiled with javac into the temp dir, run once against each server (both
# with extendedTypesEnabled=true for TTL nodes), and the two normalised
# outputs must be identical.  The program also checks every observation
# against its expected value, so a server that is wrong in the same way as
# the other still fails.  With ZK_IMPL=apache only Apache is run (checks, no
# comparison).  Covers CRUD with creatingParentsIfNeeded, EPHEMERAL_SEQUENTIAL,
# CONTAINER, TTL, transactions (transaction() and inTransaction()),
# InterProcessMutex over 3 clients, LeaderLatch and LeaderSelector with
# failover, CuratorCache and PathChildrenCache events, PersistentNode and
# PersistentTtlNode, DistributedAtomicLong, SharedCount and watchers().add().
source "$(dirname "$0")/harness.sh"
command -v javac >/dev/null || fail "javac not installed (a JDK is needed)"
JARS="curator-framework curator-recipes curator-client zookeeper zookeeper-jute guava slf4j-api slf4j-nop"
CP=""
for j in $JARS; do
  [ -r "/usr/share/java/$j.jar" ] || fail "/usr/share/java/$j.jar missing (libcurator-framework-java libcurator-recipes-java libcurator-client-java)"
  CP="$CP${CP:+:}/usr/share/java/$j.jar"
done
mkdir -p "$TEST_TMP/classes"
javac -nowarn -d "$TEST_TMP/classes" -cp "$CP" "$HARNESS_DIR/curator/CuratorSuite.java" \
  >"$TEST_TMP/javac.log" 2>&1 || { cat "$TEST_TMP/javac.log" >&2; fail "javac failed"; }

export SERVER_JVMFLAGS="${SERVER_JVMFLAGS:-} -Dzookeeper.extendedTypesEnabled=true"
kinds="apache zkserver"; [ "$ZK_IMPL" = apache ] && kinds=apache
status=0
for kind in $kinds; do
  start_server "$kind" "$TEST_TMP/$kind" "extendedTypesEnabled=true"
  log "running CuratorSuite against $kind"
  if ! timeout -k 5 50 java -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
       -cp "$TEST_TMP/classes:$CP" CuratorSuite "$ZK_HOSTS" >"$TEST_TMP/out.$kind" 2>"$TEST_TMP/err.$kind"; then
    grep -E 'CHECK FAILED' "$TEST_TMP/err.$kind" >&2 || tail -20 "$TEST_TMP/err.$kind" >&2
    echo "FAIL: CuratorSuite against $kind" >&2
    status=1
  fi
  finish_server
done
if [ "$kinds" != apache ]; then
  if ! diff -u "$TEST_TMP/out.apache" "$TEST_TMP/out.zkserver" > "$TEST_TMP/diff"; then
    cat "$TEST_TMP/diff" >&2; echo "FAIL: zkserver output differs from Apache's" >&2; status=1
  fi
fi
[ "$status" = 0 ] || fail "see above"
log "all passed ($(grep -c " = " "$TEST_TMP/out.apache") observations; servers: $kinds)"
