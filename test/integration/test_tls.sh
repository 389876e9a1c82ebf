#!/usr/bin/env bash
# TLS on secureClientPort, against zkserver and Apache ZooKeeper 3.8 side by
# side: keystores in JKS (keytool, as kazoo's harness and Apache deployments
# have them), PKCS12 and PEM; the ssl.* settings given as -D flags in
# SERVER_JVMFLAGS; kazoo with use_ssl (client certificate, the x509 ACL
# scheme, a client without a certificate refused under clientAuth=need),
# and zkCli.sh with the Netty client socket over TLS.  The project's own
# client library (build/itest/tls_client) and a zkfs mount over TLS
# (-o tls,cafile=,cert=,key=) against zkserver and Apache alike; the
# library's refusals (unknown CA, no client certificate, wrong host,
# expired certificate, unreadable or mismatched files) with their messages.
# What each server enables (ssl.protocol / enabledProtocols / ciphersuites,
# Apache's defaults, and secureClientPortAddress) probed with openssl
# s_client against both.
source "$(dirname "$0")/harness.sh"
export ZKFS_CLUSTER=0
source "$(dirname "$0")/zkfs_lib.sh"
TLS_CLIENT=${TLS_CLIENT:-$REPO_ROOT/build/itest/tls_client}   # TLS_CLIENT= another build (ASan)
[ -x "$TLS_CLIENT" ] || fail "$TLS_CLIENT not built (make build/itest/tls_client)"
# Apache serves TLS only with the Netty connection factory: netty on its classpath.
NETTY_CP=
for j in /usr/share/java/netty-{buffer,codec,common,handler,resolver,transport,transport-native-unix-common}.jar; do
  NETTY_CP="$NETTY_CP:$j"
done
APACHE_CP="$APACHE_CP$NETTY_CP"
C=$TEST_TMP/certs
mkdir -p "$C"
PW=apassword
log "generating a CA, server and client certificates"
(
  cd "$C"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=zk-test-ca" 2>/dev/null
  for n in server client; do
    openssl req -newkey rsa:2048 -nodes -keyout $n.key -out $n.csr -subj "/O=zkfs/OU=test/CN=$n" 2>/dev/null
    # the Java client checks the server's host name (ssl.hostnameVerification)
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > $n.ext
    openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $n.pem -days 2 \
      -extfile $n.ext 2>/dev/null
    openssl pkcs12 -export -in $n.pem -inkey $n.key -certfile ca.pem -name $n -out $n.p12 -passout pass:$PW
  done
  keytool -importkeystore -noprompt -srckeystore server.p12 -srcstoretype PKCS12 -srcstorepass $PW \
    -destkeystore server.jks -deststoretype JKS -deststorepass $PW -destkeypass $PW >/dev/null 2>&1
  keytool -importcert -noprompt -alias ca -file ca.pem -keystore truststore.jks -storetype JKS \
    -storepass $PW >/dev/null 2>&1
  cat server.key server.pem > server-combined.pem
  # for the client library's refusals: a CA nobody uses, a server
  # certificate for another host, one that expires at once (-days 0)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout other-ca.key -out other-ca.pem -days 2 -subj "/CN=other-ca" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout elsewhere.key -out elsewhere.csr -subj "/CN=elsewhere.example" 2>/dev/null
  printf 'subjectAltName=DNS:elsewhere.example,IP:10.9.9.9\n' > elsewhere.ext
  openssl x509 -req -in elsewhere.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out elsewhere.pem -days 2 \
    -extfile elsewhere.ext 2>/dev/null
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out expired.pem -days 0 \
    -extfile server.ext 2>/dev/null
) || fail "certificate generation failed"
[ -s "$C/server.jks" ] && [ -s "$C/truststore.jks" ] || fail "keytool made no JKS files"
DN="CN=client,OU=test,O=zkfs"

