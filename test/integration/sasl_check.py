#!/usr/bin/env python3
"""sasl_check.py — SASL DIGEST-MD5 on the client port (test_sasl.sh).

Runs against one server (zkserver or Apache 3.8) started with the JAAS file
of kazoo's harness plus a user "admin" named by zookeeper.superUser, and
prints a transcript of outcomes (no nonces, digests or session ids), which
test_sasl.sh compares between the two servers:

  * kazoo's legacy path (auth_data=[("sasl", "user:password")]) and the
    current one (sasl_options with DIGEST-MD5): a node with the ACL
    sasl:jaasuser is readable by that user only (NoAuth for the others);
    getACL, "auth" ACL expansion, the sasl identity "super" (matches every
    sasl id, not a digest id), zookeeper.superUser (super everywhere);
  * wrong password, unknown user: AuthFailedError from start();
  * invalid sasl ACL ids (InvalidACL);
  * raw packets: the challenge's shape, a second response after success,
    garbage, an authzid, an over-long token, a response for another realm
    or digest-uri, and what follows each (a reply, or the connection closed).

Usage: sasl_check.py HOSTS
"""
import hashlib
import logging
import re
import socket
import struct
import sys
import time

from kazoo.client import KazooClient
from kazoo.security import make_acl, make_digest_acl

logging.basicConfig(level=logging.CRITICAL)
OUT = []


def note(*parts):
    OUT.append(" ".join(str(p) for p in parts))


def client(hosts, **kw):
    return KazooClient(hosts=hosts, timeout=10, connection_retry=dict(max_tries=1, delay=0.2),
                       **kw)


def outcome(fn):
    """The result of fn() or the name of the exception it raised."""
    try:
        r = fn()
        return "ok" if r is None else repr(r)
    except Exception as e:  # noqa: BLE001 - the name is the result
        return type(e).__name__


def start_outcome(zk):
    """Where a client with bad credentials ends: kazoo 2.8 reports CONNECTED
    before its SASL exchange, so start() may return or raise depending on
    timing; the states it goes through (CONNECTED, then LOST when the
    server answers AUTHFAILED and closes) are what counts."""
    states = []
    zk.add_listener(lambda st: states.append(str(st)))
    try:
        zk.start(timeout=20)
    except Exception:  # noqa: BLE001 - AuthFailedError or a time-out, by timing
        pass
    try:
        deadline = time.monotonic() + 30
        while "LOST" not in states and time.monotonic() < deadline:
            time.sleep(0.05)
        return "states " + ",".join(states)
    finally:
        try:
            zk.stop()
            zk.close()
        except Exception:  # noqa: BLE001
            pass


def acl_text(acls):
    return sorted("%s:%s:%d" % (a.id.scheme, a.id.id, a.perms) for a in acls)


