#!/usr/bin/env bash
# TLS on secureClientPort, against zkserver and Apache ZooKeeper 3.8 side by
# side: keystores in JKS (keytool, as kazoo's harness and Apache deployments
# have them), PKCS12 and PEM; the ssl.* settings given as -D flags in
# SERVER_JVMFLAGS; kazoo with use_ssl (client certificate, the x509 ACL
# scheme, a client without a certificate refused under clientAuth=need),
# and zkCli.sh with the Netty client socket over TLS.
source "$(dirname "$0")/harness.sh"
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

run_one() {   # run_one KIND KEYSTORE TRUSTSTORE LABEL [zkcli]
  local kind=$1 ks=$2 ts=$3 label=$4 sport
  sport=$(free_port)
  SERVER_JVMFLAGS=$(flags_for "$ks" "$ts") start_server "$kind" "$TEST_TMP/$label" "secureClientPort=$sport"
  timeout 60 "$PY" "$HARNESS_DIR/tls_check.py" "$ZK_HOSTS" "127.0.0.1:$sport" "$C" "$DN" ||
    { tail -20 "$ZK_DIR/server.log" >&2; fail "$label: kazoo over TLS"; }
  if [ "${5:-}" = zkcli ]; then
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
  fi
  finish_server
  log "$label ok"
}

run_one zkserver "$C/server.jks" "$C/truststore.jks" zk-jks zkcli
run_one zkserver "$C/server.p12" "$C/ca.pem" zk-p12
run_one zkserver "$C/server-combined.pem" "$C/ca.pem" zk-pem
run_one apache "$C/server.jks" "$C/truststore.jks" apache-jks
log "all passed"