flags_for() {   # flags_for KEYSTORE TRUSTSTORE : the -D words of SERVER_JVMFLAGS
  echo "-Dzookeeper.ssl.keyStore.location=$1 -Dzookeeper.ssl.keyStore.password=$PW" \
       "-Dzookeeper.ssl.trustStore.location=$2 -Dzookeeper.ssl.trustStore.password=$PW" \
       "-Dzookeeper.ssl.clientAuth=need" \
       "-Dzookeeper.authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider" \
       "-Dzookeeper.serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory"
}

# clib HOSTS ARGS... : the client library over TLS (tls_client), bounded.
clib() { timeout -k 5 90 "$TLS_CLIENT" "$@"; }
PEM_ID=(--ca "$C/ca.pem" --cert "$C/client.pem" --key "$C/client.key")

# zkfs_tls LABEL SECURE_HOSTS PLAIN_HOSTS : a zkfs mount over TLS: a file
# written through it is read back and seen on the plain port.
zkfs_tls() {
  local label=$1 shosts=$2 phosts=$3 got
  zkfs_mount "tls-$label" "$shosts" -o "tls,cafile=$C/ca.pem,cert=$C/client.pem,key=$C/client.key,timeout=20000"
  t sh -c "echo 'zkfs over tls' > '$MNT/zkfs-tls'" || fail "$label: write through the TLS mount"
  got=$(t cat "$MNT/zkfs-tls") || fail "$label: read through the TLS mount"
  expect_eq "$label: zkfs over TLS read back" "$got" "zkfs over tls"
  timeout 30 "$PY" -c 'import sys; from kazoo.client import KazooClient as K
z = K(hosts=sys.argv[1]); z.start(timeout=15); print(z.get("/zkfs-tls")[0].decode()); z.stop()' "$phosts" \
    > "$TEST_TMP/zkfs-tls.out" 2>&1 || true
  grep -q "zkfs over tls" "$TEST_TMP/zkfs-tls.out" || { cat "$TEST_TMP/zkfs-tls.out" >&2; fail "$label: the TLS mount's write not on the plain port"; }
  t rm "$MNT/zkfs-tls" || fail "$label: rm through the TLS mount"
  zkfs_unmount "tls-$label"
  [ "$ZK_KIND" = zkserver ] || return 0
  # mount(8)'s helper (as an fstab line runs it) passes the TLS options on;
  # zkfs daemonizes, the cleanup unmounts the directory if the test fails
  local dir=$TEST_TMP/helper-$label i
  mkdir -p "$dir"
  _ZKFS_PIDS[$dir]=""
  ZKFS=$ZKFS_BIN timeout 30 sh "$REPO_ROOT/zkfs/mount.zkfs" "$shosts" "$dir" \
    -o "_netdev,tls,cafile=$C/ca.pem,cert=$C/client.pem,key=$C/client.key,timeout=20000" ||
    fail "$label: mount.zkfs over TLS"
  for i in $(seq 100); do grep -q " $dir fuse" /proc/mounts && break; sleep 0.1; done
  t sh -c "echo helper > '$dir/zkfs-helper'" || fail "$label: write through mount.zkfs's TLS mount"
  expect_eq "$label: mount.zkfs over TLS read back" "$(t cat "$dir/zkfs-helper")" helper
  t rm "$dir/zkfs-helper" || fail "$label: rm through mount.zkfs's TLS mount"
  fusermount3 -u "$dir" || fail "$label: fusermount3 -u of mount.zkfs's TLS mount"
  for i in $(seq 50); do grep -q " $dir fuse" /proc/mounts || break; sleep 0.1; done
}

