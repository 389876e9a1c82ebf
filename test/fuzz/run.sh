#!/usr/bin/env bash
# run.sh MODE HARNESS_BINARY... — runs libFuzzer harnesses (build/fuzz/fuzz_NAME).
#
#   smoke  (make test)  every input of test/fuzz/corpus/NAME and
#          test/fuzz/regressions/NAME once, then FUZZ_SECONDS (default 10)
#          of fuzzing in a temp dir; ends with "fuzz: N passed, N failed".
#   fuzz   (make fuzz)  FUZZ_SECONDS (default 180) per harness; new inputs go
#          to build/fuzz/work/NAME (kept, so `make fuzz-merge` can merge them
#          back), the committed corpus and regressions are read as extra
#          corpus dirs; prints executions and coverage per harness.
#   merge  (make fuzz-merge)  minimises corpus + build/fuzz/work/NAME into
#          test/fuzz/corpus/NAME (libFuzzer -merge=1).
#
# A crash, leak, timeout (FUZZ_TIMEOUT s per input, default 10) or
# sanitizer report fails the harness; the input is saved as
# build/fuzz/artifacts/NAME-crash-<sha1> (replay: build/fuzz/fuzz_NAME FILE).
# Environment: FUZZ_SECONDS, FUZZ_TIMEOUT, FUZZ_RSS_MB (default 2048),
# FUZZ_JOBS (harnesses run at once; default 1 in fuzz mode, the number of
# cores in smoke mode: -max_total_time is wall time and each libFuzzer
# process uses one core, so two at once on two cores fuzz as much per
# harness as one after the other, in half the time), FUZZ_ARGS (extra
# libFuzzer flags).
set -u
cd "$(dirname "$0")/../.." || exit 1
mode=$1; shift
seconds=${FUZZ_SECONDS:-$([ "$mode" = fuzz ] && echo 180 || echo 10)}
timeout_s=${FUZZ_TIMEOUT:-10}
rss=${FUZZ_RSS_MB:-2048}
jobs=${FUZZ_JOBS:-$([ "$mode" = smoke ] && (nproc 2>/dev/null || echo 1) || echo 1)}
mkdir -p build/fuzz/artifacts build/fuzz/logs

name_of() { basename "$1" | sed 's/^fuzz_//'; }

dict_args() {
  local d="test/fuzz/dict/$1.dict"
  [ -f "$d" ] && echo "-dict=$d"
}

# summary NAME LOG START : one line of figures from a libFuzzer log
summary() {
  local name=$1 log=$2 start=$3 execs cov ft corp
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  corp=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -1 | cut -d' ' -f2)
  printf '%-16s %6ss  execs %-10s cov %-6s ft %-7s corpus %s\n' "$name" "$(( $(date +%s) - start ))" \
    "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
}

# run_one NAME BIN WORKDIR : fuzz for $seconds from WORKDIR + corpus + regressions
run_one() {
  local name=$1 bin=$2 work=$3 log="build/fuzz/logs/$1.log" start rc
  local dirs=("$work")
  [ -d "test/fuzz/corpus/$name" ] && dirs+=("test/fuzz/corpus/$name")
  [ -d "test/fuzz/regressions/$name" ] && dirs+=("test/fuzz/regressions/$name")
  start=$(date +%s)
  # shellcheck disable=SC2046,SC2086
  "$bin" -max_total_time="$seconds" -timeout="$timeout_s" -rss_limit_mb="$rss" \
    -print_final_stats=1 -artifact_prefix="build/fuzz/artifacts/$name-" \
    $(dict_args "$name") ${FUZZ_ARGS:-} "${dirs[@]}" > "$log" 2>&1
  rc=$?
  if [ "$rc" -eq 0 ]; then
    echo "  ok    $(summary "$name" "$log" "$start")"
  else
    echo "  FAIL  $name (exit $rc; log build/fuzz/logs/$name.log, tail follows)"
    grep -v '^#' "$log" | tail -40 | sed 's/^/        /'
  fi
  return "$rc"
}

pass=0; fail=0
case "$mode" in
  smoke)
    tmp=$(mktemp -d /tmp/zkfuzz.XXXXXX)
    trap 'rm -rf "$tmp"' EXIT
    pids=()
    for bin in "$@"; do
      name=$(name_of "$bin"); mkdir -p "$tmp/$name"
      if [ "$jobs" -gt 1 ]; then
        run_one "$name" "$bin" "$tmp/$name" & pids+=($!)
        while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 0.2; done
      elif run_one "$name" "$bin" "$tmp/$name"; then pass=$((pass+1)); else fail=$((fail+1)); fi
    done
    for p in "${pids[@]}"; do if wait "$p"; then pass=$((pass+1)); else fail=$((fail+1)); fi; done
    ;;
  fuzz)
    pids=()
    for bin in "$@"; do
      name=$(name_of "$bin"); work="build/fuzz/work/$name"; mkdir -p "$work"
      if [ "$jobs" -gt 1 ]; then
        run_one "$name" "$bin" "$work" & pids+=($!)
        while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 1; done
      elif run_one "$name" "$bin" "$work"; then pass=$((pass+1)); else fail=$((fail+1)); fi
    done
    for p in "${pids[@]}"; do if wait "$p"; then pass=$((pass+1)); else fail=$((fail+1)); fi; done
    ;;
  merge)
    for bin in "$@"; do
      name=$(name_of "$bin"); work="build/fuzz/work/$name"; corpus="test/fuzz/corpus/$name"
      mkdir -p "$corpus" "$work"
      before=$(ls "$corpus" | wc -l)
      if "$bin" -merge=1 -timeout="$timeout_s" -rss_limit_mb="$rss" "$corpus" "$work" \
           > "build/fuzz/logs/$name-merge.log" 2>&1; then
        echo "  ok    $name: corpus $before -> $(ls "$corpus" | wc -l) inputs ($(du -sh "$corpus" | cut -f1))"
        pass=$((pass+1))
      else
        echo "  FAIL  $name merge (log build/fuzz/logs/$name-merge.log)"; fail=$((fail+1))
      fi
    done
    ;;
  *) echo "usage: $0 smoke|fuzz|merge HARNESS..." >&2; exit 2 ;;
esac
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
