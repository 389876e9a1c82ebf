#!/usr/bin/env bash
# service-discovery.sh — service registration and discovery with ephemeral
# files on zkfs mounts.
#
#   examples/service-discovery.sh register MOUNT SERVICE INSTANCE ADDRESS [SECONDS]
#       registers INSTANCE (data: ADDRESS) under /services/SERVICE for
#       SECONDS (default: until killed); the registration disappears on every
#       mount when this process ends, however it ends.
#   examples/service-discovery.sh list MOUNT SERVICE
#       prints "INSTANCE ADDRESS" for every live instance.
#   examples/service-discovery.sh watch MOUNT SERVICE SECONDS
#       prints the list again at every change (inotify), for SECONDS.
set -euo pipefail
usage() { sed -n '3,13p' "$0" >&2; exit 2; }
[ $# -ge 3 ] || usage
cmd=$1 mnt=$2 service=$3
dir="$mnt/services/$service"
case "$cmd" in
  register)
    [ $# -ge 5 ] || usage
    mkdir -p "$dir"
    exec {fd}>"$mnt/.zk/ephemeral/services/$service/$4"
    echo "$5" >&"$fd"
    echo "registered $(getfattr --only-values -n user.zk.path "/proc/$$/fd/$fd")"
    # Children must not inherit the descriptor, or the registration would
    # outlive this process (an ephemeral lives while its descriptor is open).
    if [ -n "${6:-}" ]; then sleep "$6" {fd}>&-; else while :; do sleep 60 {fd}>&-; done; fi
    ;;
  list)
    [ -d "$dir" ] || exit 0
    for f in "$dir"/*; do
      [ -f "$f" ] && echo "$(basename "$f") $(cat "$f" 2>/dev/null)"
    done
    true
    ;;
  watch)
    secs=${4:?seconds}
    mkdir -p "$dir"
    end=$(( $(date +%s) + secs ))
    "$0" list "$mnt" "$service"
    while [ "$(date +%s)" -lt "$end" ]; do
      if inotifywait -qq -t "$(( end - $(date +%s) > 0 ? end - $(date +%s) : 1 ))" \
           -e create -e delete -e modify "$dir"; then
        sleep 0.2   # let a burst of changes settle
        echo "--- changed:"
        "$0" list "$mnt" "$service"
      fi
    done
    ;;
  *) usage ;;
esac
