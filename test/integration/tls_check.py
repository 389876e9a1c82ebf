#!/usr/bin/env python3
"""tls_check.py — kazoo over TLS against a server's secureClientPort
(test_tls.sh): a client with a certificate creates and reads znodes; the
x509 scheme of its certificate works in an ACL (a plain-port client gets
NoAuth); a client without a certificate is refused (ssl.clientAuth=need).

Usage: tls_check.py PLAIN_HOSTS SECURE_HOSTS CERTDIR X509_DN
"""
import logging
import socket
import ssl
import sys

from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import make_acl

logging.basicConfig(level=logging.CRITICAL)


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    plain, secure, d, dn = sys.argv[1:5]
    tls = dict(use_ssl=True, ca=d + "/ca.pem", certfile=d + "/client.pem", keyfile=d + "/client.key")
    zk = KazooClient(hosts=secure, timeout=10, **tls)
    zk.start(timeout=15)
    path = zk.create("/tls-check", b"over tls", makepath=True)
    data, _ = zk.get(path)
    if data != b"over tls":
        fail("read back %r" % data)
    # x509 ACL: only the certificate's subject may read
    zk.create("/tls-x509", b"secret", acl=[make_acl("x509", dn, all=True)])
    data, _ = zk.get("/tls-x509")
    if data != b"secret":
        fail("x509 owner could not read")
    pz = KazooClient(hosts=plain, timeout=10)
    pz.start(timeout=15)
    try:
        pz.get("/tls-x509")
        fail("plain-port client read an x509-protected node")
    except NoAuthError:
        pass
    if pz.get(path)[0] != b"over tls":
        fail("plain port does not see the TLS client's write")
    pz.stop()
    pz.close()
    zk.delete("/tls-x509")
    zk.delete(path)
    zk.stop()
    zk.close()
    # no certificate: the handshake is refused (TLS 1.3 reports it at the first read)
    host, port = secure.rsplit(":", 1)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(d + "/ca.pem")
    refused = False
    try:
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            with ctx.wrap_socket(raw) as tls_sock:
                tls_sock.sendall(b"\0\0\0\4ruok")
                refused = tls_sock.recv(64) == b""
    except (ssl.SSLError, OSError):
        refused = True
    if not refused:
        fail("a client without a certificate was served (clientAuth=need)")
    print("tls_check ok")


if __name__ == "__main__":
    main()
