#!/usr/bin/env bash
# lock.sh — a distributed lock with ephemeral-sequential files and
# `inotifywait -e delete`, on any zkfs mount (docs/filesystem.md section 2).
# (The one-line way is `flock MOUNT/locks/NAME COMMAND`: zkfs makes flock(2)
# a ZooKeeper lock, section 6; this script shows the recipe by hand.)
#
#   examples/lock.sh MOUNT LOCKNAME COMMAND [ARGS...]
#
# Runs COMMAND while holding the lock /locks/LOCKNAME, on whichever mount or
# replica the other holders use.  Each waiter watches only its predecessor
# (no herd effect).  The lock is released when COMMAND ends, or when this
# shell dies (the ephemeral goes with its descriptor, or with zkfs's session).
# Waits at most LOCK_TIMEOUT seconds (default 60) for the lock.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 MOUNT LOCKNAME COMMAND [ARGS...]" >&2; exit 2; }
mnt=$1 name=$2; shift 2
dir="$mnt/locks/$name"
mkdir -p "$dir"
# Our candidate: created when the descriptor opens, deleted when it closes.
exec {lockfd}>"$mnt/.zk/ephemeral-sequential/locks/$name/candidate-"
me=$(basename "$(getfattr --only-values -n user.zk.path "/proc/$$/fd/$lockfd")")
deadline=$(( $(date +%s) + ${LOCK_TIMEOUT:-60} ))
while :; do
  # The candidates in sequence order; ours is among them.
  pred=$(ls "$dir" | grep '^candidate-' | sort | awk -v me="$me" '$0 == me { print prev; exit } { prev = $0 }')
  [ -z "$pred" ] && break                     # lowest sequence number: we hold the lock
  # Wait for the predecessor's deletion (bounded, and re-checked: it may be gone already).
  left=$(( deadline - $(date +%s) ))
  [ "$left" -gt 0 ] || { echo "lock.sh: timed out waiting for $name" >&2; exit 1; }
  [ -e "$dir/$pred" ] && inotifywait -qq -t "$(( left < 5 ? left : 5 ))" -e delete "$dir" {lockfd}>&- || true
done
status=0
"$@" {lockfd}>&- || status=$?
exec {lockfd}>&-                              # release
exit "$status"
