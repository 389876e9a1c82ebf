#!/usr/bin/env bash
# Runs every test/integration/test_*.sh (or those whose name matches the
# optional FILTER argument, an extended regular expression), each under a timeout, prints "ok"/"FAIL" per
# test (with the log of a failed test) and ends with the line
#   integration: N passed, N failed
# and a table of each test's seconds, slowest first.
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
times=()                # "SECONDS NAME STATUS" per test, for the table at the end
for t in test/integration/test_*.sh; do
  name=$(basename "$t" .sh)
  [[ -z "$filter" || "$name" =~ $filter ]] || continue
  start=$(date +%s)
  if timeout -k 10 "$per_test" bash "$t" >"$logdir/$name.log" 2>&1; then
    secs=$(( $(date +%s) - start ))
    pass=$((pass+1)); echo "  ok    $name (${secs}s)"; times+=("$secs $name ok")
  else
    rc=$?
    secs=$(( $(date +%s) - start )); times+=("$secs $name FAIL")
    fail=$((fail+1))
    [ "$rc" = 124 ] && why="timed out after ${per_test}s" || why="exit $rc"
    echo "  FAIL  $name ($why; log follows)"
    sed 's/^/        /' "$logdir/$name.log" | tail -80
  fi
done
rm -rf "$logdir"
# Per-test wall time, slowest first (where make test's minutes go).
if [ ${#times[@]} -gt 0 ]; then
  echo "integration timing (seconds, slowest first${SAN:+, SAN=$SAN}):"
  printf '%s\n' "${times[@]}" | sort -k1,1nr | awk '{ printf "  %5d  %-32s %s\n", $1, $2, $3; t += $1 } END { printf "  %5d  total\n", t }'
fi
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
