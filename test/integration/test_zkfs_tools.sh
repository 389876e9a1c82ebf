#!/usr/bin/env bash
# test_zkfs_tools.sh — the everyday tools work on a zkfs mount as on a
# local filesystem (docs/filesystem.md sections 1, 3, 4): types that never
# surprise (touch then >>, empty files stay files, mkdir makes
# directories, the same type on every replica's mount), cp -a, cp -p,
# install -m, tar x as root and as an unprivileged user (allow_other),
# rsync -a, sed -i, an editor's safe-save (temp file, fsync, rename over),
# python's os.replace, git clone and git commit inside the mount, chmod
# accepted without effect, and the ACL through setfattr/getfattr
# user.zk.acl.  Every tool must exit 0 and leave exactly the data.
#
# Runs against $ZK_IMPL (test_zkfs_apache.sh runs it with ZK_IMPL=apache).
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/zkfs_lib.sh"

zkfs_start_replicas
zkfs_mount a "${REPLICA_HOSTS[0]}" -o allow_other; A=$MNT
zkfs_mount b "${REPLICA_HOSTS[1]}"; B=$MNT
SRC=$TEST_TMP/src
eventually() {
  local i
  for i in $(seq 50); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  "$@"
}
# same_tree LOCAL MOUNTED : fail unless both trees hold the same files,
# directories and bytes.
same_tree() {
  diff -r "$1" "$2" >/dev/null || { diff -r "$1" "$2" >&2; fail "$2 differs from $1"; }
  expect_eq "file list of $2" "$(cd "$2" && find . | sort)" "$(cd "$1" && find . | sort)"
}

log "types that never surprise"
t touch "$A/empty" || fail "touch"
t test -f "$A/empty" || fail "touch must make a file"
t sh -c "echo hi >> '$A/empty'" || fail "echo >> after touch"
expect_eq "appended" "$(t cat "$A/empty")" "hi"
t sh -c ": > '$A/zero'"
t test -f "$A/zero" || fail "an empty file must stay a file"
t truncate -s 0 "$A/empty"; t test -f "$A/empty" || fail "truncated to 0 must stay a file"
t mkdir "$A/dir"; t test -d "$A/dir" || fail "mkdir must make a directory"
eventually test -f "$B/zero" || fail "an empty file is a file on another replica"
eventually test -d "$B/dir" || fail "a directory is a directory on another replica"
t test -f "$B/empty" || fail "touch+truncated file on another replica"
t mv "$A/zero" "$A/zero2"; t test -f "$A/zero2" || fail "a renamed empty file stays a file"
t python3 -c "import os,sys; os.mkdir(sys.argv[1])" "$A/pydir" && t test -d "$A/pydir" || fail "os.mkdir"

log "cp -a, cp -p, install -m"
mkdir -p "$SRC/sub/deeper" "$SRC/emptydir"
printf 'one\n' > "$SRC/a"; printf 'two\n' > "$SRC/sub/b"; : > "$SRC/sub/empty"
printf 'three\n' > "$SRC/sub/deeper/c"; chmod 640 "$SRC/a"; chmod 755 "$SRC/sub/deeper/c"
t cp -a "$SRC" "$A/cpa" || fail "cp -a exits non-zero"
same_tree "$SRC" "$A/cpa"
t cp -p "$SRC/a" "$A/cpp" || fail "cp -p exits non-zero"
expect_eq "cp -p data" "$(t cat "$A/cpp")" "one"
t install -m 644 "$SRC/a" "$A/installed" || fail "install -m 644 exits non-zero"
t install -D -m 600 "$SRC/sub/b" "$A/inst/dir/b" || fail "install -D -m 600 exits non-zero"
expect_eq "install data" "$(t cat "$A/inst/dir/b")" "two"
t chmod 600 "$A/installed" || fail "chmod"
t chown 0:0 "$A/installed" || fail "chown"

log "tar x as root and as an unprivileged user"
tar cf "$TEST_TMP/t.tar" -C "$SRC" . && chmod 644 "$TEST_TMP/t.tar" && chmod 755 "$TEST_TMP"
t mkdir "$A/tarx" && t tar xf "$TEST_TMP/t.tar" -C "$A/tarx" || fail "tar x as root exits non-zero"
same_tree "$SRC" "$A/tarx"
t mkdir "$A/tarnobody"
t setpriv --reuid=65534 --regid=65534 --clear-groups tar xf "$TEST_TMP/t.tar" -C "$A/tarnobody" \
  || fail "tar x as uid 65534 exits non-zero"
