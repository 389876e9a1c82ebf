#!/usr/bin/env bash
# The official C client's shell, cli_mt (zookeeper-bin), driven through
# stdin by climt_driver.py: create, get, set, ls, delete, quit.
source "$(dirname "$0")/harness.sh"
[ -x /usr/lib/zookeeper/bin/cli_mt ] || fail "cli_mt not installed (Debian package zookeeper-bin)"
start_server "" "$TEST_TMP/s1"
run_py climt_driver.py "$ZK_HOSTS"
finish_server
log "all passed"
