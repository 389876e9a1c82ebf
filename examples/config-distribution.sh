#!/usr/bin/env bash
# config-distribution.sh — distribute a configuration file to a legacy
# program that re-reads its file when inotify says it changed.
#
#   examples/config-distribution.sh serve MOUNT APP SECONDS
#       the "legacy program": reads MOUNT/config/APP/app.conf, prints
#       "APP loaded: <content>" at start and after every change made anywhere
#       (any replica, any client), for SECONDS.
#   examples/config-distribution.sh publish MOUNT APP 'key=value ...'
#       writes a new version of the file atomically (one setData).
set -euo pipefail
[ $# -ge 4 ] || { sed -n '3,11p' "$0" >&2; exit 2; }
cmd=$1 mnt=$2 app=$3
dir="$mnt/config/$app"
case "$cmd" in
  publish)
    mkdir -p "$dir"
    printf '%s\n' "$4" > "$dir/app.conf"
    ;;
  serve)
    secs=$4
    mkdir -p "$dir"
    end=$(( $(date +%s) + secs ))
    load() { echo "$app loaded: $(cat "$dir/app.conf" 2>/dev/null || echo '<none>')"; }
    load
    while [ "$(date +%s)" -lt "$end" ]; do
      left=$(( end - $(date +%s) )); [ "$left" -gt 0 ] || break
      # A remote change shows up as IN_CREATE or IN_CLOSE_WRITE on app.conf.
      ev=$(inotifywait -q -t "$left" -e close_write -e create -e moved_to --format '%f' "$dir" || true)
      [ "$ev" = app.conf ] && load
    done
    ;;
  *) sed -n '3,11p' "$0" >&2; exit 2 ;;
esac