# The client library's refusals, each with its message.
clib_refusals() {
  local shosts=$1 fport pid
  clib --ca "$C/other-ca.pem" "${PEM_ID[@]:2}" "$shosts" refuse "certificate was not accepted" ||
    fail "clib: an unknown CA was not refused"
  # TLS 1.2 (Apache's default ssl.protocol): OpenSSL's server answers a
  # missing certificate with a handshake_failure alert
  clib --ca "$C/ca.pem" "$shosts" refuse "alert handshake failure" ||
    fail "clib: no client certificate under clientAuth=need: no clear error"
  clib --ca "$C/missing.pem" "$shosts" openfail "missing.pem" || fail "clib: a missing cafile"
  clib --ca "$C/ca.pem" --cert "$C/client.pem" --key "$C/ca.key" "$shosts" openfail "does not fit" ||
    fail "clib: a key that does not fit the certificate"
  for fake in elsewhere:"does not name host" expired:"certificate has expired"; do
    fport=$(free_port)
    bg openssl s_server -quiet -accept "127.0.0.1:$fport" -cert "$C/${fake%%:*}.pem" \
      -key "$C/$([ "${fake%%:*}" = expired ] && echo server || echo elsewhere).key"
    pid=$BG_PID
    clib --ca "$C/ca.pem" "127.0.0.1:$fport" refuse "${fake#*:}" || fail "clib: ${fake%%:*} certificate not refused"
    kill "$pid" 2>/dev/null || true
  done
  # zkfs refuses a bad TLS configuration before mounting anything
  mkdir -p "$TEST_TMP/never"
  if out=$(timeout 20 "$ZKFS_BIN" -o tls,cafile="$C/missing.pem" --servers "$shosts" "$TEST_TMP/never" 2>&1); then
    fail "zkfs mounted with a missing cafile"
  fi
  case "$out" in *missing.pem*) ;; *) fail "zkfs with a missing cafile said: $out" ;; esac
  ! grep -q " $TEST_TMP/never " /proc/mounts || fail "zkfs left a mount behind"
}

run_one() {   # run_one KIND KEYSTORE TRUSTSTORE LABEL [zkcli|clib|zkfs|refusals...]
  local kind=$1 ks=$2 ts=$3 label=$4 sport extra
  sport=$(free_port)
  SERVER_JVMFLAGS=$(flags_for "$ks" "$ts") start_server "$kind" "$TEST_TMP/$label" "secureClientPort=$sport"
  timeout 60 "$PY" "$HARNESS_DIR/tls_check.py" "$ZK_HOSTS" "127.0.0.1:$sport" "$C" "$DN" ||
    { tail -20 "$ZK_DIR/server.log" >&2; fail "$label: kazoo over TLS"; }
  for extra in "${@:5}"; do case $extra in
  clib)
    clib "${PEM_ID[@]}" "127.0.0.1:$sport" check "$DN" || fail "$label: the client library over TLS (PEM files)"
    # the stores kazoo's harness and Java clients have: PKCS12 key store, JKS trust store
    clib --ca "$C/truststore.jks" --cert "$C/client.p12" --password $PW "127.0.0.1:$free_dead,localhost:$sport" \
      check "$DN" || fail "$label: the client library over TLS (JKS/PKCS12 stores, second host of the list)"
    ;;
  zkfs) zkfs_tls "$label" "127.0.0.1:$sport" "$ZK_HOSTS" ;;
  refusals) clib_refusals "127.0.0.1:$sport" ;;
  probe) probe_defaults "$label" "127.0.0.1:$sport" ;;
  zkcli)
    # zkCli.sh's own classpath (zkEnv.sh) lacks netty, which the TLS client
    # socket needs: the same main class with netty on the classpath.
    local out cp
    cp=/usr/share/java/zookeeper.jar$NETTY_CP
    out=$(timeout 60 java -Xmx128m -XX:TieredStopAtLevel=1 -cp "$cp" \
        -Dzookeeper.client.secure=true \
        -Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty \
        -Dzookeeper.ssl.keyStore.location="$C/client.p12" -Dzookeeper.ssl.keyStore.password=$PW \
        -Dzookeeper.ssl.keyStore.type=PKCS12 \
        -Dzookeeper.ssl.trustStore.location="$C/truststore.jks" -Dzookeeper.ssl.trustStore.password=$PW \
        org.apache.zookeeper.ZooKeeperMain -server "127.0.0.1:$sport" create /zkcli-tls hello 2>&1) || true
    echo "$out" | grep -q "Created /zkcli-tls" || { echo "$out" | grep -v SLF4J | tail -20 >&2; fail "$label: zkCli over TLS"; }
    # the node is visible on the plain port
    timeout 30 "$PY" -c 'import sys; from kazoo.client import KazooClient as K
