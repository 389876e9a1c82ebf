#!/usr/bin/env bash
# ZooKeeper semantics through the kazoo Python client (kazoo_suite.py).
source "$(dirname "$0")/harness.sh"
start_server "" "$TEST_TMP/s1"
run_py kazoo_suite.py "$ZK_HOSTS"
finish_server
log "all passed"
