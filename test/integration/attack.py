#!/usr/bin/python3
"""attack.py - the real-socket attack suite (test_attack_client.sh,
test_attack_peer.sh; docs/security.md "Attack suite").

Against a running ensemble, a well-behaved kazoo client keeps writing and
reading (create /good/wNNNNNN, then get it back) while each attack runs in
turn.  For every attack the suite checks that the attacking connection
(only it) was closed or throttled, through the server log lines and the
four-letter word cons, and prints one report line: the well-behaved
client's operations and latency during the attack, and each member's RSS
(VmRSS of /proc/PID/status) before, at its peak during, and after it.
At the end: every member is alive, the well-behaved client never lost its
connection, and every write it got acknowledged is on every replica.

Usage:
  attack.py client|peer --member SID:PID:CLIENTPORT:QUORUMPORT:ELECTIONPORT:LOG ...
            --target SID [--only NAME,...] [--short]

  client  attacks on TARGET's client port (TARGET serves the good client)
  peer    attacks on the quorum and election ports (TARGET: the leader)
  --short shorter phases and smaller floods (the ASan+UBSan run)

Exit status 0 if every check passed; 1 with "FAIL ..." otherwise.
Raw frames come from zkwire.py; every socket wait is bounded.
"""

import argparse
import os
import random
import re
import resource
import socket
import struct
import sys
import threading
import time

from kazoo.client import KazooClient, KazooState
from kazoo.retry import KazooRetry

import fourlw_exact as fx  # send_word only
import zkwire as zw

PEER_MAGIC = 0x7A6B6673
ELECTION, QUORUM = 0, 1
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Failure(Exception):
    """A check of the suite failed."""


def check(cond, msg):
    if not cond:
        raise Failure(msg)


# --------------------------------------------------------------- members

