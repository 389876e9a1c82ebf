#!/usr/bin/env bash
# Runs every cmocka unit-test binary given, then prints one summary line
# "units: N passed, N failed" (each ok/FAIL line has the binary's seconds).  Exit status is non-zero if any failed.
set -u
label=$1; shift
pass=0; fail=0
for t in "$@"; do
  start=$(date +%s)
  if timeout 300 "$t" >"$t.log" 2>&1; then
    pass=$((pass+1)); echo "  ok    $t ($(( $(date +%s) - start ))s)"
  else
    fail=$((fail+1)); echo "  FAIL  $t ($(( $(date +%s) - start ))s; log follows)"; cat "$t.log"
  fi
done
echo "$label: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
