#!/usr/bin/env bash
# The client library's cmocka suite (test/unit/test_client.c) run against
# Apache ZooKeeper 3.8 from the Debian package instead of bin/zkserver: the
# test binary starts and stops the Apache server itself (ZK_TEST_APACHE=1),
# on a free loopback port with a temp dataDir.  Prints one pass/fail line.
#
# Environment: SAN=1 runs the ASan+UBSan build (build/test-san/test_client);
# CLIENT_TEST_BIN overrides the binary's path.
source "$(dirname "$0")/harness.sh"
[ -r /usr/share/java/zookeeper.jar ] || fail "Apache ZooKeeper not installed (Debian package zookeeper)"
command -v java >/dev/null || fail "java not installed"

if [ "${SAN:-0}" = 1 ]; then bin=build/test-san/test_client; else bin=build/test/test_client; fi
bin=${CLIENT_TEST_BIN:-$bin}
cd "$REPO_ROOT"
if [ ! -x "$bin" ]; then
  make --no-print-directory "$bin" >"$TEST_TMP/build.log" 2>&1 || { tail -30 "$TEST_TMP/build.log" >&2; fail "could not build $bin"; }
fi

if ZK_TEST_APACHE=1 ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
   timeout -k 5 110 "$bin" >"$TEST_TMP/client.log" 2>&1; then
  grep -E '^\[  PASSED  \]' "$TEST_TMP/client.log" | sed 's/^/  /' || true
  log "PASS: client library suite against Apache ZooKeeper 3.8"
else
  cat "$TEST_TMP/client.log" >&2
  fail "client library suite against Apache ZooKeeper 3.8"
fi
