#!/usr/bin/env bash
# SASL DIGEST-MD5 on the client port, against zkserver and Apache ZooKeeper
# 3.8 side by side: the jaas.conf of kazoo's harness (plus a user "admin"
# named by -Dzookeeper.superUser) given with -Djava.security.auth.login.config
# in SERVER_JVMFLAGS and authProvider.1=SASLAuthenticationProvider in
# zoo.cfg; sasl_check.py (kazoo's legacy and current SASL paths, sasl ACLs,
# bad credentials, raw exchanges) must print the same transcript for both;
# zkCli.sh authenticates with a JAAS Client section.  Then zkserver alone:
# JAAS files it must refuse with a clear message (Apache refuses them too),
# a file without a Server section and no authProvider (SASL off, the sasl
# scheme unknown), sessionRequireClientSASLAuth and allowSaslFailedClients.
source "$(dirname "$0")/harness.sh"

J=$TEST_TMP/jaas.conf
cat > "$J" <<'EOF'
/* kazoo's harness writes the Server section; the rest exercises the syntax */
Client {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    username="jaasuser"
    password="jaas_password";
};
// the section zkserver reads (zookeeper.sasl.serverconfig, default Server)
Server {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_super="super_secret"
    user_jaasuser="jaas_password"
    user_admin="admin_pw";
};
EOF
FLAGS="-Djava.security.auth.login.config=$J -Dzookeeper.superUser=admin"
PROVIDER=authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider

printf '%s\n' 'create /zkcli-sasl hello sasl:jaasuser:cdrwa' 'get /zkcli-sasl' 'getAcl /zkcli-sasl' \
  'delete /zkcli-sasl' > "$TEST_TMP/zkcli.cmds"
# the same Client user with a wrong password
sed 's/password="jaas_password"/password="wrong"/' "$J" > "$TEST_TMP/jaas-wrong.conf"
zkcli_sasl() {   # zkcli_sasl HOSTS [JAAS] : create and read a sasl-ACL node as the JAAS Client user
  # the Java client holds requests back until its SASL exchange is done
  timeout 60 java -Xmx128m -XX:TieredStopAtLevel=1 -cp "$APACHE_CP" \
    -Djava.security.auth.login.config="${2:-$J}" -Dzookeeper.sasl.client=true \
    -Dlog4j.configuration=file:/dev/null \
    org.apache.zookeeper.ZooKeeperMain -server "$1" < "$TEST_TMP/zkcli.cmds" 2>&1 |
    grep -E "^(Created |hello$|'sasl|: cdrwa|WatchedEvent state:(SaslAuthenticated|AuthFailed)|Authentication|Insufficient|KeeperErrorCode)" |
    sort -u || true
}

run_pair() {   # run_pair KIND : the transcript of sasl_check.py and zkCli against KIND
  local kind=$1
  SERVER_JVMFLAGS=$FLAGS start_server "$kind" "$TEST_TMP/$kind" "$PROVIDER"
  timeout 150 "$PY" "$HARNESS_DIR/sasl_check.py" "$ZK_HOSTS" > "$TEST_TMP/$kind.out" 2> "$TEST_TMP/$kind.err" ||
    { tail -20 "$TEST_TMP/$kind.err" >&2; tail -20 "$ZK_DIR/server.log" >&2; fail "$kind: sasl_check.py failed"; }
  # the two Java clients at once (each is a JVM start)
  bg zkcli_sasl "$ZK_HOSTS" "$TEST_TMP/jaas-wrong.conf" > "$TEST_TMP/$kind.zkcli-wrong"
  zkcli_sasl "$ZK_HOSTS" > "$TEST_TMP/$kind.zkcli"
  wait "$BG_PID" || true
  finish_server
  log "$kind: $(wc -l < "$TEST_TMP/$kind.out") checks, zkCli $(wc -l < "$TEST_TMP/$kind.zkcli") lines"
}

run_pair zkserver
run_pair apache
diff -u "$TEST_TMP/apache.out" "$TEST_TMP/zkserver.out" >&2 || fail "zkserver's SASL transcript differs from Apache's"
diff -u "$TEST_TMP/apache.zkcli" "$TEST_TMP/zkserver.zkcli" >&2 || fail "zkCli over SASL differs from Apache"
diff -u "$TEST_TMP/apache.zkcli-wrong" "$TEST_TMP/zkserver.zkcli-wrong" >&2 ||
  fail "zkCli with a wrong SASL password differs from Apache"
grep -q 'state:AuthFailed' "$TEST_TMP/zkserver.zkcli-wrong" ||
  { cat "$TEST_TMP/zkserver.zkcli-wrong" >&2; fail "zkCli with a wrong password saw no AuthFailed"; }
grep -q '^hello$' "$TEST_TMP/zkserver.zkcli" || { cat "$TEST_TMP/zkserver.zkcli" >&2; fail "zkCli could not read its sasl node"; }
grep -q "^legacy owner get b'secret'$" "$TEST_TMP/zkserver.out" || fail "transcript lacks the legacy owner read"
grep -q "^current plain get NoAuthError$" "$TEST_TMP/zkserver.out" || fail "transcript lacks the NoAuth read"
grep -q "^current wrong password states CONNECTED,LOST$" "$TEST_TMP/zkserver.out" || fail "wrong password not refused"
log "zkserver and Apache agree on $(wc -l < "$TEST_TMP/zkserver.out") SASL checks and zkCli"

