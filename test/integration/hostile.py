#!/usr/bin/python3
"""hostile.py — hostile and malformed clients on the client port, spoken with
raw sockets (self-contained minimal jute helpers, no kazoo for the hostile
side).  After every case a fresh kazoo client must still work and the server
process must still be alive.  Expected reactions are those of Apache
ZooKeeper 3.8 (recorded by running this file against it).

Usage: /usr/bin/python3 hostile.py HOST:PORT SERVER_PID
Prints one "ok ..." line per check; stops at the first mismatch with
"FAIL <check>: expected ..., got ..." and exit status 1.
"""

import os
import random
import socket
import struct
import sys
import time

from kazoo.client import KazooClient

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zkwire as zw  # noqa: E402

HOST, PORT = sys.argv[1].rsplit(":", 1) if len(sys.argv) > 1 else ("127.0.0.1", "2181")
PORT = int(PORT)
SERVER_PID = int(sys.argv[2]) if len(sys.argv) > 2 else None
JUTE_MAXBUFFER = 0xfffff

# opcodes and error codes (zookeeper.jute / KeeperException.Code)
OP_CREATE, OP_DELETE, OP_EXISTS, OP_GETDATA = 1, 2, 3, 4
OP_SETDATA, OP_GETCHILDREN = 5, 8
ZOK, ZBADARGUMENTS, ZUNIMPLEMENTED, ZNONODE = 0, -8, -6, -101


# ---------------------------------------------------------------- reporting

def fail(name, expected, got):
    print(f"FAIL {name}: expected {expected!r}, got {got!r}", flush=True)
    raise SystemExit(1)


def check(name, got, expected):
    if got != expected:
        fail(name, expected, got)
    print(f"ok   {name}", flush=True)


# ---------------------------------------------------------------- jute
# Encoders come from zkwire.py (the integration scripts' one jute module);
# these short names keep the cases below readable.

def jint(value):
    return zw.Writer().int(value).bytes()


def jlong(value):
    return zw.Writer().long(value).bytes()


def jbool(value):
    return zw.Writer().bool(value).bytes()


def jbuffer(data):
    """A jute buffer/ustring: int length then bytes; None is length -1."""
    return zw.Writer().buffer(data).bytes()


jstring = jbuffer
frame = zw.frame


def connect_request(timeout_ms=30000, session_id=0, passwd=bytes(16)):
    return zw.enc_connect(timeout_ms=timeout_ms, session_id=session_id, passwd=passwd)


def create_body(path, data=b"", flags=0):
    return zw.enc_create(path, data, flags=flags)


path_watch_body = zw.enc_path_watch


# ---------------------------------------------------------------- sockets

