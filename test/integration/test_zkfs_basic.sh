#!/usr/bin/env bash
# test_zkfs_basic.sh — bin/zkfs on real mounts: the SPEC section 7 shell
# transcript on every replica's mount, the file/directory mapping of
# docs/filesystem.md, .zk/data, xattrs equal to zkCli's stat, write
# semantics (atomic commit, O_APPEND, read-modify-write conflict -> ESTALE,
# EFBIG), two concurrent writers, rename, ephemeral and sequential files
# from the shell, a legacy program seeing a change made elsewhere, and the
# errno of every error of the mapping.
#
# Runs against $ZK_IMPL (zkserver by default; test_zkfs_apache.sh runs it
# with ZK_IMPL=apache).  Replicas are mounts of one standalone server until
# the ensemble exists (see zkfs_lib.sh).
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/zkfs_lib.sh"

zkfs_start_replicas
MNTS=()
for i in "${!REPLICA_HOSTS[@]}"; do
  zkfs_mount "r$i" "${REPLICA_HOSTS[$i]}" -o timeout=5000
  MNTS+=("$MNT")
done
A=${MNTS[0]}; B=${MNTS[1]}; C=${MNTS[2]:-${MNTS[1]}}

# Waits (bounded) until CMD succeeds: changes reach other mounts through
# watches, asynchronously.
eventually() {
  local i
  for i in $(seq 50); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  "$@"
}

