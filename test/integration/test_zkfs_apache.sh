#!/usr/bin/env bash
# test_zkfs_apache.sh — bin/zkfs mounting Apache ZooKeeper 3.8 (the Debian
# package) passes the same basic suite as on zkserver, and the inotify suite
# (changes through another mount, kazoo and zkCli.sh).  The tools and locks
# suites run on Apache in test_zkfs_apache_tools.sh.
set -euo pipefail
cd "$(dirname "$0")"
# One Apache server (three JVMs would crowd a 2-core machine); the mounts
# stand for the replicas.
export ZKFS_CLUSTER=0
echo "[test_zkfs_apache] basic suite on Apache ZooKeeper"
ZK_IMPL=apache bash ./test_zkfs_basic.sh
echo "[test_zkfs_apache] inotify suite on Apache ZooKeeper"
ZK_IMPL=apache bash ./test_zkfs_inotify.sh
echo "[test_zkfs_apache] ok"
