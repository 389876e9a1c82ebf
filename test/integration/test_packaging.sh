#!/usr/bin/env bash
# test_packaging.sh — installing and supervising zkserver:
#  1. make install DESTDIR=... PREFIX=/usr/local puts every file where the
#     docs say, with the paths of that prefix inside the scripts and units;
#     make uninstall removes them and keeps the configuration.
#  2. the systemd units pass `systemd-analyze verify` (systemd is not PID 1
#     here, so the service itself is not started by systemd).
#  3. the installed zkserverctl and Apache's own zkServer.sh, side by side
#     on the same kind of zoo.cfg, print the same lines and exit codes for
#     start, status, start again, stop, status, stop again.
#  4. logging: the -l log file is reopened on `zkserverctl reopen-logs`.
#  5. readiness: zkserver sends READY=1 over $NOTIFY_SOCKET once it serves
#     (standalone; a one-member ensemble once it leads), then STOPPING=1.
#  6. make deb builds a package (dpkg-deb); dpkg installs it into a scratch
#     root (--root, --force-script-chrootless), the installed zkserverctl
#     starts the installed zkserver, ruok -> imok, dpkg purges it again.
source "$(dirname "$0")/harness.sh"
INST="$TEST_TMP/inst"
# This test runs make itself; it must not inherit the flags (jobserver) of
# a `make test` that runs it.
unset MAKEFLAGS MAKELEVEL MFLAGS

log "make install / uninstall"
make -C "$REPO_ROOT" --no-print-directory -s install DESTDIR="$INST" PREFIX=/usr/local > "$TEST_TMP/install.out" 2>&1 \
  || { cat "$TEST_TMP/install.out" >&2; fail "make install failed"; }
P="$INST/usr/local"
for f in bin/zkserver bin/zktool bin/zkfs bin/zkserverctl bin/zkServer.sh lib/systemd/system/zkserver.service \
         lib/systemd/system/zkserver@.service etc/zkfs/zoo.cfg etc/default/zkserver etc/logrotate.d/zkfs \
         share/man/man1/zktool.1 share/man/man8/zkserver.8 share/man/man8/zkserverctl.8 \
         share/doc/zkfs/operations.md share/doc/zkfs/examples/zoo.cfg; do
  [ -e "$P/$f" ] || fail "make install did not install $f"
done
for f in sbin/mount.zkfs usr/local/share/man/man8/zkfs.8 usr/local/share/man/man8/mount.zkfs.8; do
  [ -e "$INST/$f" ] || fail "make install did not install $f"
