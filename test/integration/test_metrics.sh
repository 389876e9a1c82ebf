#!/usr/bin/env bash
# test_metrics.sh — the Prometheus /metrics endpoint (server/metrics.c),
# checked by metrics_check.py with the Prometheus project's own parser
# against test/vectors/metrics/apache-3.8-metrics.tsv (Apache 3.8's
# families, types, labels and HELP texts):
#   1. standalone: the vector, values that move (connections, znode_count,
#      latency summaries, fsynctime, watch_count...), quota gauges and
#      quota_exceeded_error_per_namespace (enforceQuota=true), hostile HTTP;
#   2. without metricsProvider.className nothing listens on the port; a
#      busy port or an unknown provider class stops the server (exit 1),
#      as Apache's "Cannot boot MetricsProvider";
#   3. a 3-replica ensemble, each member with its own metrics port: a
#      lone member (no quorum) has no server gauges; then the leader's and
#      followers' families and figures;
#   4. if Debian's prometheus server is installed: it scrapes the
#      standalone server and its HTTP API returns znode_count (skipped,
#      with a log line, when the binary is not there).
# zkserver only (Debian's Apache has no Prometheus provider jar).
# Run from the repository root: bash test/integration/test_metrics.sh
# Bounded: free loopback ports, bounded waits, the harness kills what it
# started by PID and removes its temp dir.
source "$(dirname "$0")/cluster.sh"
cd "$REPO_ROOT"

if [ "$ZK_IMPL" = apache ]; then
  log "SKIP: Debian's Apache ZooKeeper has no Prometheus metrics provider"
  exit 0
fi
VECTOR=test/vectors/metrics/apache-3.8-metrics.tsv
PROVIDER=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
T=$TEST_TMP

# 1. standalone
MPORT=$(free_port)
start_server zkserver "$T/s1" "metricsProvider.className=$PROVIDER" \
  "metricsProvider.httpHost=127.0.0.1" "metricsProvider.httpPort=$MPORT" "enforceQuota=true"
grep -q "Starting /metrics HTTP endpoint at host: 127.0.0.1, port: $MPORT" "$ZK_DIR/server.log" \
  || fail "no /metrics start line in the log"
# 4. a real Prometheus server scrapes it (when installed); started now so
# that its start-up overlaps the checks of step 1
PROM=$(command -v prometheus || true)
if [ -n "$PROM" ]; then
  PPORT=$(free_port)
  mkdir -p "$T/prom"
  cat > "$T/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: zkserver
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
EOF
  bg "$PROM" --config.file="$T/prom/prometheus.yml" --storage.tsdb.path="$T/prom/data" \
     --web.listen-address="127.0.0.1:$PPORT" > "$T/prom/prometheus.log" 2>&1
  PROM_PID=$BG_PID
fi
timeout 120 "$PY" test/integration/metrics_check.py standalone "$ZK_PORT" "$MPORT" "$VECTOR" \
  || fail "metrics_check standalone"
server_alive || fail "server died"
[ "$(four_letter ruok)" = imok ] || fail "ruok after the metrics checks"

if [ -n "$PROM" ]; then
  ok=0
  for _ in $(seq 300); do   # 60 s at most
    out=$(curl -s -m 5 "http://127.0.0.1:$PPORT/api/v1/query?query=znode_count" || true)
    if echo "$out" | grep -q '"job":"zkserver"'; then ok=1; break; fi
    sleep 0.2
  done
  [ "$ok" = 1 ] || { tail -20 "$T/prom/prometheus.log"; fail "prometheus did not scrape znode_count: $out"; }
  health=$(curl -s -m 5 "http://127.0.0.1:$PPORT/api/v1/targets")
  echo "$health" | grep -q '"health":"up"' || fail "prometheus target not up: $health"
  out=$(curl -s -m 5 "http://127.0.0.1:$PPORT/api/v1/query?query=readlatency_count")
  echo "$out" | grep -q '"readlatency_count"' || fail "prometheus has no readlatency_count: $out"
  log "prometheus $("$PROM" --version 2>&1 | head -1 | awk '{print $3}') scraped zkserver: target up, znode_count and readlatency_count queried"
  _kill_pid "$PROM_PID"
else
  log "prometheus not installed: the real-scrape check is skipped"
fi

finish_server

# 2. not configured: the port stays closed
MPORT2=$(free_port)
start_server zkserver "$T/s2" "metricsProvider.httpPort=$MPORT2"
if curl -s -m 3 "http://127.0.0.1:$MPORT2/metrics" >/dev/null 2>&1; then fail "metrics port open without className"; fi
finish_server

# 2b. as Apache, a provider that cannot boot stops the server: a busy
# metrics port, or a class zkserver does not have
busy_cfg() {   # DIR CLASS PORT : a minimal zoo.cfg in DIR
  mkdir -p "$1/data"
  printf '%s\n' "tickTime=2000" "dataDir=$1/data" "clientPort=$(free_port)" "clientPortAddress=127.0.0.1" \
    "admin.enableServer=false" "metricsProvider.className=$2" "metricsProvider.httpHost=127.0.0.1" \
    "metricsProvider.httpPort=$3" > "$1/zoo.cfg"
}
"$PY" -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(60)' > "$T/busy.port" &
track_pid $!
for _ in $(seq 100); do [ -s "$T/busy.port" ] && break; sleep 0.1; done
BUSY=$(cat "$T/busy.port")
busy_cfg "$T/s3" "$PROVIDER" "$BUSY"
rc=0; timeout 30 "$ZKSERVER" "$T/s3/zoo.cfg" > "$T/s3/server.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "busy metrics port: exit status $rc, want 1"
grep -q "Cannot start /metrics server on 127.0.0.1:$BUSY" "$T/s3/server.log" || fail "no 'Cannot start /metrics server' line"
busy_cfg "$T/s4" "com.example.NoSuchProvider" "$(free_port)"
rc=0; timeout 30 "$ZKSERVER" "$T/s4/zoo.cfg" > "$T/s4/server.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "unknown provider class: exit status $rc, want 1"
grep -q "Cannot boot MetricsProvider com.example.NoSuchProvider" "$T/s4/server.log" || fail "no 'Cannot boot MetricsProvider' line"

# 3. a 3-replica ensemble, a metrics port each
setup_cluster 3
# metrics ports distinct from every member's client/quorum/election port
mapfile -t cand < <(_unique_ports 12)
mports=()
for p in "${cand[@]}"; do
  case " ${CL_CPORT[*]} ${CL_QPORT[*]} ${CL_EPORT[*]} ${mports[*]} " in *" $p "*) continue ;; esac
  mports+=("$p")
done
[ "${#mports[@]}" -ge 3 ] || fail "no 3 distinct free ports"
args=()
for i in 1 2 3; do
  mp=${mports[$((i - 1))]}
  printf '%s\n' "metricsProvider.className=$PROVIDER" "metricsProvider.httpHost=127.0.0.1" \
    "metricsProvider.httpPort=$mp" >> "${CL_DIR[$i]}/zoo.cfg"
  args+=("${CL_CPORT[$i]}:$mp")
done
start_member 1
timeout 60 "$PY" test/integration/metrics_check.py looking "$VECTOR" "${mports[0]}" \
  || cfail "metrics_check looking"
start_member 2
start_member 3
wait_cluster_ready 60 || cfail "the ensemble did not form: $(cluster_modes)"
timeout 120 "$PY" test/integration/metrics_check.py ensemble "$VECTOR" "${args[@]}" \
  || cfail "metrics_check ensemble"
finish_cluster
log "PASS"