z = K(hosts=sys.argv[1]); z.start(timeout=15); assert z.get("/zkcli-tls")[0] == b"hello"; z.stop()' "$ZK_HOSTS" ||
      fail "$label: zkCli's TLS write not seen on the plain port"
    ;;
  esac; done
  finish_server
  log "$label ok"
}

# probe LABEL HOST:PORT accept|refuse S_CLIENT_ARGS... : does a TLS handshake
# that offers only what the arguments allow (openssl s_client, with the
# client certificate) succeed?  What the server enables, seen from outside.
probe() {
  local label=$1 hp=$2 want=$3 out got=refuse
  shift 3
  local -a S_ARGS=(-connect "$hp" -CAfile "$C/ca.pem" -cert "$C/client.pem" -key "$C/client.key" "$@")
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
  [ "$got" = "$want" ] || { echo "$out" | tail -5 >&2; fail "$label: s_client $*: $got, expected $want"; }
}

# What Apache enables by default (X509Util of 3.8: ssl.protocol TLSv1.2 and
# only that; its ECDHE cipher suites, GCM first), the same on both servers.
probe_defaults() {
  local label=$1 hp=$2
  probe "$label" "$hp" accept -tls1_2
  probe "$label" "$hp" refuse -tls1_3
  probe "$label" "$hp" refuse -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
  probe "$label" "$hp" accept -tls1_2 -cipher ECDHE-RSA-AES256-SHA
  probe "$label" "$hp" refuse -tls1_2 -cipher AES128-GCM-SHA256            # RSA key exchange
  probe "$label" "$hp" refuse -tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305   # not in Apache's list
  [ "$ZK_KIND" = zkserver ] || return 0
  for i in $(seq 40); do grep -q "TLS handshake with .* refused: no protocol version in common" "$ZK_DIR/server.log" && break; sleep 0.25; done
  grep -q "TLS handshake with .* refused: no protocol version in common with the peer (enabled here: TLSv1.2;" \
    "$ZK_DIR/server.log" || fail "$label: no clear log line for a client offering only TLS 1.3"
  grep -q "TLS handshake with .* refused: no cipher suite in common" "$ZK_DIR/server.log" ||
    fail "$label: no clear log line for a client offering only a disabled cipher suite"
}

# probe_settings KIND LABEL : ssl.enabledProtocols and ssl.ciphersuites
# given, and secureClientPortAddress: the TLS port listens on that address
# only, not on clientPortAddress's.
probe_settings() {
  local kind=$1 label=$2 sport
  sport=$(free_port)
  SERVER_JVMFLAGS="$(flags_for "$C/server.jks" "$C/truststore.jks") -Dzookeeper.ssl.enabledProtocols=TLSv1.2,TLSv1.3
    -Dzookeeper.ssl.ciphersuites=TLS_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" \
    start_server "$kind" "$TEST_TMP/$label" "secureClientPort=$sport" "secureClientPortAddress=127.0.0.2"
  probe "$label" "127.0.0.2:$sport" accept -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384
  probe "$label" "127.0.0.2:$sport" refuse -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256
  probe "$label" "127.0.0.2:$sport" accept -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384
  probe "$label" "127.0.0.2:$sport" refuse -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
  timeout 10 "$PY" -c 'import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5).close()
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)' "$sport" || fail "$label: the TLS port answers on 127.0.0.1, not only on secureClientPortAddress"
  finish_server
  log "$label ok"
}

free_dead=$(free_port)   # nobody listens there: the client library moves on to the next host
run_one zkserver "$C/server.jks" "$C/truststore.jks" zk-jks zkcli clib zkfs probe
run_one zkserver "$C/server.p12" "$C/ca.pem" zk-p12
run_one zkserver "$C/server-combined.pem" "$C/ca.pem" zk-pem refusals
run_one apache "$C/server.jks" "$C/truststore.jks" apache-jks clib zkfs probe
probe_settings zkserver zk-settings
probe_settings apache apache-settings
log "all passed"