def kazoo_checks(hosts):
    plain = client(hosts)
    plain.start(timeout=20)
    paths = {"legacy": dict(auth_data=[("sasl", "jaasuser:jaas_password")]),
             "current": dict(sasl_options={"mechanism": "DIGEST-MD5", "username": "jaasuser",
                                           "password": "jaas_password"})}
    for name, kw in paths.items():
        zk = client(hosts, **kw)
        zk.start(timeout=20)
        node = "/sasl-" + name
        zk.create(node, b"secret", acl=[make_acl("sasl", "jaasuser", all=True)])
        note(name, "owner get", outcome(lambda: zk.get(node)[0]))
        note(name, "plain get", outcome(lambda: plain.get(node)))
        note(name, "getACL", acl_text(zk.get_acls(node)[0]))
        # "auth" expands to the connection's authenticated ids (sasl is one)
        zk.create(node + "-auth", b"x", acl=[make_acl("auth", "", all=True)])
        note(name, "auth ACL", acl_text(zk.get_acls(node + "-auth")[0]))
        note(name, "plain get auth-node", outcome(lambda: plain.get(node + "-auth")))
        zk.delete(node + "-auth")
        zk.stop()
        zk.close()
    # the wrong password, an unknown user: both paths
    for label, kw in [
        ("legacy wrong password", dict(auth_data=[("sasl", "jaasuser:wrong")])),
        ("legacy unknown user", dict(auth_data=[("sasl", "baduser:badpassword")])),
        ("current wrong password", dict(sasl_options={"mechanism": "DIGEST-MD5", "username": "jaasuser",
                                                      "password": "wrong"})),
        ("current unknown user", dict(sasl_options={"mechanism": "DIGEST-MD5", "username": "baduser",
                                                    "password": "badpassword"})),
    ]:
        note(label, start_outcome(client(hosts, **kw)))
    # SASL user "super": matches every sasl id (SASLAuthenticationProvider), not digest ones
    plain.create("/digest-node", b"d", acl=[make_digest_acl("dig", "pw", all=True)])
    su = client(hosts, sasl_options={"mechanism": "DIGEST-MD5", "username": "super", "password": "super_secret"})
    su.start(timeout=20)
    note("sasl super get sasl node", outcome(lambda: su.get("/sasl-current")[0]))
    note("sasl super get digest node", outcome(lambda: su.get("/digest-node")))
    su.stop()
    su.close()
    # zookeeper.superUser=admin: super everywhere
    ad = client(hosts, sasl_options={"mechanism": "DIGEST-MD5", "username": "admin", "password": "admin_pw"})
    ad.start(timeout=20)
    note("superUser get digest node", outcome(lambda: ad.get("/digest-node")[0]))
    note("superUser delete sasl node", outcome(lambda: ad.delete("/sasl-legacy")))
    ad.stop()
    ad.close()
    # sasl ACL ids must be Kerberos-style names
    for ident in ["a@b@c", "a@b/c", "x/y/z@R", "svc/host@REALM", "plain.name"]:
        def mk(ident=ident):
            p = plain.create("/acl-id-", b"", acl=[make_acl("sasl", ident, read=True)], sequence=True)
            plain.delete(p)
        note("sasl id", ident, outcome(mk))
    note("addauth sasl", outcome(lambda: plain.add_auth("sasl", "jaasuser:jaas_password")))
    try:
        plain.stop()
        plain.close()
    except Exception:  # noqa: BLE001
        pass
    cleaner = client(hosts, sasl_options={"mechanism": "DIGEST-MD5", "username": "admin", "password": "admin_pw"})
    cleaner.start(timeout=20)
    for p in ["/sasl-current", "/digest-node"]:
        cleaner.delete(p)
    cleaner.stop()
    cleaner.close()


# ---- raw packets --------------------------------------------------------------

def frame(b):
    return struct.pack(">i", len(b)) + b


def read_frame(s):
    def need(n):
        b = b""
        while len(b) < n:
            c = s.recv(n - len(b))
            if not c:
                return None
            b += c
        return b
    try:
        h = need(4)
        if h is None:
            return None
        return need(struct.unpack(">i", h)[0])
    except (socket.timeout, ConnectionResetError):
        return None


def connect(host, port):
    s = socket.create_connection((host, port), timeout=15)
    s.sendall(frame(struct.pack(">iqiq", 0, 0, 10000, 0) + struct.pack(">i", 16) + b"\0" * 16 + b"\0"))
    if read_frame(s) is None:
        raise RuntimeError("no ConnectResponse")
    return s


def buf(b):
    return struct.pack(">i", -1) if b is None else struct.pack(">i", len(b)) + b


def sasl(s, xid, token):
    """(err, token) of the reply to a sasl packet, or "closed"."""
    s.sendall(frame(struct.pack(">ii", xid, 102) + buf(token)))
    r = read_frame(s)
    if r is None:
        return "closed", None
    rxid, zxid, err = struct.unpack(">iqi", r[:16])
    n = struct.unpack(">i", r[16:20])[0] if len(r) >= 20 else None
    tok = r[20:20 + n] if n is not None and n >= 0 else None
    return "xid=%d zxid=%d err=%d len=%s" % (rxid, zxid, err, n), tok


def whoami(s):
    """The identities whoAmI (opcode 107) lists: [(scheme, user)...], or "closed"."""
    s.sendall(frame(struct.pack(">ii", 9, 107)))
    r = read_frame(s)
    if r is None:
        return "closed"
    xid, zxid, err = struct.unpack(">iqi", r[:16])
    if err != 0:
        return "err=%d" % err
    n = struct.unpack(">i", r[16:20])[0]
    pos, ids = 20, []
    for _ in range(n):
        pair = []
        for _f in range(2):
            ln = struct.unpack(">i", r[pos:pos + 4])[0]
            pos += 4
            pair.append(r[pos:pos + max(ln, 0)].decode())
            pos += max(ln, 0)
        ids.append(tuple(pair))
    return sorted(ids)


