#!/usr/bin/env bash
# `make run`: starts zkserver on loopback and shows how to use it.
#
# Today this starts ONE standalone replica: the Zab ensemble (issue 3) and
# the FUSE mounts (issue 4) are not built yet.  When they land, this script
# starts three replicas and mounts each of them.
#
# Environment: ZKFS_RUN_DIR (default /tmp/zkfs-run), ZK_PORT (default 2181).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${ZKFS_RUN_DIR:-/tmp/zkfs-run}
PORT=${ZK_PORT:-2181}
mkdir -p "$RUN/data"
if [ -f "$RUN/zkserver.pid" ] && kill -0 "$(cat "$RUN/zkserver.pid")" 2>/dev/null; then
  echo "zkserver already running (pid $(cat "$RUN/zkserver.pid")); stop it with: kill $(cat "$RUN/zkserver.pid")"
  exit 0
fi
cat > "$RUN/zoo.cfg" <<CFG
tickTime=2000
dataDir=$RUN/data
clientPort=$PORT
clientPortAddress=127.0.0.1
4lw.commands.whitelist=*
CFG
nohup bin/zkserver "$RUN/zoo.cfg" > "$RUN/zkserver.log" 2>&1 &
echo $! > "$RUN/zkserver.pid"
for _ in $(seq 50); do
  [ "$(printf ruok | nc -q1 127.0.0.1 "$PORT" 2>/dev/null || true)" = imok ] && break
  sleep 0.1
done
if [ "$(printf ruok | nc -q1 127.0.0.1 "$PORT" 2>/dev/null || true)" != imok ]; then
  echo "zkserver did not start; see $RUN/zkserver.log" >&2
  tail -5 "$RUN/zkserver.log" >&2
  exit 1
fi
/usr/bin/python3 - "$PORT" <<'PY'
import sys
from kazoo.client import KazooClient
zk = KazooClient(hosts=f"127.0.0.1:{sys.argv[1]}"); zk.start(timeout=10)
zk.ensure_path("/demo/app")
zk.set("/demo/app", b"port=80")
print("kazoo: /demo/app =", zk.get("/demo/app")[0].decode(), "children of / =", zk.get_children("/"))
zk.stop()
PY
cat <<MSG

zkserver is running: pid $(cat "$RUN/zkserver.pid"), client port 127.0.0.1:$PORT
  config  $RUN/zoo.cfg      log  $RUN/zkserver.log      data  $RUN/data

Try:
  echo stat | nc 127.0.0.1 $PORT
  /usr/share/zookeeper/bin/zkCli.sh -server 127.0.0.1:$PORT get /demo/app
  /usr/bin/python3 -c 'from kazoo.client import KazooClient as K; z=K("127.0.0.1:$PORT"); z.start(); print(z.get_children("/"))'
Stop it with:
  kill $(cat "$RUN/zkserver.pid")
MSG