class Raw:
    """A raw TCP connection to the server with bounded reads."""

    def __init__(self, timeout=5.0):
        self.sock = socket.create_connection((HOST, PORT), timeout=timeout)
        self.sock.settimeout(timeout)
        self.xid = 0

    def send(self, data):
        self.sock.sendall(data)

    def recv_exact(self, count):
        """Read exactly count bytes; None if the peer closed first."""
        buf = b""
        while len(buf) < count:
            chunk = self.sock.recv(count - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf

    def recv_frame(self):
        """One length-prefixed frame's payload; None on close."""
        head = self.recv_exact(4)
        if head is None:
            return None
        (length,) = struct.unpack(">i", head)
        return self.recv_exact(length)

    def handshake(self, timeout_ms=30000):
        """Send a ConnectRequest; return (negotiated timeout, session id)."""
        self.send(frame(connect_request(timeout_ms)))
        resp = self.recv_frame()
        if resp is None:
            raise ConnectionError("closed during handshake")
        _proto, timeout, session_id = struct.unpack(">iiq", resp[:16])
        return timeout, session_id

    def request(self, op, body):
        """Send one request; return (xid, zxid, err, body) of its reply, or
        None if the server closed the connection.  Skips events/pings."""
        self.xid += 1
        self.send(frame(jint(self.xid) + jint(op) + body))
        while True:
            resp = self.recv_frame()
            if resp is None:
                return None
            xid, zxid, err = struct.unpack(">iqi", resp[:16])
            if xid in (-1, -2):
                continue
            return xid, zxid, err, resp[16:]

    def closed_by_peer(self, seconds=5.0):
        """True if the server closes the connection within `seconds`
        (anything it sends first is drained and ignored)."""
        self.sock.settimeout(seconds)
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                if not self.sock.recv(65536):
                    return True
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------- health

def server_still_serves(case):
    """After a hostile case: the server process lives and a fresh kazoo
    client can write and read."""
    if SERVER_PID is not None:
        try:
            os.kill(SERVER_PID, 0)
            alive = True
        except OSError:
            alive = False
        check(f"{case}: server process alive", alive, True)
    zk = KazooClient(hosts=f"{HOST}:{PORT}", timeout=10.0)
    try:
        zk.start(timeout=15)
        path = zk.create("/hostile/probe-", b"ok", sequence=True,
                         makepath=True)
        got = zk.get(path)[0]
        zk.delete(path)
    finally:
        zk.stop()
        zk.close()
    check(f"{case}: fresh kazoo client works", got, b"ok")


# ---------------------------------------------------------------- cases

def case_garbage_first_packet():
    # "GARB" read as a length prefix is > jute.maxbuffer: closed at once
    r = Raw()
    r.send(b"GARBAGE!\x00\x01\x02 garbage garbage\n")
    check("garbage first packet: connection closed", r.closed_by_peer(5), True)
    r.close()
    # a well-framed first packet that is not a ConnectRequest
    r = Raw()
    r.send(frame(b"\xff" * 45))
    check("framed garbage as ConnectRequest: connection closed",
          r.closed_by_peer(5), True)
    r.close()
    # a request header before any ConnectRequest
    r = Raw()
    r.send(frame(jint(1) + jint(OP_EXISTS) + path_watch_body("/")))
    check("request before ConnectRequest: connection closed",
          r.closed_by_peer(5), True)
    r.close()
    server_still_serves("garbage first packet")


def case_bad_lengths():
    for name, prefix, handshake in (
            ("huge length 0x7fffffff before handshake", 0x7fffffff, False),
            ("huge length 0x7fffffff after handshake", 0x7fffffff, True),
            ("negative length after handshake", -5, True),
            ("length jute.maxbuffer+1 after handshake", JUTE_MAXBUFFER + 1,
             True)):
        r = Raw()
        if handshake:
            r.handshake()
        r.send(jint(prefix) + b"x" * 64)
        check(f"{name}: connection closed", r.closed_by_peer(5), True)
        r.close()
    server_still_serves("bad length prefixes")


def case_frame_size_limit():
    """A frame of exactly jute.maxbuffer bytes is served; one byte more and
    the connection is closed (others unaffected)."""
    r = Raw(timeout=15)
    r.handshake()
    header = 8
    body_fixed = len(create_body("/hostile/max", b""))
    data = b"m" * (JUTE_MAXBUFFER - header - body_fixed)
    payload = jint(1) + jint(OP_CREATE) + create_body("/hostile/max", data)
    check("frame of exactly jute.maxbuffer bytes", len(payload),
          JUTE_MAXBUFFER)
    r.send(frame(payload))
    reply = r.recv_frame()
    check("frame of exactly jute.maxbuffer: create succeeds",
          reply and struct.unpack(">iqi", reply[:16])[2], ZOK)
    reply = r.request(OP_DELETE, jstring("/hostile/max") + jint(-1))
    check("delete it", reply and reply[2], ZOK)
    r.close()
    r = Raw(timeout=15)
    r.handshake()
    payload = jint(1) + jint(OP_CREATE) + create_body("/hostile/max",
                                                      data + b"m")
    check("frame of jute.maxbuffer+1 bytes", len(payload), JUTE_MAXBUFFER + 1)
    try:
        r.send(frame(payload))
        closed = r.closed_by_peer(5)
    except (BrokenPipeError, ConnectionResetError):
        closed = True
    check("frame of jute.maxbuffer+1: connection closed", closed, True)
    r.close()
    server_still_serves("frame size limit")


def case_truncated_frames():
    for name, handshake, data in (
            ("truncated length prefix", False, b"\x00\x00"),
            ("truncated ConnectRequest", False, jint(45) + jint(0) + b"\x00"),
            ("truncated request", True, jint(100) + jint(1) + jint(OP_CREATE)),
            ("length only", True, jint(64))):
        r = Raw()
        if handshake:
            r.handshake()
        r.send(data)
        r.close()
        print(f"ok   {name} then close: sent", flush=True)
    server_still_serves("truncated frames")


def case_unknown_opcode():
    # Apache answers an unknown opcode with ZUNIMPLEMENTED (-6) for that
    # xid, then closes the connection.
    for op in (999, -7, 127):
        r = Raw()
        r.handshake()
        reply = r.request(op, b"")
        check(f"unknown opcode {op}: reply (xid, err)",
              reply and (reply[0], reply[2]), (1, ZUNIMPLEMENTED))
        check(f"unknown opcode {op}: then connection closed",
              r.closed_by_peer(5), True)
        r.close()
    # a known opcode with a truncated body: ZMARSHALLINGERROR (-5), and the
    # connection stays usable
    r = Raw()
    r.handshake()
    reply = r.request(OP_CREATE, jstring("/hostile-short"))
    check("create with truncated body: err", reply and reply[2], -5)
    reply = r.request(OP_EXISTS, path_watch_body("/"))
    check("connection still serves after marshalling error",
          reply and reply[2], ZOK)
    r.close()
    server_still_serves("unknown opcode")


# (path, create, create-sequential, exists, getData, delete) as Apache 3.8
# answers them with /hp existing.  Create validates the full path only after
# finding the parent (so a missing parent gives NONODE first) and, for a
# sequential node, after appending the suffix (so "/hp/" + sequential is
# fine); reads do not validate (except exists, which rejects NUL); delete
# only rejects a path without "/" or with NUL.  "" reads as the root.  For
# the valid paths the plain create makes the node that exists/get/delete
# then find.
NONODE = ZNONODE
BAD = ZBADARGUMENTS
PATH_CASES = [
    ("",            BAD, BAD, ZOK, ZOK, BAD),
    ("hp",          BAD, BAD, NONODE, NONODE, BAD),
    ("hp/x",        NONODE, NONODE, NONODE, NONODE, NONODE),
    ("/hp/",        BAD, ZOK, NONODE, NONODE, NONODE),
    ("//",          BAD, BAD, NONODE, NONODE, NONODE),
    ("/hp//b",      NONODE, NONODE, NONODE, NONODE, NONODE),
    ("/hp/./b",     NONODE, NONODE, NONODE, NONODE, NONODE),
    ("/hp/../b",    NONODE, NONODE, NONODE, NONODE, NONODE),
    ("/hp/.",       BAD, ZOK, NONODE, NONODE, NONODE),
    ("/hp/..",      BAD, ZOK, NONODE, NONODE, NONODE),
    ("/hp/a\x00b",  BAD, BAD, BAD, NONODE, BAD),
    ("/hp/\x01",    BAD, BAD, NONODE, NONODE, NONODE),
    ("/hp/b\x1f",   BAD, BAD, NONODE, NONODE, NONODE),
    ("/hp/\x7f",    BAD, BAD, NONODE, NONODE, NONODE),
    ("/hp/\x9f",    BAD, BAD, NONODE, NONODE, NONODE),
    ("/hp/\ud7ff",  ZOK, ZOK, ZOK, ZOK, ZOK),
    ("/hp/\ue000",  BAD, BAD, NONODE, NONODE, NONODE),
    ("/hp/\uf8ff",  BAD, BAD, NONODE, NONODE, NONODE),
    ("/hp/\ufff0",  BAD, BAD, NONODE, NONODE, NONODE),
    ("/hp/\uffff",  BAD, BAD, NONODE, NONODE, NONODE),
    ("/hp/ok name", ZOK, ZOK, ZOK, ZOK, ZOK),
]


def case_invalid_paths():
    r = Raw()
    r.handshake()
    reply = r.request(OP_CREATE, create_body("/hp"))
    check("create /hp", reply and reply[2], ZOK)
    for path, *expected in PATH_CASES:
        codes = []
        for op, body in ((OP_CREATE, create_body(path)),
                         (OP_CREATE, create_body(path, flags=2)),
                         (OP_EXISTS, path_watch_body(path)),
                         (OP_GETDATA, path_watch_body(path)),
                         (OP_DELETE, jstring(path) + jint(-1))):
            reply = r.request(op, body)
            codes.append(reply[2] if reply else "closed")
            if reply is None:
                r.close()
                r = Raw()
                r.handshake()
        check(f"path {path!r}: create/create-seq/exists/get/delete codes",
              codes, list(expected))
    r.close()
    server_still_serves("invalid paths")


def case_undecodable_bodies():
    """Bodies that do not decode, for the ops where that once reached a
    field access (issue 7: a deleteContainer without a path crashed the
    server).  Apache's answers (test/integration/malformed_diff.py compares
    the whole catalogue with Apache side by side)."""
    OP_DELETECONTAINER, OP_CREATESESSION, OP_RECONFIG = 20, -10, 16
    r = Raw()
    r.handshake()
    for name, op, body, err in (
            ("deleteContainer without a body", OP_DELETECONTAINER, b"", ZBADARGUMENTS),
            ("deleteContainer of a path", OP_DELETECONTAINER, b"/hostile", ZBADARGUMENTS),
            ("deleteContainer of garbage", OP_DELETECONTAINER, b"\xff" * 7, ZBADARGUMENTS),
            ("createSession without a timeout", OP_CREATESESSION, b"\x00", -5),
            ("reconfig cut short", OP_RECONFIG, jint(3), -5),
            ("create with a null path", OP_CREATE, jint(-1) + jbuffer(b"") + jint(-1) + jint(0), -5),
            ("setData with a null path", OP_SETDATA, jint(-1) + jbuffer(b"") + jint(-1),
             ZBADARGUMENTS)):
        reply = r.request(op, body)
        check(f"{name}: err", reply and reply[2], err)
    r.close()
    server_still_serves("undecodable bodies")


def case_random_frames(seconds=3.0, seed=7):
    """The client of issue 7: a valid ConnectRequest, then request frames
    with random opcodes (known and unknown) and random or mutated bodies,
    sent as fast as the server answers; the server must stay up."""
    rng = random.Random(seed)
    opcodes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
               100, 101, 102, 103, 104, 105, 106, 107, -10, -11, 0, 10, 23, 999]
    seeds = [create_body("/hostile/r", b"x"), path_watch_body("/hostile"),
             jstring("/hostile") + jint(-1), jint(-1) + jbool(True) + jint(-1)]
    sent = 0
    deadline = time.monotonic() + seconds
    r = None
    while time.monotonic() < deadline:
        if r is None:
            r = Raw(timeout=2)
            r.handshake()
        body = bytearray(rng.choice(seeds))
        for _ in range(rng.randrange(4)):
            if body and rng.random() < 0.5:
                body[rng.randrange(len(body))] = rng.randrange(256)
            else:
                body = body[:rng.randrange(len(body) + 1)]
        try:
            reply = r.request(rng.choice(opcodes), bytes(body))
        except (socket.timeout, OSError):
            reply = None
        sent += 1
        if reply is None:
            r.close()
            r = None
    if r is not None:
        r.close()
    print(f"ok   {sent} random frames sent", flush=True)
    server_still_serves("random frames")


