#!/usr/bin/env bash
# A torn last record at byte offsets of the log tail: a real standalone
# zkserver recovers each (torn_tail.py): it starts, its last zxid is the
# record before, and it logs the cut.  In make test every 6th offset is cut
# and every 12th zero-filled (test_txnlog covers every offset of both in
# process); `make chaos` runs it with TORN_CUT_STEP=1 TORN_STEP=1: every
# offset, both ways, with real processes.
source "$(dirname "$0")/harness.sh"
[ "$ZK_IMPL" = zkserver ] || { log "skipped: zkserver-specific"; exit 0; }
run_py torn_tail.py "$ZKSERVER" "$TEST_TMP" "${TORN_CUT_STEP:-6}" "${TORN_STEP:-12}" || fail "a torn tail was not recovered"
log "all passed"
