#!/usr/bin/env bash
# `make run`: starts a three-replica zkserver ensemble on loopback, mounts
# every replica with zkfs (when bin/zkfs exists) and shows how to use it.
#
# Environment: ZKFS_RUN_DIR (default /tmp/zkfs-run), ZKFS_BASE_PORT (default
# 2181: client ports 2181..2183, quorum 2888.., election 3888..).
# Stop everything with: tools/run-cluster.sh stop
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${ZKFS_RUN_DIR:-/tmp/zkfs-run}
BASE=${ZKFS_BASE_PORT:-2181}
N=3

stop_all() {
  for i in $(seq $N); do
    if mountpoint -q "$RUN/mnt/$i" 2>/dev/null; then fusermount3 -uz "$RUN/mnt/$i" || true; fi
    [ -f "$RUN/zkfs$i.pid" ] && kill "$(cat "$RUN/zkfs$i.pid")" 2>/dev/null || true
    [ -f "$RUN/zkserver$i.pid" ] && kill "$(cat "$RUN/zkserver$i.pid")" 2>/dev/null || true
    rm -f "$RUN/zkfs$i.pid" "$RUN/zkserver$i.pid"
  done
}
if [ "${1:-}" = stop ]; then stop_all; echo "stopped"; exit 0; fi
stop_all
mkdir -p "$RUN"
hosts=""
for i in $(seq $N); do
  mkdir -p "$RUN/data$i" "$RUN/mnt/$i"
  echo "$i" > "$RUN/data$i/myid"
  hosts="${hosts:+$hosts,}127.0.0.1:$((BASE + i - 1))"
  {
    echo "tickTime=2000"; echo "initLimit=10"; echo "syncLimit=5"
    echo "dataDir=$RUN/data$i"; echo "clientPort=$((BASE + i - 1))"
    echo "clientPortAddress=127.0.0.1"; echo "4lw.commands.whitelist=*"
    for j in $(seq $N); do echo "server.$j=127.0.0.1:$((2887 + j)):$((3887 + j))"; done
  } > "$RUN/zoo$i.cfg"
done
for i in $(seq $N); do
  nohup bin/zkserver "$RUN/zoo$i.cfg" > "$RUN/zkserver$i.log" 2>&1 &
  echo $! > "$RUN/zkserver$i.pid"
  sleep 0.3
done
mode() { printf srvr | nc -q1 127.0.0.1 "$((BASE + $1 - 1))" 2>/dev/null | sed -n 's/^Mode: //p'; }
for _ in $(seq 100); do
  ok=0; for i in $(seq $N); do case "$(mode "$i")" in leader|follower) ok=$((ok+1));; esac; done
  [ "$ok" = $N ] && break; sleep 0.2
done
for i in $(seq $N); do echo "replica $i: client port $((BASE + i - 1)), mode $(mode "$i")"; done
mounted=0
if [ -x bin/zkfs ]; then
  for i in $(seq $N); do
    nohup bin/zkfs -f --servers "127.0.0.1:$((BASE + i - 1)),$hosts" "$RUN/mnt/$i" > "$RUN/zkfs$i.log" 2>&1 &
    echo $! > "$RUN/zkfs$i.pid"
  done
  for _ in $(seq 50); do
    m=0; for i in $(seq $N); do mountpoint -q "$RUN/mnt/$i" && m=$((m+1)); done
    [ "$m" = $N ] && { mounted=1; break; }; sleep 0.2
  done
fi
/usr/bin/python3 - "$hosts" <<'PY'
import sys
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=15)
zk.ensure_path("/demo/app")
zk.set("/demo/app", b"port=80")
print("kazoo wrote /demo/app through", zk._connection._socket.getpeername() if zk._connection._socket else "?")
zk.stop()
PY
cat <<MSG

Three zkserver replicas are running (logs and data in $RUN):
  echo stat | nc 127.0.0.1 $BASE
  /usr/share/zookeeper/bin/zkCli.sh -server $hosts get /demo/app
MSG
if [ "$mounted" = 1 ]; then cat <<MSG
Every replica is mounted with zkfs (M=$RUN/mnt):
  ls $RUN/mnt/1 $RUN/mnt/2 $RUN/mnt/3
  cat $RUN/mnt/2/demo/app
  inotifywait -m -r $RUN/mnt/3 &          # watch changes made through any replica
  mkdir $RUN/mnt/1/app; echo port=80 > $RUN/mnt/1/app/conf
  cat $RUN/mnt/2/app/conf; getfattr -d $RUN/mnt/2/app/conf
  exec 3>$RUN/mnt/1/.zk/ephemeral/services/web-1   # an ephemeral znode while fd 3 is open
  ls $RUN/mnt/2/services; exec 3>&-
MSG
fi
echo "Stop everything with: tools/run-cluster.sh stop"