same_tree "$SRC" "$A/tarnobody"
t setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "echo mine > '$A/tarnobody/new'" \
  || fail "an unprivileged user writes a file"

log "rsync -a, twice (the second run finds nothing to do)"
t rsync -a "$SRC/" "$A/rs/" || fail "rsync -a exits non-zero"
same_tree "$SRC" "$A/rs"
printf 'changed\n' > "$SRC/sub/b"
t rsync -a "$SRC/" "$A/rs/" || fail "rsync -a (update) exits non-zero"
same_tree "$SRC" "$A/rs"

log "sed -i, safe-save, os.replace"
t sh -c "printf 'port=80\nhost=a\n' > '$A/conf'"
t sed -i 's/port=80/port=81/' "$A/conf" || fail "sed -i exits non-zero"
expect_eq "sed -i" "$(t cat "$B/conf" | head -1)" "port=81"
t python3 - "$A/conf" <<'PY' || fail "safe-save"
import os, sys
path = sys.argv[1]
tmp = os.path.join(os.path.dirname(path), ".conf.swp")
with open(tmp, "w") as f:          # an editor's safe-save
    f.write("port=82\n")
    f.flush()
    os.fsync(f.fileno())
os.rename(tmp, path)
with open(tmp, "w") as f:          # python's atomic replace
    f.write("port=83\n")
os.replace(tmp, path)
assert open(path).read() == "port=83\n"
assert not os.path.exists(tmp)
PY
eventually test "$(cat "$B/conf")" = "port=83" || fail "os.replace not seen on B"

log "git clone and git commit inside the mount"
git init -q "$TEST_TMP/repo"
git -C "$TEST_TMP/repo" -c user.email=t@t -c user.name=t commit -q --allow-empty -m root
cp -a "$SRC/." "$TEST_TMP/repo/"
git -C "$TEST_TMP/repo" add -A
git -C "$TEST_TMP/repo" -c user.email=t@t -c user.name=t commit -q -m files
T_TIMEOUT=60 t git clone -q "$TEST_TMP/repo" "$A/clone" || fail "git clone exits non-zero"
diff -r -x .git -x emptydir "$TEST_TMP/repo" "$A/clone" >/dev/null || fail "clone content differs"
t sh -c "echo more >> '$A/clone/a'"
T_TIMEOUT=60 t git -C "$A/clone" -c user.email=t@t -c user.name=t commit -q -am "edit in zkfs" \
  || fail "git commit exits non-zero"
expect_eq "git log" "$(t git -C "$A/clone" log --format=%s | head -1)" "edit in zkfs"
expect_eq "git status clean" "$(t git -C "$A/clone" status --porcelain)" ""
T_TIMEOUT=60 t git -C "$A/clone" fsck --no-progress >/dev/null || fail "git fsck"

log "ACL through user.zk.acl"
t sh -c "echo secret > '$A/guarded'"
t setfattr -n user.zk.acl -v 'world:anyone:r' "$A/guarded" || fail "setfattr user.zk.acl"
expect_eq "getfattr user.zk.acl" "$(t getfattr --only-values -n user.zk.acl "$A/guarded")" "world:anyone:r"
expect_eq "aversion bumped" "$(t getfattr --only-values -n user.zk.aversion "$A/guarded")" 1
eventually test "$(stat -c %A "$A/guarded")" = "-r--r--r--" || fail "mode bits follow the new ACL"
expect_errno "Permission denied" sh -c "echo w > '$B/guarded'"
expect_errno "Invalid argument" setfattr -n user.zk.acl -v 'nonsense' "$A/guarded"
# READ only: setACL needs ADMIN
expect_errno "Permission denied" setfattr -n user.zk.acl -v 'world:anyone:cdrwa' "$A/guarded"
expect_eq "ACL unchanged without ADMIN" "$(t getfattr --only-values -n user.zk.acl "$A/guarded")" "world:anyone:r"
t sh -c "echo open > '$A/opened'"
t setfattr -n user.zk.acl -v 'world:anyone:cdrwa,digest:bob:MoL+QsM2MtdMFGwNB2OjbuqiCTk=:cdrwa' "$A/opened" \
  || fail "setfattr with two entries"
expect_eq "two entries" "$(t getfattr --only-values -n user.zk.acl "$A/opened" | wc -l)" 2

zkfs_unmount a; zkfs_unmount b
zkfs_finish_servers
log "ok"