log "SPEC section 7 transcript on every replica's mount"
for i in "${!MNTS[@]}"; do
  M=${MNTS[$i]}; O=${MNTS[$(( (i + 1) % ${#MNTS[@]} ))]}
  t mkdir "$M/app$i" || fail "mkdir on replica $i"
  t sh -c "echo 'port=80' > '$M/app$i/conf'" || fail "echo > on replica $i"
  expect_eq "cat on replica $i" "$(t cat "$M/app$i/conf")" "port=80"
  eventually test -f "$O/app$i/conf" || fail "conf of replica $i not visible on the next replica"
  expect_eq "cat through another replica" "$(t cat "$O/app$i/conf")" "port=80"
  t getfattr -d "$M/app$i/conf" | grep -q 'user.zk.czxid="0x' || fail "getfattr -d shows no czxid"
  t rm "$M/app$i/conf" || fail "rm on replica $i"
  eventually test ! -e "$O/app$i/conf" || fail "rm not seen by another replica"
  t rmdir "$M/app$i" || fail "rmdir on replica $i"
done

log "the mapping: directories and files"
zkcli create /empty >/dev/null
zkcli create /withdata hello >/dev/null
t test -d "$A/empty" || fail "an empty persistent znode must be a directory"
t test -f "$A/withdata" || fail "a childless znode with data must be a file"
expect_eq "file size = dataLength" "$(t stat -c %s "$A/withdata")" 5
t ls -a "$A" | grep -qx '.zk' && fail ".zk must not be listed by readdir"
t test -d "$A/.zk/data" || fail ".zk/data must exist"
log "a file that gets a child elsewhere becomes a directory"
t sh -c "echo v1 > '$A/parent'"
t test -f "$B/parent" || eventually test -f "$B/parent" || fail "parent not a file on B"
zkcli create /parent/kid kid-data >/dev/null
eventually test -d "$B/parent" || fail "parent did not become a directory on B"
expect_eq "child of the former file" "$(t cat "$B/parent/kid")" "kid-data"
expect_eq "data of a znode with children via .zk/data" "$(t cat "$B/.zk/data/parent/@data")" "v1"
t sh -c "echo v2 > '$B/.zk/data/parent/@data'" || fail "write through @data"
expect_eq "@data written" "$(t cat "$A/.zk/data/parent/@data")" "v2"
t ls "$A/.zk/data/parent" | grep -qx kid || fail ".zk/data lists children as directories"

log "xattrs equal to zkCli's stat"
t sh -c "printf 'x=1' > '$A/statme'"
stat_out=$(zkcli stat /statme)
for pair in cZxid:czxid mZxid:mzxid pZxid:pzxid ctime:ctime mtime:mtime cversion:cversion \
            dataVersion:version aclVersion:aversion ephemeralOwner:ephemeralOwner \
            dataLength:dataLength numChildren:numChildren; do
  zkname=${pair%%:*}; xname=${pair#*:}
  want=$(echo "$stat_out" | sed -n "s/^$zkname = //p" | tail -1)
  got=$(t getfattr --only-values -n "user.zk.$xname" "$A/statme")
  expect_eq "user.zk.$xname vs zkCli $zkname" "$got" "$want"
done
t getfattr --only-values -n user.zk.acl "$A/statme" | grep -qx 'world:anyone:cdrwa' || fail "user.zk.acl"
t getfattr -d "$A/statme" | grep -q user.zk.numChildren || fail "listxattr lacks numChildren"

log "write semantics: O_APPEND, atomic commit, read-modify-write conflict"
t sh -c "echo a > '$A/log'; echo b >> '$A/log'; echo c >> '$A/log'"
expect_eq "appends" "$(t cat "$B/log" | tr '\n' ' ')" "a b c "
t sh -c "echo base > '$A/rmw'"
eventually test -f "$B/rmw"
t "$PY" "$HARNESS_DIR/zkfs_checks.py" rmw-conflict "$A/rmw" "$B/rmw" || fail "RMW conflict not reported as ESTALE"
expect_eq "the other writer's data survives" "$(t cat "$A/rmw")" "changed elsewhere"

log "EFBIG over jute.maxbuffer"
expect_errno "File too large" dd if=/dev/zero of="$A/big" bs=1M count=2 status=none
t dd if=/dev/zero of="$A/almost" bs=1000 count=1000 status=none || fail "1 MB write must fit"
expect_eq "1 MB file" "$(t stat -c %s "$B/almost")" 1000000

log "two concurrent writers, a reader never sees a mixed file"
t sh -c "printf 'x' > '$A/race'"
check writer "$A/race" A 4000 30 & w1=$!
check writer "$B/race" B 4000 30 & w2=$!
check reader "$C/race" 200 & rd=$!
wait $w1 || fail "writer A failed"; wait $w2 || fail "writer B failed"
wait $rd || fail "a reader saw a mixed file"
final=$(t cat "$A/race")
case "$final" in "$(printf 'A%.0s' $(seq 4000))"|"$(printf 'B%.0s' $(seq 4000))") ;;
  *) fail "final content is not one writer's whole data" ;; esac

log "rename: files and directories, atomically"
t mkdir -p "$A/mv/src/sub"
t sh -c "echo one > '$A/mv/src/f1'; echo two > '$A/mv/src/sub/f2'"
t mv "$A/mv/src" "$A/mv/dst" || fail "mv of a directory"
expect_eq "moved file" "$(t cat "$B/mv/dst/sub/f2")" "two"
t test ! -e "$B/mv/src" || eventually test ! -e "$B/mv/src" || fail "source still there"
t mv "$A/mv/dst/f1" "$A/mv/f1renamed"
expect_eq "renamed file" "$(t cat "$A/mv/f1renamed")" "one"

log "ephemeral and sequential files from the shell"
t mkdir -p "$A/services/web" "$A/jobs" "$A/election"
exec 7>"$A/.zk/ephemeral/services/web/host1" || fail "create an ephemeral"
echo up >&7
eventually test -f "$B/services/web/host1" || fail "ephemeral not visible on B"
expect_eq "ephemeral data (committed per write)" "$(t cat "$B/services/web/host1")" "up"
owner=$(t getfattr --only-values -n user.zk.ephemeralOwner "$B/services/web/host1")
[ "$owner" != 0x0 ] || fail "not ephemeral"
expect_eq "created path xattr" "$(t getfattr --only-values -n user.zk.path /proc/$$/fd/7)" "/services/web/host1"
expect_errno "File exists" sh -c "exec 8>'$A/.zk/ephemeral/services/web/host1'"
exec 7>&-
eventually test ! -e "$B/services/web/host1" || fail "ephemeral outlived its descriptor"
exec 7>"$A/.zk/sequential/jobs/job-"
echo payload >&7
seqpath=$(t getfattr --only-values -n user.zk.path /proc/$$/fd/7)
exec 7>&-
case "$seqpath" in /jobs/job-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) ;; *) fail "sequential path '$seqpath'" ;; esac
expect_eq "sequential file stays" "$(t cat "$B$seqpath")" "payload"
exec 7>"$A/.zk/ephemeral-sequential/election/n-"
e1=$(t getfattr --only-values -n user.zk.path /proc/$$/fd/7)
exec 6>"$B/.zk/ephemeral-sequential/election/n-"
e2=$(t getfattr --only-values -n user.zk.path /proc/$$/fd/6)
[[ "$e1" < "$e2" ]] || fail "sequence numbers not increasing: $e1 $e2"
exec 7>&- 6>&-

log "a legacy program reading its config by path sees a change made elsewhere"
t sh -c "echo 'mode=old' > '$A/legacy.conf'"
check legacy "$B/legacy.conf" mode=old 5 || fail "legacy program does not see the first version"
( check legacy "$B/legacy.conf" mode=new 10 ) & lp=$!
sleep 0.5
t sh -c "echo 'mode=new' > '$C/legacy.conf'"
wait $lp || fail "legacy program did not see the change made through another mount"

log "errno of every error of the mapping"
expect_errno "No such file or directory" cat "$A/nope"
expect_errno "File exists" mkdir "$A/empty"
t mkdir -p "$A/full/x"
expect_errno "Directory not empty" rmdir "$A/full"
expect_errno "Not a directory" mkdir "$A/withdata/sub"
expect_errno "Invalid argument" touch "$A/$(printf 'bad\001name')"
expect_errno "Operation not permitted" ln -s /etc/passwd "$A/link"
expect_errno "Operation not permitted" ln "$A/withdata" "$A/hardlink"
expect_errno "Invalid cross-device link" "$PY" -c "import os,sys; os.rename(sys.argv[1], sys.argv[2])" "$A/withdata" "$A/.zk/data/x"
zkcli create /ro rodata >/dev/null
zkcli setAcl /ro world:anyone:r >/dev/null
expect_errno "Permission denied" sh -c "echo w > '$A/ro'"
eventually test "$(stat -c %A "$A/ro")" = "-r--r--r--" || fail "read-only ACL must show as r--r--r--"
expect_errno "Operation not supported" setfattr -n user.zk.version -v 3 "$A/withdata"
t chmod 600 "$A/withdata" || fail "chmod must be accepted (without effect)"
expect_eq "chmod has no effect: the bits come from the ACL" "$(t stat -c %a "$A/withdata")" 666

log "digest authentication through -o digest=user:pass"
t "$PY" "$HARNESS_DIR/zkfs_checks.py" kazoo "${REPLICA_HOSTS[0]}" secret /secret s3cr3t || fail "kazoo secret"
expect_errno "Permission denied" cat "$A/secret"
zkfs_mount bob "${REPLICA_HOSTS[0]}" -o digest=bob:pw
expect_eq "bob reads his znode" "$(t cat "$MNT/secret")" "s3cr3t"
expect_eq "owner bits from bob's digest ACL" "$(t stat -c %A "$MNT/secret")" "-rw-------"
t sh -c "echo new > '$MNT/secret'" || fail "bob writes his znode"
zkfs_unmount bob

log "statfs"
t stat -f "$A" >/dev/null || fail "statfs"
for i in "${!MNTS[@]}"; do zkfs_unmount "r$i"; done
zkfs_finish_servers
log "ok"