def case_abrupt_drops():
    """50 connections opened, some mid-handshake and some mid-request,
    then reset (SO_LINGER 0) all at once."""
    conns = []
    for i in range(50):
        r = Raw()
        if i % 2:
            r.handshake()
            r.send(jint(200) + jint(1) + jint(OP_CREATE) + b"\x00\x00")
        else:
            r.send(frame(connect_request())[:20])
        conns.append(r)
    for r in conns:
        r.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          struct.pack("ii", 1, 0))
        r.close()
    print("ok   50 connections dropped mid-frame", flush=True)
    server_still_serves("50 abrupt drops")


def main():
    # A client that connects and never speaks: the server keeps serving the
    # others, and (Apache: after zookeeper.nio.sessionlessCnxnTimeout,
    # 10 s, rounded up to its 10 s expiry tick) closes it.
    silent = Raw(timeout=30)
    silent_since = time.monotonic()

    case_garbage_first_packet()
    case_bad_lengths()
    case_frame_size_limit()
    case_truncated_frames()
    case_unknown_opcode()
    case_invalid_paths()
    case_undecodable_bodies()
    case_random_frames()
    case_abrupt_drops()

    open_for = time.monotonic() - silent_since
    closed = silent.closed_by_peer(max(1.0, 30.0 - open_for))
    waited = time.monotonic() - silent_since
    check("silent client: closed by the server within 30 s",
          (closed, waited <= 31), (True, True))
    print(f"     (closed after {waited:.1f} s)", flush=True)
    silent.close()
    server_still_serves("silent client")
    print("hostile: all checks passed", flush=True)


if __name__ == "__main__":
    main()
