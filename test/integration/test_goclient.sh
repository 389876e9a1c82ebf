#!/usr/bin/env bash
# The Go client go-zookeeper (github.com/samuel/go-zookeeper/zk from the
# Debian package golang-github-samuel-go-zookeeper-dev, unmodified) against
# Apache ZooKeeper 3.8 and against bin/zkserver: goclient/main.go is built
# offline (GOPATH mode on /usr/share/gocode), run once against each server,
# and the two normalised outputs must be identical.  The program also checks
# every observation against its expected value.  With ZK_IMPL=apache only
# Apache is run.  Covers Create/Get/Set/Delete/Exists/Children, errors,
# ephemeral+sequential, protected ephemeral sequential, ChildrenW/ExistsW/GetW
# events, Multi (success and all-or-nothing failure), digest ACLs, AddAuth,
# SetACL, auth ACL, Sync, and a session expiry seen by the client.
source "$(dirname "$0")/harness.sh"
command -v go >/dev/null || fail "go not installed (Debian package golang-go)"
[ -d /usr/share/gocode/src/github.com/samuel/go-zookeeper/zk ] \
  || fail "go-zookeeper not installed (Debian package golang-github-samuel-go-zookeeper-dev)"
mkdir -p "$TEST_TMP/gopath" "$TEST_TMP/gocache"
( cd "$HARNESS_DIR/goclient" &&
  GO111MODULE=off GOFLAGS= GOPROXY=off GOPATH="/usr/share/gocode:$TEST_TMP/gopath" \
  GOCACHE="$TEST_TMP/gocache" go build -o "$TEST_TMP/goclient" . ) \
  >"$TEST_TMP/build.log" 2>&1 || { cat "$TEST_TMP/build.log" >&2; fail "go build failed"; }

kinds="apache zkserver"; [ "$ZK_IMPL" = apache ] && kinds=apache
status=0
for kind in $kinds; do
  start_server "$kind" "$TEST_TMP/$kind"
  log "running goclient against $kind"
  if ! timeout -k 5 45 "$TEST_TMP/goclient" "$ZK_HOSTS" >"$TEST_TMP/out.$kind" 2>"$TEST_TMP/err.$kind"; then
    cat "$TEST_TMP/err.$kind" >&2
    echo "FAIL: goclient against $kind" >&2
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
log "all passed ($(grep -c ' = ' "$TEST_TMP/out.apache") observations; servers: $kinds)"
