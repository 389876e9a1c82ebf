#!/usr/bin/env bash
# run-test.sh — the test part of `make test`, after everything is built:
# the integration tests (test/run-integration.sh: the plain pass, then the
# ASan pass) in the foreground, and at the same time, 10 nice levels below
# them on whatever CPU they leave free, the cmocka units (plain, then
# ASan+UBSan) and fuzz-smoke (one harness at a time, so one core at most).
# The integration tests mostly wait on sockets, timers and child
# processes, so the background work is hidden behind them instead of
# adding ~2.5 minutes in front of them; when both want the CPU the tests
# get ~90% of it.  (Not nice 19: its ~1.5% share could stretch a slow
# fuzz input past libFuzzer's wall-clock -timeout, or a ping in
# test_client past its session timeout, while a JVM starts.)  The background
# output is printed when the integration tests are done (it is also in
# build/test-bg.out); the exit status is non-zero if either part failed.
#
# Environment (set by the Makefile): UNIT_BIN, UNIT_SAN_BIN, FUZZ_BIN
# (space-separated binaries), UNIT_SAN_ENV (NAME=VALUE words for the ASan
# units), INTEGRATION_SAN_FILTER (the tests run again under SAN=1),
# FUZZ_SMOKE_SECONDS (default 10); INTEGRATION_FILTER (default all) limits
# the plain pass, for trying this script out.
set -u
cd "$(dirname "$0")/.." || exit 1
mkdir -p build
bgout=build/test-bg.out

background() {
  local rc=0
  # The plain Zab simulation runs 3000 random seeds here (its default,
  # for `make unit`, is 6000; `make chaos` sweeps ZAB_SIM_CHAOS_SEEDS);
  # the ASan build keeps its own default (1200).
  # shellcheck disable=SC2086
  ZAB_SIM_SEEDS=${ZAB_SIM_SEEDS:-3000} ./test/run-units.sh build/test $UNIT_BIN || rc=1
  # shellcheck disable=SC2086
  env ${UNIT_SAN_ENV:-} ./test/run-units.sh build/test-san $UNIT_SAN_BIN || rc=1
  # shellcheck disable=SC2086
  FUZZ_JOBS=1 FUZZ_SECONDS="${FUZZ_SMOKE_SECONDS:-10}" ./test/fuzz/run.sh smoke $FUZZ_BIN || rc=1
  return "$rc"
}

if [ "${1:-}" = --background ]; then background; exit; fi

start=$(date +%s)
nice -n 10 "$0" --background > "$bgout" 2>&1 &
bgpid=$!
cleanup() { kill -TERM "$bgpid" 2>/dev/null; wait "$bgpid" 2>/dev/null; }
trap 'cleanup; exit 143' TERM
trap 'cleanup; exit 130' INT

irc=0
./test/run-integration.sh "${INTEGRATION_FILTER:-}" || irc=1
SAN=1 ./test/run-integration.sh "$INTEGRATION_SAN_FILTER" || irc=1
ifin=$(date +%s)

brc=0
wait "$bgpid" || brc=1
echo "---- run alongside at nice +10: unit tests, ASan unit tests, fuzz-smoke" \
     "(done $(( $(date +%s) - ifin ))s after the integration tests)"
cat "$bgout"
echo "make test: integration $([ $irc = 0 ] && echo passed || echo FAILED)," \
     "units+fuzz-smoke $([ $brc = 0 ] && echo passed || echo FAILED), $(( $(date +%s) - start ))s"
[ "$irc" -eq 0 ] && [ "$brc" -eq 0 ]
