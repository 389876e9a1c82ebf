#!/usr/bin/env bash
# test_zkfs_mount.sh — zkfs mounts like any FUSE filesystem: `zkfs --help`,
# `mount -t zkfs HOSTS[/chroot] DIR -o ...` through zkfs/mount.zkfs
# (_netdev and allow_other accepted, ro refuses changes with EROFS yet still
# raises inotify events for remote changes), an /etc/fstab line, `umount`
# ending the daemon, and the manual page.  The mount(8) side runs in a
# private mount namespace where /sbin/mount.zkfs is the repository's helper
# and /etc/fstab the test's own, so nothing outside the test sees them.
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/zkfs_lib.sh"

"$ZKFS_BIN" --help | grep -q "^usage: zkfs" || fail "zkfs --help"
man -l "$REPO_ROOT/docs/zkfs.8" 2>/dev/null | grep -q "mount.zkfs" || fail "man page does not render"
command -v unshare >/dev/null || fail "unshare (util-linux) missing"

export ZKFS_CLUSTER=0
zkfs_start_replicas
HOSTS=${REPLICA_HOSTS[0]}
"$PY" "$HARNESS_DIR/zkfs_checks.py" kazoo "$HOSTS" create /app/conf port=80 || fail "kazoo create"
mkdir -p "$TEST_TMP/m1" "$TEST_TMP/m2" "$TEST_TMP/m3" "$TEST_TMP/sbin"
ln -s "$REPO_ROOT/zkfs/mount.zkfs" "$TEST_TMP/sbin/mount.zkfs"
printf '%s %s zkfs _netdev,allow_other,nofail,timeout=3000 0 0\n' "$HOSTS/app" "$TEST_TMP/m3" \
  > "$TEST_TMP/fstab"

cat > "$TEST_TMP/inside.sh" <<'INSIDE'
# Runs in the private mount namespace; exit status = the result.
set -u
T=$TEST_TMP
bad() { echo "FAIL (inside): $*" >&2; exit 1; }
cleanup() { for d in "$T/m1" "$T/m2" "$T/m3"; do umount -l "$d" 2>/dev/null; done; }
trap cleanup EXIT
mounted() { grep -q " $1 fuse.zkfs " /proc/mounts; }
wait_gone() { for i in $(seq 50); do mounted "$1" || return 0; sleep 0.1; done; return 1; }
mount --bind "$T/sbin" /usr/sbin || bad "bind /usr/sbin"
mount --bind "$T/fstab" /etc/fstab || bad "bind /etc/fstab"
export ZKFS="$ZKFS_BIN"

mount -t zkfs "$HOSTS" "$T/m1" -o allow_other,_netdev,timeout=3000 || bad "mount -t zkfs"
mounted "$T/m1" || bad "not in /proc/mounts"
[ "$(cat "$T/m1/app/conf")" = port=80 ] || bad "data through mount -t zkfs"
echo new > "$T/m1/app/new" || bad "write through mount -t zkfs"
umount "$T/m1" || bad "umount"
wait_gone "$T/m1" || bad "still mounted after umount"

mount -t zkfs "$HOSTS/app" "$T/m2" -o ro || bad "mount -t zkfs with a chroot, ro"
[ "$(cat "$T/m2/conf")" = port=80 ] || bad "chroot: /app/conf is /conf"
out=$(sh -c "echo x > '$T/m2/conf'" 2>&1) && bad "write on ro succeeded"
case "$out" in *"Read-only file system"*) ;; *) bad "write on ro: $out" ;; esac
mkdir "$T/m2/d" 2>/dev/null && bad "mkdir on ro succeeded"
inotifywait -q -t 15 -e modify "$T/m2" > "$T/ro.ev" 2>/dev/null & iw=$!
sleep 1
"$PY" "$HARNESS_DIR/zkfs_checks.py" kazoo "$HOSTS" set /app/conf port=81 || bad "kazoo set"
wait "$iw" || bad "no IN_MODIFY on the ro mount"
grep -q "conf" "$T/ro.ev" || bad "IN_MODIFY not for conf: $(cat "$T/ro.ev")"
[ "$(cat "$T/m2/conf")" = port=81 ] || bad "ro mount reads the new data"
umount "$T/m2" || bad "umount ro"

mount "$T/m3" || bad "mount by the /etc/fstab line"
mounted "$T/m3" || bad "fstab mount not in /proc/mounts"
[ "$(cat "$T/m3/new")" = new ] || bad "fstab mount (chroot /app) reads /app/new"
umount "$T/m3" || bad "umount fstab mount"
wait_gone "$T/m3" || bad "fstab mount still there"
echo "inside: all passed"
INSIDE
export TEST_TMP HOSTS ZKFS_BIN PY HARNESS_DIR
timeout -k 5 90 unshare -m --propagation private bash "$TEST_TMP/inside.sh" \
  || fail "mount(8) checks failed"
zkfs_finish_servers
log "ok"
