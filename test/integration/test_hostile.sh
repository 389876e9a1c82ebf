#!/usr/bin/env bash
# Hostile and malformed raw-socket clients (hostile.py); the server must
# survive each and keep serving.
source "$(dirname "$0")/harness.sh"
start_server "" "$TEST_TMP/s1"
run_py hostile.py "$ZK_HOSTS" "$ZK_PID"
finish_server
log "all passed"