def after(s):
    """What a ping gets after the exchange: a reply or a closed connection."""
    try:
        s.sendall(frame(struct.pack(">ii", -2, 11)))
    except OSError:
        return "closed"
    r = read_frame(s)
    return "closed" if r is None else "ping err=%d" % struct.unpack(">iqi", r[:16])[2]


def response(user, pw, nonce, cnonce="0a4f113b", uri="zookeeper/zk-sasl-md5", realm="zk-sasl-md5",
             authzid=None, extra=""):
    ha1b = hashlib.md5(("%s:%s:%s" % (user, realm, pw)).encode()).digest() + (":%s:%s" % (nonce, cnonce)).encode()
    if authzid is not None:
        ha1b += b":" + authzid.encode()
    ha1 = hashlib.md5(ha1b).hexdigest()
    ha2 = hashlib.md5(("AUTHENTICATE:" + uri).encode()).hexdigest()
    rs = hashlib.md5(("%s:%s:00000001:%s:auth:%s" % (ha1, nonce, cnonce, ha2)).encode()).hexdigest()
    t = ('charset=utf-8,username="%s",realm="%s",nonce="%s",nc=00000001,cnonce="%s",'
         'digest-uri="%s",maxbuf=65536,response=%s,qop=auth' % (user, realm, nonce, cnonce, uri, rs))
    if authzid is not None:
        t += ',authzid="%s"' % authzid
    return (t + extra).encode()


def raw_checks(hosts):
    host, port = hosts.rsplit(":", 1)
    port = int(port)
    cases = {
        "good": lambda n: response("jaasuser", "jaas_password", n),
        "wrong password": lambda n: response("jaasuser", "nope", n),
        "garbage": lambda n: b"garbage",
        "authzid same": lambda n: response("jaasuser", "jaas_password", n, authzid="jaasuser"),
        "authzid other": lambda n: response("jaasuser", "jaas_password", n, authzid="other"),
        "other realm": lambda n: response("jaasuser", "jaas_password", n, realm="elsewhere"),
        "upper-case uri": lambda n: response("jaasuser", "jaas_password", n, uri="ZOOKEEPER/ZK-SASL-MD5"),
        "other uri": lambda n: response("jaasuser", "jaas_password", n, uri="zookeeper/elsewhere"),
        "qop auth-int": lambda n: response("jaasuser", "jaas_password", n).replace(b"qop=auth", b"qop=auth-int"),
        "duplicate username": lambda n: response("jaasuser", "jaas_password", n) + b',username="x"',
        "charset latin1": lambda n: response("jaasuser", "jaas_password", n).replace(b"charset=utf-8",
                                                                                     b"charset=latin1"),
        "over-long": lambda n: response("jaasuser", "jaas_password", n) + b"," + b"x=" + b"y" * 5000,
        "empty": lambda n: b"",
    }
    for name, make in cases.items():
        s = connect(host, port)
        head, tok = sasl(s, 1, b"")
        ch = (tok or b"").decode("ascii", "replace")
        m = re.fullmatch(r'realm="zk-sasl-md5",nonce="([A-Za-z0-9+/]{40})",charset=utf-8,algorithm=md5-sess', ch)
        note("raw", name, "challenge", head, "shape ok" if m else "shape BAD " + ch)
        if not m:
            s.close()
            continue
        head, tok = sasl(s, 2, make(m.group(1)))
        shown = None if tok is None else re.sub(rb"[0-9a-f]{32}", b"<hex>", tok).decode("ascii", "replace")
        note("raw", name, "response", head, shown)
        if head.startswith("xid=2") and "err=0" in head:
            note("raw", name, "whoami", whoami(s))
            head, tok = sasl(s, 3, b"")
            note("raw", name, "again", head, tok)
        note("raw", name, "then", after(s))
        s.close()
    # a token before the challenge is ignored (no subsequent authentication)
    s = connect(host, port)
    head, tok = sasl(s, 7, b"username=\"jaasuser\"")
    note("raw initial response", head, "challenge" if tok and tok.startswith(b"realm=") else tok)
    s.close()


def main():
    hosts = sys.argv[1]
    kazoo_checks(hosts)
    raw_checks(hosts)
    print("\n".join(OUT))


if __name__ == "__main__":
    main()
