# zktool_lib.sh — helpers for the zktool tests (sourced after harness.sh):
# where bin/zktool is, running Apache's own tools (TxnLogToolkit,
# SnapshotFormatter, the 3.5 LogFormatter) through
# test/integration/java/ZkToolReference.java in one JVM, and comparing
# their output with zktool's.
#
#   ZKTOOL   the tool to test (default bin/zktool; a -san build works too)

ZKTOOL=${ZKTOOL:-bin/zktool}
case "$ZKTOOL" in /*) ;; *) ZKTOOL="$REPO_ROOT/$ZKTOOL" ;; esac
[ -x "$ZKTOOL" ] || fail "$ZKTOOL not found (make bin/zktool)"
export ZKTOOL
# Java and zktool print dates in the local zone: make it the same for both.
export TZ=UTC

ZKTOOL_JAVA_CP="/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-nop.jar:/usr/share/java/commons-cli.jar:/usr/share/java/jackson-core.jar:/usr/share/java/jackson-databind.jar:/usr/share/java/jackson-annotations.jar:/usr/share/java/netty-common.jar:/usr/share/java/netty-buffer.jar:/usr/share/java/netty-transport.jar:/usr/share/java/netty-handler.jar:/usr/share/java/netty-codec.jar:/usr/share/java/metrics-core.jar:/usr/share/java/snappy-java.jar:/usr/share/java/commons-io.jar"

# apache_tools MODE FILE OUT [MODE FILE OUT...] : runs Apache's tools (see
# ZkToolReference.java for the modes).  `make` compiles the class into
# build/java; when it is missing or stale it is compiled here (into a temp
# dir, then moved into place, so parallel tests never see half a class).
apache_tools() {
  local src="$HARNESS_DIR/java/ZkToolReference.java" cls="$REPO_ROOT/build/java"
  if [ ! -f "$cls/ZkToolReference.class" ] || [ "$src" -nt "$cls/ZkToolReference.class" ]; then
    local tmp="$TEST_TMP/java"
    mkdir -p "$tmp" "$cls"
    javac -nowarn -d "$tmp" -cp "$ZKTOOL_JAVA_CP" "$src" || fail "cannot compile ZkToolReference.java"
    mv -f "$tmp/ZkToolReference.class" "$cls/ZkToolReference.class"
  fi
  java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Duser.timezone=UTC -Dfile.encoding=UTF-8 \
    -Duser.language=en -Duser.country=US -cp "$cls:$ZKTOOL_JAVA_CP" ZkToolReference "$@" \
    || fail "Apache's tools failed on $*"
}

# same_output WHAT MINE THEIRS : fails with the diff if the files differ.
same_output() {
  if ! cmp -s "$2" "$3"; then
    diff "$2" "$3" | head -20 >&2
    fail "$1: zktool's output differs from Apache's"
  fi
}

# txn_lines FILE : the transaction lines of a log dump (no file header,
# no "EOF reached" line).
txn_lines() { grep -a -v -e '^ZooKeeper Transactional Log File' -e '^EOF reached after' "$1" || true; }

# zktool_expect STATUS CMD... : runs zktool, fails unless it exits STATUS.
zktool_expect() {
  local want=$1 rc=0; shift
  "$ZKTOOL" "$@" > "$TEST_TMP/zktool.out" 2> "$TEST_TMP/zktool.err" || rc=$?
  if [ "$rc" != "$want" ]; then
    cat "$TEST_TMP/zktool.out" "$TEST_TMP/zktool.err" >&2
    fail "zktool $* exited $rc, expected $want"
  fi
}
