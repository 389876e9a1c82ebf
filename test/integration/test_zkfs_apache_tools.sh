#!/usr/bin/env bash
# test_zkfs_apache_tools.sh — bin/zkfs mounting Apache ZooKeeper 3.8 (the
# Debian package) passes the tools suite (cp, tar, rsync, sed -i, git, ACL
# xattrs: test_zkfs_tools.sh) and the locks suite (flock, fcntl, kazoo and
# Curator interoperability: test_zkfs_locks.sh) as on zkserver.
set -euo pipefail
cd "$(dirname "$0")"
# One Apache server (three JVMs would crowd a 2-core machine); the mounts
# stand for the replicas.
export ZKFS_CLUSTER=0
echo "[test_zkfs_apache_tools] tools suite on Apache ZooKeeper"
ZK_IMPL=apache bash ./test_zkfs_tools.sh
echo "[test_zkfs_apache_tools] locks suite on Apache ZooKeeper"
ZK_IMPL=apache bash ./test_zkfs_locks.sh
echo "[test_zkfs_apache_tools] ok"
