#!/usr/bin/env bash
# zkCli.sh (Apache's Java CLI from the Debian package) driven through stdin:
# create (-e, -s), get (-s), set (-v), stat, ls (-s), delete, deleteall,
# setAcl (digest, ip, world), getAcl, addauth digest.  Asserts on the printed
# output: stdout (data, stats, lists, ACLs) and stderr (results and errors)
# are checked separately, each in order, after stripping the log noise.
source "$(dirname "$0")/harness.sh"
start_server "" "$TEST_TMP/s1"

ZKCLI=/usr/share/zookeeper/bin/zkCli.sh
HASH=$("$PY" -c 'from kazoo.security import make_digest_acl_credential as m; print(m("alice", "secret"))')

# zkcli NAME < COMMANDS : run zkCli.sh with stdin as the command batch; the
# normalised stdout goes to $TEST_TMP/NAME.out, stderr minus the SLF4J
# lines to NAME.err (raw copies in NAME.raw / NAME.rawerr).
zkcli() {
  local name=$1 rc=0
  timeout 60 "$ZKCLI" -server "$ZK_HOSTS" >"$TEST_TMP/$name.raw" 2>"$TEST_TMP/$name.rawerr" || rc=$?
  [ "$rc" = 124 ] && fail "zkCli.sh timed out"
  # Drop the banner and connection events; zxids and times vary.
  grep -v -E '^(Connecting to |Welcome to ZooKeeper!|JLine support is|WATCHER::|WatchedEvent state:|$)' "$TEST_TMP/$name.raw" |
    sed -E -e 's/^([cmp]Zxid) = 0x[0-9a-f]+$/\1 = Z/' \
           -e 's/^([cm]time) = .*/\1 = T/' \
           -e 's/^ephemeralOwner = 0x[0-9a-f]*[1-9a-f][0-9a-f]*$/ephemeralOwner = SESSION/' \
      > "$TEST_TMP/$name.out" || true
  grep -v '^SLF4J:' "$TEST_TMP/$name.rawerr" > "$TEST_TMP/$name.err" || true
}

# expect_file NAME.EXT < EXPECTED : compare $TEST_TMP/NAME.EXT with stdin.
expect_file() {
  if ! diff -u - "$TEST_TMP/$1" > "$TEST_TMP/$1.diff"; then
    cat "$TEST_TMP/$1.diff" >&2
    echo "--- raw zkCli stdout:" >&2; cat "$TEST_TMP/${1%.*}.raw" >&2
    echo "--- raw zkCli stderr:" >&2; cat "$TEST_TMP/${1%.*}.rawerr" >&2
    fail "zkCli output $1 differs from the expected (diff above: - expected, + got)"
  fi
  log "ok: zkCli $1 as expected"
}

STAT_C='cZxid = Z
ctime = T
mZxid = Z
mtime = T
pZxid = Z
cversion = 3
dataVersion = 1
aclVersion = 0
ephemeralOwner = 0x0
dataLength = 3
numChildren = 3'

zkcli one <<CMDS
create /c one
create /c dup
create -e /c/e eph
create -s /c/s- sq
create -e -s /c/es- esq
create /c/e/child x
get /c
set /c two
get -s /c
stat /c
ls /c
ls -s /c
set -v 5 /c three
set -v 1 /c three
get /c
delete /c/e
get /c/e
create /c/d
create /c/d/x
delete /c/d
deleteall /c/d
ls /c
create -e /c/e2 x
stat /c/e2
create /c/acl secretdata
setAcl /c/acl $HASH:cdrwa
setAcl /c/acl digest:$HASH:cdrwa
getAcl /c/acl
get /c/acl
addauth digest alice:wrong
get /c/acl
addauth digest alice:secret
get /c/acl
getAcl /c/acl
create /c/ip ipdata
setAcl /c/ip ip:127.0.0.1:cdrwa
getAcl /c/ip
get /c/ip
create /c/ipno x
setAcl /c/ipno ip:10.9.9.9:cdrwa
get /c/ipno
create /c/ro r
setAcl /c/ro world:anyone:r
set /c/ro x
getAcl /c/ro
get /c/ro
delete /nonexistent
ls /nonexistent
quit
CMDS

expect_file one.out <<EXPECTED
one
two
$STAT_C
$STAT_C
[e, es-0000000002, s-0000000001]
[e, es-0000000002, s-0000000001]
$STAT_C
three
[es-0000000002, s-0000000001]
cZxid = Z
ctime = T
mZxid = Z
mtime = T
pZxid = Z
cversion = 0
dataVersion = 0
aclVersion = 0
ephemeralOwner = SESSION
dataLength = 1
numChildren = 0
secretdata
'digest,'$HASH
: cdrwa
'ip,'127.0.0.1
: cdrwa
ipdata
'world,'anyone
: r
r
EXPECTED

expect_file one.err <<EXPECTED
Created /c
Node already exists: /c
Created /c/e
Created /c/s-0000000001
Created /c/es-0000000002
Ephemerals cannot have children: /c/e/child
version No is not valid : /c
Node does not exist: /c/e
Created /c/d
Created /c/d/x
Node not empty: /c/d
Created /c/e2
Created /c/acl
Acl is not valid : /c/acl
Insufficient permission : /c/acl
Insufficient permission : /c/acl
Insufficient permission : /c/acl
Created /c/ip
Created /c/ipno
Insufficient permission : /c/ipno
Created /c/ro
Insufficient permission : /c/ro
Node does not exist: /nonexistent
Node does not exist: /nonexistent
EXPECTED

# Stat relations on the raw output of "get -s /c": created at cZxid, changed
# later (mZxid), children added after creation (pZxid).
stat_raw=$(sed -n '/^two$/,/^numChildren/p' "$TEST_TMP/one.raw")
czxid=$(sed -n 's/^cZxid = //p' <<<"$stat_raw")
mzxid=$(sed -n 's/^mZxid = //p' <<<"$stat_raw")
pzxid=$(sed -n 's/^pZxid = //p' <<<"$stat_raw")
[ -n "$czxid" ] && [ -n "$mzxid" ] && [ -n "$pzxid" ] || fail "no stat block after 'two' in zkCli output"
(( czxid < mzxid && czxid < pzxid )) ||
  fail "stat /c: expected cZxid < mZxid and cZxid < pZxid, got $czxid $mzxid $pzxid"
log "ok: stat zxid relations (cZxid $czxid < mZxid $mzxid, < pZxid $pzxid)"

# A second session: the first one's ephemerals are gone, the data persists.
zkcli two <<CMDS
ls /c
get /c
stat /c/s-0000000001
quit
CMDS
expect_file two.out <<EXPECTED
[acl, ip, ipno, ro, s-0000000001]
three
cZxid = Z
ctime = T
mZxid = Z
mtime = T
pZxid = Z
cversion = 0
dataVersion = 0
aclVersion = 0
ephemeralOwner = 0x0
dataLength = 2
numChildren = 0
EXPECTED
expect_file two.err </dev/null

# One command given on the command line (non-batch mode).  zkCli's default
# watcher prints "WatchedEvent state:SyncConnected ..." from its event thread,
# before or after the command's output (a race inside zkCli, whatever the
# server): leave that line out.
out=$(timeout 60 "$ZKCLI" -server "$ZK_HOSTS" get /c 2>/dev/null | grep -v '^WatchedEvent ' | tail -1) || true
[ "$out" = three ] || fail "zkCli.sh get /c on the command line: expected 'three', got '$out'"
log "ok: command-line mode"

finish_server
log "all passed"