done
grep -q '^ExecStart=/usr/local/bin/zkserver /usr/local/etc/zkfs/zoo.cfg$' "$P/lib/systemd/system/zkserver.service" || fail "unit paths"
grep -q 'ZOOCFGDIR=${ZOOCFGDIR:-/usr/local/etc/zkfs}' "$P/bin/zkserverctl" || fail "zkserverctl config dir"
grep -q '@[A-Z]*@' "$P/bin/zkserverctl" "$P"/lib/systemd/system/* "$P/etc/logrotate.d/zkfs" && fail "unsubstituted @VAR@ left"
echo "changed" >> "$P/etc/zkfs/zoo.cfg"
make -C "$REPO_ROOT" --no-print-directory -s install DESTDIR="$INST" PREFIX=/usr/local > /dev/null 2>&1 || fail "second make install failed"
tail -1 "$P/etc/zkfs/zoo.cfg" | grep -q changed || fail "make install overwrote the configuration"
make -C "$REPO_ROOT" --no-print-directory -s uninstall DESTDIR="$INST" PREFIX=/usr/local > /dev/null 2>&1 || fail "make uninstall failed"
[ ! -e "$P/bin/zkserver" ] && [ ! -e "$P/lib/systemd/system/zkserver.service" ] && [ ! -e "$INST/sbin/mount.zkfs" ] || fail "uninstall left files"
[ -e "$P/etc/zkfs/zoo.cfg" ] || fail "uninstall removed the configuration"
make -C "$REPO_ROOT" --no-print-directory -s install DESTDIR="$INST" PREFIX=/usr/local > /dev/null 2>&1 || fail "make install failed"

log "systemd units"
if command -v systemd-analyze > /dev/null; then
  mkdir -p "$TEST_TMP/units"
  for u in zkserver.service zkserver@.service; do
    # The installed unit, with ExecStart pointing at binaries that exist here.
    sed -e "s|/usr/local/bin/|$P/bin/|g" "$P/lib/systemd/system/$u" > "$TEST_TMP/units/${u/@/@test}"
    systemd-analyze verify --man=no "$TEST_TMP/units/${u/@/@test}" > "$TEST_TMP/verify.out" 2>&1 \
      || { cat "$TEST_TMP/verify.out" >&2; fail "systemd-analyze verify $u"; }
    [ -s "$TEST_TMP/verify.out" ] && { cat "$TEST_TMP/verify.out" >&2; fail "systemd-analyze verify $u warned"; }
  done
else
  log "systemd-analyze not installed: units not verified"
fi

log "zkserverctl and Apache's zkServer.sh side by side"
# Apache's real zkServer.sh, with a zkEnv.sh whose log directory is ours
# (Debian's points at /var/log/zookeeper).
mkdir -p "$TEST_TMP/apache-bin" "$TEST_TMP/apache-logs"
cp /usr/share/zookeeper/bin/zkServer.sh "$TEST_TMP/apache-bin/"
sed -e "s|^ZOO_LOG_DIR=.*|ZOO_LOG_DIR=$TEST_TMP/apache-logs|" \
    -e "s|^CLASSPATH=.*|CLASSPATH=\"$TEST_TMP/apache-bin:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-nop.jar:/usr/share/java/zookeeper-jute.jar\"|" \
    /usr/share/zookeeper/bin/zkEnv.sh > "$TEST_TMP/apache-bin/zkEnv.sh"
script_run() {   # KIND CMD : runs that script's CMD on KIND's zoo.cfg; prints "rc=N" after its stdout
  local kind=$1 cmd=$2 rc=0 sh
  if [ "$kind" = apache ]; then sh="$TEST_TMP/apache-bin/zkServer.sh"; else sh="$P/bin/zkServer.sh"; fi
  ZOO_LOG_DIR="$TEST_TMP/$kind-logs" ZKSERVERCTL_TIMEOUT=60 "$sh" "$cmd" "$TEST_TMP/$kind/zoo.cfg" \
    > "$TEST_TMP/$kind.$cmd.out" 2> "$TEST_TMP/$kind.$cmd.err" || rc=$?
  sed -e "s|$TEST_TMP/$kind|DIR|g" -e 's/process [0-9]*/process N/' -e "s/ $(sed -n 's/^clientPort=//p' "$TEST_TMP/$kind/zoo.cfg")\./ PORT./" \
    "$TEST_TMP/$kind.$cmd.out"
  echo "rc=$rc"
  grep -q "^Using config: $TEST_TMP/$kind/zoo.cfg$" "$TEST_TMP/$kind.$cmd.err" || fail "$kind $cmd: no 'Using config' line"
}
for kind in apache zkserver; do
  mkdir -p "$TEST_TMP/$kind/data"
  printf 'tickTime=2000\ndataDir=%s\nclientPort=%s\nadmin.enableServer=false\n4lw.commands.whitelist=*\n' \
    "$TEST_TMP/$kind/data" "$(free_port)" > "$TEST_TMP/$kind/zoo.cfg"
  {
    script_run "$kind" start
    [ "$kind" = apache ] && { wait_ruok "$(sed -n 's/^clientPort=//p' "$TEST_TMP/$kind/zoo.cfg")" 60 || fail "Apache did not start"; }
    track_pid "$(cat "$TEST_TMP/$kind/data/zookeeper_server.pid")"
    script_run "$kind" status
    script_run "$kind" start
    [ "$kind" = zkserver ] && cp "$TEST_TMP/$kind/data/zookeeper_server.pid" "$TEST_TMP/zkserver.pid"
    if [ "$kind" = zkserver ]; then
      # Log rotation: move the file away, ask for a reopen, the server writes a new one.
      mv "$TEST_TMP/zkserver-logs/zkserver.log" "$TEST_TMP/zkserver-logs/zkserver.log.1"
      "$P/bin/zkserverctl" reopen-logs "$TEST_TMP/$kind/zoo.cfg" 2> /dev/null || fail "reopen-logs failed"
      for _ in $(seq 40); do grep -qs "log file .* reopened" "$TEST_TMP/zkserver-logs/zkserver.log" && break; sleep 0.25; done
      grep -qs "log file .* reopened" "$TEST_TMP/zkserver-logs/zkserver.log" || fail "the log file was not reopened"
      [ "$(four_letter ruok "$(sed -n 's/^clientPort=//p' "$TEST_TMP/$kind/zoo.cfg")")" = imok ] || fail "ruok after reopen"
    fi
    script_run "$kind" stop
    script_run "$kind" status
    script_run "$kind" stop
  } > "$TEST_TMP/$kind.transcript"
