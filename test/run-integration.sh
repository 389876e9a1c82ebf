#!/usr/bin/env bash
# Runs every test/integration/test_*.sh (or those whose name matches the
# optional FILTER argument, an extended regular expression), each under a timeout, prints "ok"/"FAIL" per
# test (with the log of a failed test) and ends with the line
#   integration: N passed, N failed
# Exit status is non-zero if any test failed.
#
# Environment: ZK_IMPL=zkserver|apache (default zkserver), SAN=1 to test
# bin/zkserver-san and bin/zkfs-san, TEST_TIMEOUT seconds per test (default 120).
set -u
cd "$(dirname "$0")/.." || exit 1
filter=${1:-}
if [ "${SAN:-0}" = 1 ]; then
  export ZKSERVER=bin/zkserver-san
  export ZKFS_BIN="$PWD/bin/zkfs-san"
fi
export ZK_IMPL=${ZK_IMPL:-zkserver}
per_test=${TEST_TIMEOUT:-120}
logdir=$(mktemp -d /tmp/zkit-logs.XXXXXX)
pass=0; fail=0
for t in test/integration/test_*.sh; do
  name=$(basename "$t" .sh)
  [[ -z "$filter" || "$name" =~ $filter ]] || continue
  start=$(date +%s)
  if timeout -k 10 "$per_test" bash "$t" >"$logdir/$name.log" 2>&1; then
    pass=$((pass+1)); echo "  ok    $name ($(( $(date +%s) - start ))s)"
  else
    rc=$?
    fail=$((fail+1))
    [ "$rc" = 124 ] && why="timed out after ${per_test}s" || why="exit $rc"
    echo "  FAIL  $name ($why; log follows)"
    sed 's/^/        /' "$logdir/$name.log" | tail -80
  fi
done
rm -rf "$logdir"
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