# ---- JAAS files zkserver must refuse (Apache stops at start-up too) ---------
refuse() {   # refuse LABEL EXPECTED-TEXT : zkserver must exit with that message for $TEST_TMP/bad.conf
  local d=$TEST_TMP/bad-$1 port out rc=0
  mkdir -p "$d/data"
  port=$(free_port)
  printf 'dataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n' "$d/data" "$port" > "$d/zoo.cfg"
  out=$(SERVER_JVMFLAGS="-Djava.security.auth.login.config=$TEST_TMP/bad.conf" timeout 20 "$ZKSERVER" "$d/zoo.cfg" 2>&1) || rc=$?
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "$1: zkserver did not refuse the JAAS file (rc $rc)"
  echo "$out" | grep -q -- "$2" || { echo "$out" | tail -5 >&2; fail "$1: no '$2' in zkserver's message"; }
}
printf 'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_a="b"\n};\n' > "$TEST_TMP/bad.conf"
refuse missing-semicolon "line 4: expected an option name or ';', found '}'"
printf 'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule mandatory;\n};\n' > "$TEST_TMP/bad.conf"
refuse bad-flag "invalid control flag 'mandatory'"
printf 'Server {\n  com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true;\n};\n' > "$TEST_TMP/bad.conf"
refuse kerberos "Krb5LoginModule is not supported"
printf 'Server { a required; };\nServer { a required; };\n' > "$TEST_TMP/bad.conf"
refuse twice "section 'Server' appears twice"
rm -f "$TEST_TMP/bad.conf"
refuse missing-file "cannot read the JAAS file"
log "bad JAAS files refused"

# ---- no Server section, no authProvider: SASL off, no sasl scheme -----------
printf '// only a client section\nClient { org.apache.zookeeper.server.auth.DigestLoginModule required username="u" password="p"; };\n' \
  > "$TEST_TMP/client-only.conf"
SERVER_JVMFLAGS="-Djava.security.auth.login.config=$TEST_TMP/client-only.conf" start_server zkserver "$TEST_TMP/off"
timeout 60 "$PY" -c '
import sys
sys.path.insert(0, sys.argv[2])
import sasl_check as S
from kazoo.client import KazooClient
from kazoo.exceptions import InvalidACLError
from kazoo.security import make_acl
host, port = sys.argv[1].rsplit(":", 1)
s = S.connect(host, int(port))
head, tok = S.sasl(s, 1, b"")
assert head == "xid=1 zxid=0 err=0 len=-1" and tok is None, (head, tok)
assert S.after(s) == "ping err=0"
z = KazooClient(hosts=sys.argv[1], timeout=10); z.start(timeout=20)
try:
    z.create("/s", acl=[make_acl("sasl", "jaasuser", all=True)])
    raise SystemExit("a sasl ACL was accepted without the SASL provider")
except InvalidACLError:
    pass
z.stop()
' "$ZK_HOSTS" "$HARNESS_DIR" || fail "SASL off: unexpected answers"
finish_server
log "no Server section: sasl answered OK with no token; no authProvider: sasl ACL invalid"

# ---- sessionRequireClientSASLAuth=true ----------------------------------------
SERVER_JVMFLAGS="$FLAGS -Dzookeeper.sessionRequireClientSASLAuth=true" start_server zkserver "$TEST_TMP/req" "$PROVIDER"
timeout 90 "$PY" -c '
import struct, sys
sys.path.insert(0, sys.argv[2])
import sasl_check as S
host, port = sys.argv[1].rsplit(":", 1)
s = S.connect(host, int(port))
s.sendall(S.frame(struct.pack(">ii", 5, 3) + struct.pack(">i", 1) + b"/" + b"\0"))   # exists /
r = S.read_frame(s)
assert r is not None and struct.unpack(">iqi", r[:16]) == (5, 0, -124), r
assert S.read_frame(s) is None, "still open"
s = S.connect(host, int(port))
head, tok = S.sasl(s, 1, b"")
import re
nonce = re.search(rb"nonce=\"([^\"]+)\"", tok).group(1).decode()
head, tok = S.sasl(s, 2, S.response("jaasuser", "wrong", nonce))
assert head == "xid=2 zxid=0 err=-124 len=-1", head
s = S.connect(host, int(port))
head, tok = S.sasl(s, 1, b"")
nonce = re.search(rb"nonce=\"([^\"]+)\"", tok).group(1).decode()
head, tok = S.sasl(s, 2, S.response("jaasuser", "jaas_password", nonce))
assert head == "xid=2 zxid=0 err=0 len=40", head
assert S.after(s) == "ping err=0"
' "$ZK_HOSTS" "$HARNESS_DIR" || fail "sessionRequireClientSASLAuth: unexpected answers"
finish_server
log "sessionRequireClientSASLAuth: unauthenticated requests and failed SASL answered -124 and closed"
# ---- allowSaslFailedClients=true: a failed exchange keeps the connection -----
SERVER_JVMFLAGS="$FLAGS -Dzookeeper.allowSaslFailedClients=true" start_server zkserver "$TEST_TMP/allow" "$PROVIDER"
timeout 60 "$PY" -c '
import re, sys
sys.path.insert(0, sys.argv[2])
import sasl_check as S
host, port = sys.argv[1].rsplit(":", 1)
s = S.connect(host, int(port))
head, tok = S.sasl(s, 1, b"")
nonce = re.search(rb"nonce=\"([^\"]+)\"", tok).group(1).decode()
head, tok = S.sasl(s, 2, S.response("jaasuser", "wrong", nonce))
assert head == "xid=2 zxid=0 err=0 len=-1" and tok is None, (head, tok)   # OK, no token
assert S.whoami(s) == [("ip", "127.0.0.1")], S.whoami(s)
assert S.after(s) == "ping err=0"
' "$ZK_HOSTS" "$HARNESS_DIR" || fail "allowSaslFailedClients: unexpected answers"
finish_server
log "allowSaslFailedClients: a failed exchange answered OK without a token, connection kept, no identity"
log "all passed"
