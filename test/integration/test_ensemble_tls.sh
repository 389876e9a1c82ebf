#!/usr/bin/env bash
# Quorum TLS (sslQuorum=true, ssl.quorum.keyStore.* / trustStore.*): three
# zkserver replicas whose quorum and election links are all TLS, with
# mutual certificate checks and ssl.quorum.hostnameVerification (default
# on).  Stores in PEM (members 1, 3) and PKCS12 (member 2, which also has
# portUnification=true: a plain hello gets through to the sid checks).  The ensemble
# forms, replicates a write, elects again over TLS after its leader is
# killed; a member whose certificate comes from another CA is refused (a
# TLS log line) and never follows; back with the right certificate it
# joins again.  ssl.quorum.ciphersuites, .clientAuth (want on member 3)
# and Apache's default TLSv1.2-only protocol probed with openssl s_client,
# with the log lines of the refusals.  The members also serve secureClientPort: the client
# library's TLS session moves from one member to the next.  docs/zab.md,
# "Quorum TLS".
source "$(dirname "$0")/cluster.sh"
C=$TEST_TMP/certs
mkdir -p "$C"
PW=apassword
(
  cd "$C"
  for ca in ca other-ca; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $ca.key -out $ca.pem -days 2 -subj "/CN=$ca" 2>/dev/null
  done
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > member.ext
  for m in member:ca intruder:other-ca; do
    n=${m%%:*} ca=${m#*:}
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $n.key -out $n.csr -subj "/O=zkfs/CN=$n" 2>/dev/null
    openssl x509 -req -in $n.csr -CA $ca.pem -CAkey $ca.key -CAcreateserial -out $n.pem -days 2 \
      -extfile member.ext 2>/dev/null
    cat $n.key $n.pem > $n-combined.pem
  done
  openssl pkcs12 -export -in member.pem -inkey member.key -certfile ca.pem -name member -out member.p12 \
    -passout pass:$PW
) || fail "certificate generation failed"

CLUSTER_CFG="tickTime=500 sslQuorum=true ssl.quorum.keyStore.location=$C/member-combined.pem
  ssl.quorum.trustStore.location=$C/ca.pem
  ssl.quorum.ciphersuites=TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
setup_cluster 3
# member 3 asks for the other end's certificate but does not require it
echo "ssl.quorum.clientAuth=want" >> "${CL_DIR[3]}/zoo.cfg"
# member 2: a PKCS12 key store with its password, the type from the extension
sed -i -e "s|^ssl.quorum.keyStore.location=.*|ssl.quorum.keyStore.location=$C/member.p12|" \
  "${CL_DIR[2]}/zoo.cfg"
echo "ssl.quorum.keyStore.password=$PW" >> "${CL_DIR[2]}/zoo.cfg"
echo "portUnification=true" >> "${CL_DIR[2]}/zoo.cfg"   # plain links accepted too
# every member also serves clients on a secureClientPort (ssl.*, the same CA)
SHOSTS=""
for i in 1 2 3; do
  sp=$(free_port)
  SHOSTS="${SHOSTS:+$SHOSTS,}127.0.0.1:$sp"
  printf '%s\n' "secureClientPort=$sp" "ssl.keyStore.location=$C/member-combined.pem" \
    "ssl.trustStore.location=$C/ca.pem" >> "${CL_DIR[$i]}/zoo.cfg"
done
for i in 1 2 3; do start_member "$i"; done
wait_cluster_ready 60 || cfail "the TLS ensemble did not form: $(cluster_modes)"
grep -q "quorum TLS (sslQuorum)" "$(member_log 1)" || cfail "member 1 does not say it runs quorum TLS"
log "formed over TLS: $(cluster_modes)"
# qprobe MEMBER accept|refuse [quorum] S_CLIENT_ARGS... : a TLS handshake on
# the member's election port (quorum port) offering only what the arguments
# allow.  The refusals' log lines are limited to one a second per kind and
# port: the protocol one is looked for on the quorum port.
qprobe() {
  local m=$1 want=$2 out got=refuse
  shift 2
  local port=${CL_EPORT[$m]}
  [ "$1" = quorum ] && { port=${CL_QPORT[$m]}; shift; }
  local -a S_ARGS=(-connect "127.0.0.1:$port" -CAfile "$C/ca.pem" "$@")
  out=$(timeout 20 openssl s_client "${S_ARGS[@]}" < /dev/null 2>&1) || true
  # over TLS 1.2 a refused client certificate still prints "New, TLSv1.2":
  # the alert (an error line) tells
  # (a server that closes without close_notify after the handshake makes
  # s_client print "unexpected eof while reading": not a refusal).  An
  # accept that fails is tried twice more: a loaded JVM or replica can drop
  # one handshake, while a refusal by configuration is stable.
  local try
  for try in 1 2 3; do
    echo "$out" | grep -q '^New, TLSv1\.[0-9], Cipher is [^(]' &&
      ! echo "$out" | grep ':error:' | grep -v -q 'unexpected eof while reading' && got=accept
    [ "$got" = accept ] || [ "$want" = refuse ] || [ "$try" = 3 ] && break
    sleep 1
    out=$(timeout 20 openssl s_client "${S_ARGS[@]}" < /dev/null 2>&1) || true
  done
  [ "$got" = "$want" ] || { echo "$out" | tail -5 >&2; cfail "member $m: s_client $*: $got, expected $want"; }
}
ME=(-cert "$C/member.pem" -key "$C/member.key")
# ssl.quorum.protocol's default TLSv1.2 only (Apache's), ssl.quorum.ciphersuites
qprobe 3 accept "${ME[@]}" -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384
qprobe 3 refuse "${ME[@]}" -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256
qprobe 1 refuse quorum "${ME[@]}" -tls1_3
# ssl.quorum.clientAuth: need (member 1, the default) and want (member 3)
qprobe 1 refuse quorum -tls1_2
qprobe 3 accept quorum -tls1_2
for k in $(seq 40); do grep -q "TLS: no protocol version in common" "$(member_log 1)" && break; sleep 0.25; done
grep -q "quorum port: connection from .*TLS: no protocol version in common with the peer (enabled here: TLSv1.2; see ssl.quorum.enabledProtocols" \
  "$(member_log 1)" || cfail "no clear log line for a peer offering only TLS 1.3"
grep -q "election port: connection from .*TLS: no cipher suite in common with the peer" "$(member_log 3)" ||
  cfail "no clear log line for a peer offering only a disabled cipher suite"
# a plain link (a hello in clear, claiming sid 3) on a TLS election port is closed
timeout 30 "$PY" -c 'import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(struct.pack(">IIII", 12, 0x7a6b6673, 3, 0))
try:
    got = s.recv(16)
except ConnectionResetError:
    got = b""
sys.exit(0 if got == b"" else 1)' "${CL_EPORT[1]}" || cfail "a plain link on a TLS election port was served"
for k in $(seq 40); do grep -q "plain connection from" "$(member_log 1)" && break; sleep 0.25; done
grep -q "plain connection from" "$(member_log 1)" || cfail "no log line for the plain link"
# member 2 (portUnification) takes a plain hello: it gets as far as the sid
# check (sid 3 has its TLS election link up already)
timeout 30 "$PY" -c 'import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(struct.pack(">IIII", 12, 0x7a6b6673, 3, 0))
try:
    s.recv(16)
except ConnectionResetError:
    pass' "${CL_EPORT[2]}" || true
for k in $(seq 40); do grep -q "claims sid 3, which is already connected" "$(member_log 2)" && break; sleep 0.25; done
grep -q "claims sid 3, which is already connected" "$(member_log 2)" ||
  cfail "portUnification: member 2 did not read a plain hello"
! grep -q "election port: plain connection" "$(member_log 2)" || cfail "portUnification: member 2 refused a plain link"

kz() {   # kz HOSTS create|get PATH [DATA]
  timeout 60 "$PY" -c 'import sys
from kazoo.client import KazooClient as K
z = K(hosts=sys.argv[1], timeout=10); z.start(timeout=30)
if sys.argv[2] == "create": z.create(sys.argv[3], sys.argv[4].encode()); z.sync(sys.argv[3])
else: z.sync(sys.argv[3]); print(z.get(sys.argv[3])[0].decode())
z.stop()' "$@"
}
# the client library over TLS to the ensemble: it reconnects to the next
# member of the list (another server) keeping its session
timeout -k 5 90 "${TLS_CLIENT:-$REPO_ROOT/build/itest/tls_client}" --ca "$C/ca.pem" --cert "$C/member.pem" \
  --key "$C/member.key" "$SHOSTS" check "CN=member,O=zkfs" || cfail "the client library over TLS to the ensemble"
L=$(leader_of) || cfail "no leader"
kz "$(member_hosts "$L")" create /tls-q1 one || cfail "write on the leader"
for i in 1 2 3; do
  [ "$(kz "$(member_hosts "$i")" get /tls-q1)" = one ] || cfail "member $i does not have /tls-q1"
done

log "killing leader $L: a new election over TLS"
kill9_member "$L"
wait_cluster_ready 60 || cfail "no new leader over TLS: $(cluster_modes)"
L2=$(leader_of) || cfail "no leader after the kill"
kz "$(member_hosts "$L2")" create /tls-q2 two || cfail "write after the re-election"

# The old leader comes back with a certificate from another CA: refused.
log "member $L back with a certificate from another CA"
cp "${CL_DIR[$L]}/zoo.cfg" "$TEST_TMP/zoo.cfg.$L"
sed -i -e "s|^ssl.quorum.keyStore.location=.*|ssl.quorum.keyStore.location=$C/intruder-combined.pem|" \
  -e "/^ssl.quorum.keyStore.password=/d" "${CL_DIR[$L]}/zoo.cfg"
restart_member "$L"
refused=0
for k in $(seq 120); do
  if cat "$(member_log 1)" "$(member_log 2)" "$(member_log 3)" | grep -q "TLS: .*certificate\|TLS: .*alert"; then
    refused=1; break
  fi
  sleep 0.25
done
[ "$refused" = 1 ] || cfail "no TLS refusal logged for the intruder's certificate"
case "$(mode_of "$L")" in follower|leader) cfail "member $L joined with a certificate of another CA" ;; esac
kz "$(member_hosts "$L2")" create /tls-q3 three || cfail "the two TLS members stopped serving writes"
stop_member "$L"
cp "$TEST_TMP/zoo.cfg.$L" "${CL_DIR[$L]}/zoo.cfg"
restart_member "$L"
wait_cluster_ready 60 || cfail "member $L did not rejoin over TLS with its own certificate: $(cluster_modes)"
[ "$(kz "$(member_hosts "$L")" get /tls-q2)" = two ] || cfail "member $L did not catch up over TLS"
[ "$(kz "$(member_hosts "$L")" get /tls-q3)" = three ] || cfail "member $L did not catch up over TLS"
finish_cluster
log "all passed"