class Member:
    def __init__(self, spec):
        sid, pid, cport, qport, eport, log = spec.split(":", 5)
        self.sid, self.pid = int(sid), int(pid)
        self.cport, self.qport, self.eport = int(cport), int(qport), int(eport)
        self.log = log

    def alive(self):
        try:
            os.kill(self.pid, 0)
            return True
        except OSError:
            return False

    def rss_kb(self):
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return -1

    def cpu_s(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def log_size(self):
        return os.path.getsize(self.log)

    def log_since(self, offset):
        with open(self.log, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def wait_log(self, offset, pattern, timeout=15.0):
        """The first log line after offset matching pattern (a regex), or fail."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            for line in self.log_since(offset).splitlines():
                if rx.search(line):
                    return line
            if time.monotonic() > deadline:
                raise Failure(f"member {self.sid}: no log line /{pattern}/ within {timeout:.0f} s")
            time.sleep(0.1)

    def four_letter(self, word, timeout=5.0):
        """The whole reply to a four-letter word ("" if none)."""
        try:
            return fx.send_word(self.cport, word, timeout).decode("utf-8", "replace")
        except OSError:
            return ""

    def cons(self):
        """{port: (interest_ops, line)} of cons (127.0.0.x connections)."""
        out = {}
        for line in self.four_letter("cons").splitlines():
            m = re.match(r"\s*/[0-9.]+:(\d+)\[(\d+)\]", line)
            if m:
                out[int(m.group(1))] = (int(m.group(2), 16), line.strip())
        return out

    def mntr(self, key):
        m = re.search(rf"^zk_{key}\t(-?\d+)", self.four_letter("mntr"), re.M)
        return int(m.group(1)) if m else None

    def mode(self):
        m = re.search(r"^Mode: (\w+)", self.four_letter("srvr"), re.M)
        return m.group(1) if m else "none"

    def zxid(self):
        m = re.search(r"^Zxid: (0x[0-9a-f]+)", self.four_letter("srvr"), re.M)
        return int(m.group(1), 16) if m else -1


# --------------------------------------------------------------- samplers

class RssSampler(threading.Thread):
    """Samples every member's RSS every 50 ms; window() gives the peak."""

    def __init__(self, members):
        super().__init__(daemon=True)
        self.members = members
        self.peak = {m.sid: 0 for m in members}
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        while not self.stop.is_set():
            for m in self.members:
                r = m.rss_kb()
                with self.lock:
                    self.peak[m.sid] = max(self.peak[m.sid], r)
            time.sleep(0.05)

    def reset(self):
        with self.lock:
            for m in self.members:
                self.peak[m.sid] = m.rss_kb()

    def peaks(self):
        with self.lock:
            return dict(self.peak)


class GoodClient(threading.Thread):
    """The well-behaved client: create /good/wNNNNNN with data b"N", then get
    it back, over and over; records every acknowledged write, each
    operation's latency and every connection state change."""

    def __init__(self, hosts):
        super().__init__(daemon=True)
        self.zk = KazooClient(hosts=hosts, timeout=10.0, randomize_hosts=False,
                              connection_retry=KazooRetry(max_tries=-1, delay=0.2, max_delay=1),
                              command_retry=KazooRetry(max_tries=5, delay=0.2, max_delay=1))
        self.states = []
        self.zk.add_listener(lambda st: self.states.append((time.monotonic(), st)))
        self.zk.start(timeout=20)
        self.zk.ensure_path("/good")
        self.acked = []          # indexes of acknowledged writes
        self.ops = []            # (end time, kind, latency s)
        self.errors = []
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def local_port(self):
        sock = self.zk._connection._socket
        return sock.getsockname()[1] if sock else None

    def run(self):
        i = 0
        while not self.stop.is_set():
            path, data = f"/good/w{i:06d}", str(i).encode()
            t0 = time.monotonic()
            try:
                self.zk.create(path, data)
                t1 = time.monotonic()
                got, _ = self.zk.get(path)
                t2 = time.monotonic()
                if got != data:
                    self.errors.append(f"get {path}: {got!r}")
                with self.lock:
                    self.acked.append(i)
                    self.ops.append((t1, "w", t1 - t0))
                    self.ops.append((t2, "r", t2 - t1))
            except Exception as e:  # noqa: BLE001 - reported, fails the suite
                self.errors.append(f"{path}: {type(e).__name__}: {e}")
                time.sleep(0.2)
            i += 1
            time.sleep(0.002)

    def window(self, t0, t1):
        with self.lock:
            lat = [l for (t, _, l) in self.ops if t0 <= t <= t1]
        if not lat:
            return 0, 0.0, 0.0
        return len(lat), 1000 * sum(lat) / len(lat), 1000 * max(lat)

    def finish(self):
        self.stop.set()
        self.join(30)
        self.zk.stop()
        self.zk.close()


# --------------------------------------------------------------- raw helpers

def raw_session(port, timeout_ms=10000, source=None, io_timeout=10.0):
    """A raw socket with an established session (zkwire frames)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=io_timeout,
                                 source_address=(source, 0) if source else None)
    s.sendall(zw.frame(zw.enc_connect(timeout_ms)))
    payload = recv_frame(s, io_timeout)
    check(payload is not None, f"no ConnectResponse on port {port}")
    resp = zw.decode_connect_response(payload)
    return s, resp["sessionId"]


def recv_frame(s, timeout):
    """One length-prefixed frame, or None on EOF/reset/timeout."""
    s.settimeout(timeout)
    buf = b""
    try:
        while len(buf) < 4:
            b = s.recv(4 - len(buf))
            if not b:
                return None
            buf += b
        (n,) = struct.unpack(">i", buf)
        out = b""
        while len(out) < n:
            b = s.recv(min(65536, n - len(out)))
            if not b:
                return None
            out += b
        return out
    except OSError:
        return None


def closed_by_server(s, timeout):
    """True if the server closes s (EOF or reset) within timeout; what the
    server already sent is read and dropped."""
    deadline = time.monotonic() + timeout
    s.settimeout(0.2)
    while time.monotonic() < deadline:
        try:
            b = s.recv(1 << 20)
            if not b:
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


def is_open(s):
    """True unless the server closed s (EOF or reset), without waiting."""
    timeout = s.gettimeout()
    s.setblocking(False)
    try:
        return s.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        s.settimeout(timeout)


def send_all_nonblocking(s, data, seconds):
    """Sends as much of data as the server takes within seconds; bytes sent."""
    s.settimeout(0.2)
    sent, deadline = 0, time.monotonic() + seconds
    while sent < len(data) and time.monotonic() < deadline:
        try:
            sent += s.send(data[sent:sent + 65536])
        except socket.timeout:
            continue
        except OSError:
            break
    return sent


def request(xid, op, body):
    return zw.frame(zw.enc_request(xid, zw.OP[op], body))


def hello(sid, channel):
    return struct.pack(">iIii", 12, PEER_MAGIC, sid, channel)


# --------------------------------------------------------------- the suite

class Suite:
    def __init__(self, members, target, short):
        self.members = members
        self.by_sid = {m.sid: m for m in members}
        self.target = self.by_sid[target]
        self.short = short
        self.rss = RssSampler(members)
        self.rss.start()
        others = [m for m in members if m is not self.target]
        hosts = ",".join(f"127.0.0.1:{m.cport}" for m in [self.target] + others)
        self.good = GoodClient(hosts)
        self.good.start()
        self.reports = []
        self.failed = False

    def leader(self):
        for m in self.members:
            if m.mode() == "leader":
                return m
        return None

    def run(self, name, fn):
        """Runs one attack with its report line; returns False on failure."""
        before = {m.sid: m.rss_kb() for m in self.members}
        offsets = {m.sid: m.log_size() for m in self.members}
        self.rss.reset()
        t0 = time.monotonic()
        note, ok = "", True
        try:
            note = fn(offsets) or ""
        except Failure as e:
            note, ok = f"FAIL: {e}", False
        except Exception as e:  # noqa: BLE001 - an attack helper broke: a failure
            note, ok = f"FAIL: {type(e).__name__}: {e}", False
        t1 = time.monotonic()
        peaks = self.rss.peaks()
        time.sleep(0.3)
        after = {m.sid: m.rss_kb() for m in self.members}
        ops, avg, mx = self.good.window(t0, t1)
        dead = [m.sid for m in self.members if not m.alive()]
        if dead:
            note, ok = f"FAIL: member(s) {dead} died. {note}", False
        rss = " ".join(f"m{m.sid}={before[m.sid] // 1024}/{peaks[m.sid] // 1024}/{after[m.sid] // 1024}"
                       for m in self.members)
        line = (f"attack {name}: {t1 - t0:.1f} s; good client {ops} ops, latency avg {avg:.1f} ms "
                f"max {mx:.1f} ms; RSS MiB before/peak/after {rss}; {note}")
        print(line, flush=True)
        self.reports.append(line)
        if not ok:
            self.failed = True
        return ok

    def fresh_client_works(self):
        """After an attack: a new session on the target is established, and
        the good client's connection reads."""
        fresh, _ = raw_session(self.target.cport)
        fresh.close()
        self.good_not_throttled()

    def good_not_throttled(self):
        """The well-behaved client's connection reads (cons shows OP_READ)."""
        port = self.good.local_port()
        c = self.target.cons()
        check(port in c, f"the good client's connection ({port}) is not in the target's cons: {sorted(c)[:10]}")
        check(c[port][0] & 1, f"the good client's connection is throttled: {c[port][1]}")

    def finish(self):
        time.sleep(0.5)
        lost = [st for (_, st) in self.good.states if st != KazooState.CONNECTED]
        self.good.finish()
        self.rss.stop.set()
        check(not lost, f"the good client's connection changed state: {lost}")
        check(not self.good.errors, f"the good client saw errors: {self.good.errors[:5]}")
        acked = set(self.good.acked)
        check(len(acked) > 0, "the good client got no write acknowledged")
        for m in self.members:
            zk = KazooClient(hosts=f"127.0.0.1:{m.cport}", timeout=10.0,
                             connection_retry=KazooRetry(max_tries=5, delay=0.2))
            zk.start(timeout=20)
            zk.sync("/good")
            present = {int(k[1:]) for k in zk.get_children("/good")}
            zk.stop()
            zk.close()
            missing = acked - present
            check(not missing, f"member {m.sid}: {len(missing)} acknowledged writes missing, e.g. "
                  f"{sorted(missing)[:5]}")
            print(f"member {m.sid}: all {len(acked)} acknowledged writes present", flush=True)
        dead = [m.sid for m in self.members if not m.alive()]
        check(not dead, f"member(s) {dead} died")


# ------------------------------------------------------ client-port attacks

def big_node(port, path, size):
    s, _ = raw_session(port)
    s.sendall(request(1, "create", zw.enc_create(path, b"x" * size)))
    recv_frame(s, 10)
    s.close()


def attack_noread(suite, offsets):
    """Pipelines getData of a 512 KiB node and never reads: reading from it
    stops at cnxnOutputThrottleBytes (backpressure); its memory stays bounded."""
    t = suite.target
    big_node(t.cport, "/attack-big", 512 << 10)
    s, sid = raw_session(t.cport)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    port = s.getsockname()[1]
    frames = b"".join(request(i + 1, "getData", zw.enc_path_watch("/attack-big")) for i in range(20000))
    sent = send_all_nonblocking(s, frames, 1.5 if suite.short else 3.0)
    line = t.wait_log(offsets[t.sid], rf"Throttling recv of connection 127\.0\.0\.1:{port} .*cnxnOutputThrottleBytes")
    c = t.cons()
    check(port in c, f"the attacker's connection {port} is not in cons")
    check(c[port][0] & 1 == 0, f"the attacker's connection still reads: {c[port][1]}")
    suite.good_not_throttled()
    recved = re.search(r"recved=(\d+)", c[port][1]).group(1)
    s.close()
    return (f"{sent * 20000 // len(frames)} requests pipelined, reading stopped after {recved}; "
            f"cons [{c[port][0]:x}]; log: {line.split(' - ', 1)[1][:120]}")


def attack_output_limit(suite, offsets):
    """Output that never gets read passes cnxnOutputLimitBytes: a write
    followed by reads that queue behind it, and a multiRead amplifying a
    512 KiB node: each connection is closed, and only it."""
    t = suite.target
    big_node(t.cport, "/attack-big", 512 << 10)
    notes = []
    s, _ = raw_session(t.cport)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    port = s.getsockname()[1]
    burst = request(1, "setData", zw.enc_set_data("/attack-big", b"y" * (512 << 10)))
    burst += b"".join(request(i + 2, "getData", zw.enc_path_watch("/attack-big")) for i in range(200))
    send_all_nonblocking(s, burst, 2.0)
    t.wait_log(offsets[t.sid], rf"closing connection 127\.0\.0\.1:{port} .*would pass cnxnOutputLimitBytes")
    check(closed_by_server(s, 10), "the queued-reads connection was not closed")
    notes.append("queued reads: closed")
    s, _ = raw_session(t.cport)
    port = s.getsockname()[1]
    ops = [(zw.OP["getData"], zw.enc_path_watch("/attack-big"))] * 300
    s.sendall(request(1, "multiRead", zw.enc_multi(ops)))
    t.wait_log(offsets[t.sid], rf"closing connection 127\.0\.0\.1:{port} .*would pass cnxnOutputLimitBytes")
    check(closed_by_server(s, 10), "the multiRead connection was not closed")
    notes.append("multiRead of 300 x 512 KiB: closed")
    suite.good_not_throttled()
    return "; ".join(notes)


def attack_slowloris(suite, offsets):
    """Connections that never finish the handshake (silent, or a
    ConnectRequest trickled a byte at a time) are closed after
    nio.sessionlessCnxnTimeout; a session that trickles a request expires
    after its session timeout (it is on a follower: the leader expires it)."""
    t = suite.target
    n = 10 if suite.short else 20
    silent = [socket.create_connection(("127.0.0.1", t.cport), timeout=5) for _ in range(n)]
    connect = zw.frame(zw.enc_connect(10000))
    trickle = [socket.create_connection(("127.0.0.1", t.cport), timeout=5) for _ in range(n)]
    sess, sid = raw_session(t.cport, timeout_ms=2000)
    partial = request(5, "getData", zw.enc_path_watch("/good"))
    deadline = time.monotonic() + 12
    closed = set()
    pos = 0
    while time.monotonic() < deadline and len(closed) < 2 * n + 1:
        for i, s in enumerate(silent + trickle + [sess]):
            if i in closed:
                continue
            try:
                if i >= n:
                    data = connect if i < 2 * n else partial
                    s.send(data[pos % len(data):pos % len(data) + 1])
                s.settimeout(0.001)
                if s.recv(65536) == b"":
                    closed.add(i)
            except socket.timeout:
                pass
            except OSError:
                closed.add(i)
        pos += 1
        time.sleep(0.25)
    for s in silent + trickle + [sess]:
        s.close()
    check(len(closed) == 2 * n + 1, f"only {len(closed)} of {2 * n + 1} slow connections were closed in 12 s")
    t.wait_log(offsets[t.sid], r"no session established within \d+ ms \(nio\.sessionlessCnxnTimeout")
    expired = t.mntr("sessionless_connections_expired")
    check(expired is not None and expired >= 2 * n, f"mntr sessionless_connections_expired {expired}")
    leader = suite.leader()
    check(leader is not None, "no leader")
    leader.wait_log(offsets[leader.sid], rf"Expiring session 0x{sid:x}")
    suite.good_not_throttled()
    return f"{2 * n} handshakes and 1 trickling session closed; session 0x{sid:x} expired on the leader"


def open_many(port, count, sources, handshake):
    # The sessions last 10 s: with 2 s, on a loaded machine the first ones
    # expired (closing their connections) before the last were opened, and
    # fewer than the extra 100 were refused.
    socks, refused = [], 0
    for i in range(count):
        src = sources[i % len(sources)]
        try:
            if handshake:
                s, _ = raw_session(port, timeout_ms=10000, source=src, io_timeout=5)
            else:
                s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(src, 0))
            socks.append(s)
        except (OSError, Failure):
            refused += 1
    return socks, refused


def attack_many_connections(suite, offsets, max_cnxns):
    """More connections than maxCnxns from many addresses (each within
    maxClientCnxns), all with sessions, and more than maxClientCnxns from
    one address: the extra ones are refused; the rest and the good client
    keep working; a fresh client connects once they are gone."""
    t = suite.target
    s1, r1 = open_many(t.cport, 70, ["127.0.0.99"], handshake=False)
    check(r1 == 0 and len(s1) == 70, f"connect() failed: {r1}")
    time.sleep(0.2)
    alive = sum(1 for s in s1 if is_open(s))
    check(alive == 60, f"{alive} of 70 connections from one address kept, not maxClientCnxns 60")
    t.wait_log(offsets[t.sid], r"Too many connections from /127\.0\.0\.99 - max is 60")
    for s in s1:
        s.close()
    sources = [f"127.0.0.{i}" for i in range(2, 40)]
    total = max_cnxns + 100
    socks, refused = open_many(t.cport, total, sources, handshake=True)
    t.wait_log(offsets[t.sid], rf"Too many connections \d+ - max is {max_cnxns}")
    check(refused >= 100 - 2, f"only {refused} of {total} connections refused (maxCnxns {max_cnxns})")
    check(len(socks) >= max_cnxns - 10, f"only {len(socks)} sessions accepted")
    # Their sessions end now (closeSession), as the 2 s ones used to by
    # expiring: left to expire after 10 s, ~300 expiries came in the middle
    # of the next attacks.
    for s in socks:
        try:
            s.sendall(zw.frame(zw.enc_request(1, zw.OP["closeSession"])))
        except OSError:
            pass
    time.sleep(0.5)
    for s in socks:
        s.close()
    time.sleep(0.5)
    suite.fresh_client_works()
    rejected = t.mntr("connection_rejected")
    check(rejected is not None and rejected >= refused + 10, f"mntr connection_rejected {rejected}")
    return (f"mntr connection_rejected {rejected}; one address: {alive} of 70 kept (maxClientCnxns 60); {len(socks)} sessions from "
            f"{len(sources)} addresses, {refused} refused (maxCnxns {max_cnxns}); a fresh client connects after")


def attack_emfile(suite, offsets):
    """The server runs out of file descriptors (its soft limit lowered under
    it): accept() fails with EMFILE; the server pauses accepting instead of
    spinning (its CPU time is measured), keeps serving, and accepts again
    once descriptors are free."""
    t = suite.target
    soft, hard = resource.prlimit(t.pid, resource.RLIMIT_NOFILE)
    nfds = len(os.listdir(f"/proc/{t.pid}/fd"))
    resource.prlimit(t.pid, resource.RLIMIT_NOFILE, (nfds + 20, hard))
    socks = []
    try:
        for _ in range(150):
            socks.append(socket.create_connection(("127.0.0.1", t.cport), timeout=5))
        t.wait_log(offsets[t.sid], r"Error accepting new connection: Too many open files; not accepting")
        cpu0, w0 = t.cpu_s(), time.monotonic()
        time.sleep(1.0 if suite.short else 2.0)
        cpu = (t.cpu_s() - cpu0) / (time.monotonic() - w0)
        check(cpu < 0.7, f"the server used {100 * cpu:.0f}% CPU while out of descriptors (spinning?)")
    finally:
        resource.prlimit(t.pid, resource.RLIMIT_NOFILE, (soft, hard))
        for s in socks:
            s.close()
    time.sleep(0.5)
    suite.fresh_client_works()
    return f"{nfds} fds open, limit {nfds + 20}: accept paused, server CPU {100 * cpu:.0f}% meanwhile; accepts again after"


def attack_big_requests(suite, offsets, max_watches):
    """A multi of ~19k creates and one of ~55k checks (each up to
    jute.maxbuffer), a 1 MiB path, a chain 1500 deep watched recursively
    from the root with changes at its bottom, a setWatches of 1 MiB of
    paths (as many as fit, within cnxnMaxWatches): each is answered."""
    t = suite.target
    c = zw.Conn("127.0.0.1", t.cport, io_timeout=60)
    c.connect()
    notes = []
    c.call("create", zw.enc_create("/attack-m", b""))
    ops, size, i = [], 0, 0
    while size < 0xfffff - 200:
        body = zw.enc_create(f"/attack-m/{i}", b"")
        ops.append((zw.OP["create"], body))
        size += len(body) + 9
        i += 1
    ops.pop()
    t0 = time.monotonic()
    r = c.call("multi", zw.enc_multi(ops), timeout=60)
    check(r.err == 0, f"multi of {len(ops)} creates: err {r.err}")
    notes.append(f"multi {len(ops)} creates {1000 * (time.monotonic() - t0):.0f} ms")
    one = zw.enc_path_version("/attack-m", -1)
    checks = [(zw.OP["check"], one)] * ((0xfffff - 100) // (len(one) + 9))
    t0 = time.monotonic()
    r = c.call("multi", zw.enc_multi(checks), timeout=60)
    check(r.err == 0, f"multi of checks: err {r.err}")
    notes.append(f"multi {len(checks)} checks {1000 * (time.monotonic() - t0):.0f} ms")
    c.call("create", zw.enc_create("/attack-long", b""))
    long_path = "/attack-long/" + "p" * (0xfffff - 200)
    t0 = time.monotonic()
    r = c.call("create", zw.enc_create(long_path, b""), timeout=30)
    check(r.err == 0, f"create of a 1 MiB path: err {r.err}")
    check(c.call("delete", zw.enc_path_version(long_path), timeout=30).err == 0, "delete of the 1 MiB path")
    notes.append(f"1 MiB path created and deleted {1000 * (time.monotonic() - t0):.0f} ms")
    depth = 400 if suite.short else 1500
    path = "/attack-deep"
    c.call("create", zw.enc_create(path, b""))
    for start in range(0, depth, 100):
        xids = []
        for _ in range(start, min(depth, start + 100)):
            path += "/d"
            xids.append(c.send("create", zw.enc_create(path, b"")))
        for x in xids:
            check(c.wait_reply(x, 30).err == 0, "create in the deep chain failed")
    check(c.call("addWatch", zw.enc_path_type("/", 1)).err == 0, "addWatch failed")
    t0 = time.monotonic()
    for k in range(20):
        check(c.call("setData", zw.enc_set_data(path, b"%d" % k)).err == 0, "setData deep failed")
    notes.append(f"depth {depth}: 20 changes under a recursive watch {1000 * (time.monotonic() - t0):.0f} ms")
    paths = [f"/attack-sw/{j:06d}" for j in range(min(0xfffff // 24, max_watches // 2))]
    r = c.set_watches(0, exist=paths, timeout=60)
    notes.append(f"setWatches of {len(paths)} paths: err {r.err}")
    c.disconnect()
    check(t.alive(), "the target died")
    suite.good_not_throttled()
    return "; ".join(notes)


def attack_watches(suite, offsets, max_watches):
    """One session sets watches on distinct missing paths (exists): past
    cnxnMaxWatches its connection is closed and its watches go."""
    t = suite.target
    s, sid = raw_session(t.cport)
    port = s.getsockname()[1]
    n = max_watches + max_watches // 5
    batch = 5000
    sent = 0
    t0 = time.monotonic()
    for start in range(0, n, batch):
        data = b"".join(request(i + 1, "exists", zw.enc_path_watch(f"/no/watch-{i:08d}", True))
                        for i in range(start, min(n, start + batch)))
        try:
            s.settimeout(30)
            s.sendall(data)
            sent += batch
        except OSError:
            break
        # read what came back so far (replies), without waiting
        s.settimeout(0.001)
        try:
            while s.recv(1 << 20):
                pass
        except (socket.timeout, BlockingIOError):
            pass
        except OSError:
            break
    t.wait_log(offsets[t.sid], rf"closing connection 127\.0\.0\.1:{port} .*holds \d+ watches, more than "
               rf"cnxnMaxWatches {max_watches}", timeout=60)
    check(closed_by_server(s, 10), "the watching connection was not closed")
    took = time.monotonic() - t0
    wchs = t.four_letter("wchs")
    s.close()
    suite.good_not_throttled()
    return f"{min(sent, n)} exists watches sent in {took:.1f} s, closed past {max_watches}; wchs after: " \
           f"{' '.join(wchs.split())[:80]}"


def attack_auth_flood(suite, offsets):
    """A session adds distinct digest identities: past AUTH_MAX_IDS (1024)
    the auth fails and the connection is closed (it costs the server
    microseconds each, no quadratic work)."""
    t = suite.target
    s, _ = raw_session(t.cport)
    port = s.getsockname()[1]
    t0 = time.monotonic()
    s.sendall(b"".join(request(-4, "auth", zw.enc_auth("digest", f"u{i}:p".encode())) for i in range(1100)))
    errs = []
    while True:
        p = recv_frame(s, 10)
        if p is None:
            break
        errs.append(struct.unpack(">iqi", p[:16])[2])
    took = time.monotonic() - t0
    # the connection's own "ip" identity is one of the 1024
    check(errs.count(0) == 1023 and errs[-1] == -115, f"auth results: {len(errs)} replies, last {errs[-1:]}")
    t.wait_log(offsets[t.sid], rf"connection 127\.0\.0\.1:{port} holds too many identities")
    s.close()
    suite.good_not_throttled()
    return f"1023 digest identities accepted (+ its ip), the next refused (AUTHFAILED) and closed, " \
           f"{1000 * took:.0f} ms in all"


def attack_write_flood(suite, offsets, limit):
    """Pipelines thousands of writes and reads none of the replies: past
    globalOutstandingLimit in the server, reading from it stops (Apache's
    shouldThrottle); the good client's writes still complete."""
    t = suite.target
    s, _ = raw_session(t.cport)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    port = s.getsockname()[1]
    s.sendall(request(1, "create", zw.enc_create("/attack-w", b"")))
    n = 3000 if suite.short else 8000
    frames = b"".join(request(i + 2, "setData", zw.enc_set_data("/attack-w", b"v" * 100)) for i in range(n))
    send_all_nonblocking(s, frames, 2.0 if suite.short else 4.0)
    line = t.wait_log(offsets[t.sid], rf"Throttling recv of connection 127\.0\.0\.1:{port} .*globalOutstandingLimit {limit}")
    ops0 = len(suite.good.ops)
    time.sleep(1.0)
    check(len(suite.good.ops) > ops0, "the good client made no progress while the flood was throttled")
    s.close()
    return f"throttled ({line.split(': ', 1)[1][:110]}); good client ops meanwhile {len(suite.good.ops) - ops0}"


# ------------------------------------------------------ peer-port attacks

def peer_conn(port, data=b"", timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if data:
        s.sendall(data)
    return s


def attack_peer_garbage(suite, offsets):
    """Garbage, an oversize length and a bad hello on every election port and
    the leader's quorum port: each connection is closed at once."""
    leader = suite.target
    rnd = random.Random(7)
    closed = 0
    targets = [(m, m.eport) for m in suite.members] + [(leader, leader.qport)]
    for m, port in targets:
        for data in (bytes(rnd.getrandbits(8) for _ in range(4096)), struct.pack(">I", 0x7FFFFFFF) + b"x" * 100,
                     struct.pack(">iIii", 12, 0xDEADBEEF, 1, 0)):
            s = peer_conn(port, data)
            check(closed_by_server(s, 5), f"member {m.sid} port {port} kept a garbage connection")
            closed += 1
            s.close()
    for m in suite.members:
        m.wait_log(offsets[m.sid], r"election port: connection from 127\.0\.0\.1:\d+ (did not start with a hello|sent a bad hello)")
    return f"{closed} garbage connections closed on {len(targets)} ports"


def attack_peer_half_open(suite, offsets):
    """Connections that never send their hello: at most 16 wait per port
    (the oldest is dropped), and each is closed after quorumCnxnTimeoutMs."""
    leader = suite.target
    n = 40
    socks = [peer_conn(leader.eport) for _ in range(n)] + [peer_conn(leader.qport) for _ in range(n)]
    leader.wait_log(offsets[leader.sid], r"election port: 16 connections without a hello; dropping the oldest")
    t0 = time.monotonic()
    closed = sum(1 for s in socks if closed_by_server(s, max(0.05, 12 - (time.monotonic() - t0))))
    for s in socks:
        s.close()
    check(closed == 2 * n, f"only {closed} of {2 * n} half-open peer connections were closed")
    leader.wait_log(offsets[leader.sid], r"sent no hello within \d+ ms \(quorumCnxnTimeoutMs\)")
    return f"{2 * n} half-open connections closed (16 pending at most per port) in {time.monotonic() - t0:.1f} s"


def attack_peer_sids(suite, offsets, free_sid):
    """Hellos that claim a sid not in the configuration, our own sid, a
    lower sid on the election port, and a sid already connected (on every
    election port and the leader's quorum port): each is refused, and the
    real links stay (no election, the leader keeps its epoch)."""
    leader = suite.target
    epoch = leader.zxid() >> 32
    cases = []
    for m in suite.members:
        lower = min(x.sid for x in suite.members)
        higher = [x.sid for x in suite.members if x.sid > m.sid]
        cases.append((m, m.eport, hello(99, ELECTION), r"claims sid 99, which is not a server\.N"))
        cases.append((m, m.eport, hello(m.sid, ELECTION), rf"claims our own id {m.sid}"))
        if m.sid > lower:
            cases.append((m, m.eport, hello(lower, ELECTION), rf"claims sid {lower}, lower than ours"))
        if higher:
            cases.append((m, m.eport, hello(higher[0], ELECTION), rf"claims sid {higher[0]}, which is already connected"))
        cases.append((m, m.eport, hello(free_sid, QUORUM), r"claims channel 1"))
    follower = next(m for m in suite.members if m is not leader)
    cases.append((leader, leader.qport, hello(follower.sid, QUORUM),
                  rf"quorum port: .* claims sid {follower.sid}, which is already connected"))
    for m, port, data, pattern in cases:
        s = peer_conn(port, data)
        check(closed_by_server(s, 5), f"member {m.sid}: a hello /{pattern}/ was not refused")
        s.close()
        m.wait_log(offsets[m.sid], pattern)
        time.sleep(0.02)
    time.sleep(1.0)
    modes = {m.sid: m.mode() for m in suite.members}
    check(modes[leader.sid] == "leader" and list(modes.values()).count("follower") == len(suite.members) - 1,
          f"the ensemble changed: {modes}")
    check(leader.zxid() >> 32 == epoch, "a new epoch began (an election happened)")
    return f"{len(cases)} false hellos refused; modes {modes}; epoch {epoch} kept"


def attack_peer_impostor(suite, offsets, free_sid):
    """A connection with a valid hello for the configured but absent sid
    (an observer that is not running): an oversize election frame, a
    malformed Zab message, a truncated TOUCH and an oversize frame from a
    "learner" each drop that link, and only it."""
    leader = suite.target
    notes = []
    m = next(x for x in suite.members if x is not leader)
    s = peer_conn(m.eport, hello(free_sid, ELECTION))
    check(recv_frame(s, 5) is not None, "no hello back on the election port")
    s.sendall(struct.pack(">I", 600 << 10) + b"\x00" * 1024)
    check(closed_by_server(s, 5), "an oversize election frame did not close the link")
    m.wait_log(offsets[m.sid], rf"election link of sid {free_sid} .*frame of {600 << 10} bytes, more than 524288")
    notes.append("600 KiB election frame: closed")
    s = peer_conn(leader.qport, hello(free_sid, QUORUM))
    check(recv_frame(s, 5) is not None, "no hello back on the quorum port")
    s.sendall(zw.frame(struct.pack(">i", 1) + b"garbage"))
    check(closed_by_server(s, 5), "a malformed Zab message did not drop the link")
    leader.wait_log(offsets[leader.sid], rf"malformed Zab message from server {free_sid}; dropping")
    notes.append("malformed Zab: dropped")
    s = peer_conn(leader.qport, hello(free_sid, QUORUM))
    check(recv_frame(s, 5) is not None, "no hello back on the quorum port")
    s.sendall(zw.frame(struct.pack(">i", 4) + struct.pack(">i", 1 << 20)))   # TOUCH of a million ids
    check(closed_by_server(s, 5), "a truncated TOUCH did not drop the link")
    notes.append("truncated TOUCH: dropped")
    s = peer_conn(leader.qport, hello(free_sid, QUORUM))
    check(recv_frame(s, 5) is not None, "no hello back on the quorum port")
    s.sendall(struct.pack(">I", (3 << 20) + 0xfffff) + b"\x00" * 4096)
    check(closed_by_server(s, 5), "an oversize quorum frame did not close the link")
    leader.wait_log(offsets[leader.sid], rf"quorum link of sid {free_sid} .*frame of \d+ bytes, more than")
    notes.append("4 MiB quorum frame from a learner: closed")
    modes = {x.sid: x.mode() for x in suite.members}
    check(list(modes.values()).count("leader") == 1, f"the ensemble changed: {modes}")
    return "; ".join(notes)


def attack_peer_duplicate_process(suite, offsets, dup_cfg, zkserver):
    """A second zkserver process with myid of a running member (its own
    ports, the others' addresses): every link it dials is refused as a
    duplicate; it cannot join or disturb the ensemble."""
    import subprocess
    leader = suite.target
    epoch = leader.zxid() >> 32
    dup_log = dup_cfg + ".log"
    with open(dup_log, "w") as out:
        p = subprocess.Popen([zkserver, dup_cfg], stdout=out, stderr=subprocess.STDOUT)
    try:
        time.sleep(1.5 if suite.short else 3.0)
        hits = [m.sid for m in suite.members
                if re.search(r"which is already connected from .*two servers with the same myid",
                             m.log_since(offsets[m.sid]))]
        check(hits, "no member refused the duplicate's links")
        check(p.poll() is None, f"the duplicate exited early: {open(dup_log).read()[-500:]}")
        modes = {m.sid: m.mode() for m in suite.members}
        check(list(modes.values()).count("leader") == 1, f"the ensemble changed: {modes}")
        check(leader.zxid() >> 32 == epoch, "a new epoch began (an election happened)")
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
    return f"refused by members {hits}; modes {modes}; epoch {epoch} kept"


# --------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["client", "peer"])
    ap.add_argument("--member", action="append", required=True)
    ap.add_argument("--target", type=int, required=True)
    ap.add_argument("--only", default="")
    ap.add_argument("--short", action="store_true")
    ap.add_argument("--max-cnxns", type=int, default=300)
    ap.add_argument("--max-watches", type=int, default=100000)
    ap.add_argument("--outstanding-limit", type=int, default=200)
    ap.add_argument("--free-sid", type=int, default=4)
    ap.add_argument("--dup-cfg", default="")
    ap.add_argument("--zkserver", default="")
    a = ap.parse_args()
    members = [Member(spec) for spec in a.member]
    suite = Suite(members, a.target, a.short)
    if a.kind == "client":
        attacks = [
            ("noread", lambda o: attack_noread(suite, o)),
            ("output-limit", lambda o: attack_output_limit(suite, o)),
            ("write-flood", lambda o: attack_write_flood(suite, o, a.outstanding_limit)),
            ("slowloris", lambda o: attack_slowloris(suite, o)),
            ("many-connections", lambda o: attack_many_connections(suite, o, a.max_cnxns)),
            ("emfile", lambda o: attack_emfile(suite, o)),
            ("big-requests", lambda o: attack_big_requests(suite, o, a.max_watches)),
            ("watches", lambda o: attack_watches(suite, o, a.max_watches)),
            ("auth-flood", lambda o: attack_auth_flood(suite, o)),
        ]
    else:
        attacks = [
            ("peer-garbage", lambda o: attack_peer_garbage(suite, o)),
            ("peer-half-open", lambda o: attack_peer_half_open(suite, o)),
            ("peer-sids", lambda o: attack_peer_sids(suite, o, a.free_sid)),
            ("peer-impostor", lambda o: attack_peer_impostor(suite, o, a.free_sid)),
            ("peer-duplicate-process",
             lambda o: attack_peer_duplicate_process(suite, o, a.dup_cfg, a.zkserver)),
        ]
    only = set(filter(None, a.only.split(",")))
    for name, fn in attacks:
        if not only or name in only:
            suite.run(name, fn)
    try:
        suite.finish()
    except Failure as e:
        print(f"FAIL after the attacks: {e}", flush=True)
        return 1
    if suite.failed:
        print("FAIL: see the attack lines above", flush=True)
        return 1
    print(f"attack suite ({a.kind}): all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