done
pid=$(cat "$TEST_TMP/zkserver.pid")
kill -0 "$pid" 2>/dev/null && fail "zkserverctl stop left process $pid"
grep -q "received signal 15, shutting down" "$TEST_TMP/zkserver-logs/zkserver.log" || fail "no clean stop in the log"
if ! cmp -s "$TEST_TMP/zkserver.transcript" "$TEST_TMP/apache.transcript"; then
  diff "$TEST_TMP/zkserver.transcript" "$TEST_TMP/apache.transcript" >&2
  fail "zkserverctl and zkServer.sh differ"
fi
sed 's/^/    /' "$TEST_TMP/zkserver.transcript"

log "readiness over \$NOTIFY_SOCKET"
mkdir -p "$TEST_TMP/n1/data" "$TEST_TMP/n2/data"
printf 'tickTime=2000\ndataDir=%s\nclientPort=%s\n' "$TEST_TMP/n1/data" "$(free_port)" > "$TEST_TMP/n1/zoo.cfg"
run_py sdnotify_listen.py "$TEST_TMP/n1/notify" 30 "$ZKSERVER" "$TEST_TMP/n1/zoo.cfg" > "$TEST_TMP/n1.msgs" \
  || { cat "$TEST_TMP/n1.msgs" >&2; fail "standalone: no READY=1 then STOPPING=1"; }
grep -q '^READY=1|STATUS=Mode: standalone, client port [0-9]*$' "$TEST_TMP/n1.msgs" || fail "standalone: $(cat "$TEST_TMP/n1.msgs")"
p=$(free_port); q1=$(free_port); q2=$(free_port)
echo 1 > "$TEST_TMP/n2/data/myid"
printf 'tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=%s\nstandaloneEnabled=false\nserver.1=127.0.0.1:%s:%s\n' \
  "$TEST_TMP/n2/data" "$p" "$q1" "$q2" > "$TEST_TMP/n2/zoo.cfg"
run_py sdnotify_listen.py "$TEST_TMP/n2/notify" 60 "$ZKSERVER" "$TEST_TMP/n2/zoo.cfg" > "$TEST_TMP/n2.msgs" \
  || { cat "$TEST_TMP/n2.msgs" >&2; fail "ensemble: no READY=1 then STOPPING=1"; }
head -1 "$TEST_TMP/n2.msgs" | grep -q '^STATUS=looking for a quorum' || fail "ensemble: first message $(head -1 "$TEST_TMP/n2.msgs")"
grep -q '^READY=1|STATUS=Mode: leader, client port' "$TEST_TMP/n2.msgs" || fail "ensemble: $(cat "$TEST_TMP/n2.msgs")"

