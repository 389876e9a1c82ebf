#!/usr/bin/env bash
# leader-election.sh — leader election with ephemeral-sequential files and
# `inotifywait -e delete` on a zkfs mount.
#
#   examples/leader-election.sh MOUNT ELECTION NAME [SECONDS]
#
# Joins the election /elections/ELECTION as candidate NAME (its data), waits
# until it is the leader (lowest sequence number), prints "NAME is leader",
# leads for SECONDS (default 2; 0 = until killed), then resigns by closing
# its descriptor.  Run it in several shells, on several replicas' mounts:
# they lead one after the other; killing the leader promotes the next.
# A candidate waits at most ELECTION_TIMEOUT seconds (default 60).
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 MOUNT ELECTION NAME [SECONDS]" >&2; exit 2; }
mnt=$1 election=$2 name=$3 secs=${4:-2}
dir="$mnt/elections/$election"
mkdir -p "$dir"
exec {fd}>"$mnt/.zk/ephemeral-sequential/elections/$election/n-"
echo "$name" >&"$fd"                          # committed at once: others can see who we are
me=$(basename "$(getfattr --only-values -n user.zk.path "/proc/$$/fd/$fd")")
echo "$name joined as $me"
deadline=$(( $(date +%s) + ${ELECTION_TIMEOUT:-60} ))
while :; do
  pred=$(ls "$dir" | grep '^n-' | sort | awk -v me="$me" '$0 == me { print prev; exit } { prev = $0 }')
  [ -z "$pred" ] && break
  left=$(( deadline - $(date +%s) ))
  [ "$left" -gt 0 ] || { echo "$name: gave up waiting" >&2; exit 1; }
  echo "$name waits for $pred ($(cat "$dir/$pred" 2>/dev/null || echo gone))"
  [ -e "$dir/$pred" ] && inotifywait -qq -t "$(( left < 5 ? left : 5 ))" -e delete "$dir" {fd}>&- || true
done
echo "$name is leader"
# (children do not inherit the descriptor: the candidacy is this shell's)
if [ "$secs" = 0 ]; then while :; do sleep 60 {fd}>&-; done; fi
sleep "$secs" {fd}>&-
echo "$name resigns"
exec {fd}>&-