log "make deb, then dpkg into a scratch root"
make -C "$REPO_ROOT" --no-print-directory -s deb > "$TEST_TMP/deb.out" 2>&1 || { cat "$TEST_TMP/deb.out" >&2; fail "make deb failed"; }
deb=$(sed -n 's/^built //p' "$TEST_TMP/deb.out")
[ -f "$REPO_ROOT/$deb" ] || fail "no package: $(cat "$TEST_TMP/deb.out")"
deb="$REPO_ROOT/$deb"
dpkg-deb -f "$deb" Package Depends > "$TEST_TMP/fields"
grep -q '^Package: zkfs$' "$TEST_TMP/fields" && grep -q '^Depends: .*libglib2.0-0' "$TEST_TMP/fields" || fail "control: $(cat "$TEST_TMP/fields")"
dpkg-deb -c "$deb" > "$TEST_TMP/contents"
for f in ./usr/bin/zkserver ./usr/bin/zktool ./usr/bin/zkserverctl ./lib/systemd/system/zkserver.service ./etc/zkfs/zoo.cfg; do
  grep -q " $f\$" "$TEST_TMP/contents" || grep -q " $f -> " "$TEST_TMP/contents" || fail "the package lacks $f"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -q '^/etc/zkfs/zoo.cfg$' || fail "zoo.cfg is not a conffile"
R="$TEST_TMP/root"
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"
touch "$R/var/lib/dpkg/status" "$R/var/lib/dpkg/available"
DPKG=(dpkg --root="$R" --force-script-chrootless --force-depends --log=/dev/null)
"${DPKG[@]}" -i "$deb" > "$TEST_TMP/dpkg.out" 2>&1 || { cat "$TEST_TMP/dpkg.out" >&2; fail "dpkg -i failed"; }
[ "$(dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Status}' zkfs)" = "install ok installed" ] || fail "not installed"
[ -d "$R/var/lib/zkfs" ] && [ -d "$R/var/log/zkfs" ] || fail "postinst did not make the directories"
mkdir -p "$TEST_TMP/pkg/data"
port=$(free_port)
sed -e "s|^dataDir=.*|dataDir=$TEST_TMP/pkg/data|" -e "s|^clientPort=.*|clientPort=$port|" "$R/etc/zkfs/zoo.cfg" > "$TEST_TMP/pkg/zoo.cfg"
ZOO_LOG_DIR="$TEST_TMP/pkg" "$R/usr/bin/zkserverctl" start "$TEST_TMP/pkg/zoo.cfg" > "$TEST_TMP/pkg.out" 2>&1 || { cat "$TEST_TMP/pkg.out" "$TEST_TMP/pkg/zkserver.log" >&2; fail "the packaged server did not start"; }
track_pid "$(cat "$TEST_TMP/pkg/data/zookeeper_server.pid")"
[ "$(four_letter ruok "$port")" = imok ] || fail "the packaged server does not answer ruok"
"$R/usr/bin/zkserverctl" status "$TEST_TMP/pkg/zoo.cfg" 2> /dev/null | grep -q '^Mode: standalone$' || fail "status of the packaged server"
ZOO_LOG_DIR="$TEST_TMP/pkg" "$R/usr/bin/zkserverctl" stop "$TEST_TMP/pkg/zoo.cfg" > /dev/null 2>&1 || fail "stop failed"
"${DPKG[@]}" --purge zkfs > "$TEST_TMP/dpkg.out" 2>&1 || { cat "$TEST_TMP/dpkg.out" >&2; fail "dpkg --purge failed"; }
[ ! -e "$R/usr/bin/zkserver" ] && [ ! -e "$R/etc/zkfs/zoo.cfg" ] && [ ! -e "$R/var/log/zkfs" ] || fail "purge left files"
log "ok ($(basename "$deb"), $(du -k "$deb" | cut -f1) KiB)"
