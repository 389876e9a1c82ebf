#!/usr/bin/python3
"""watchers.py PORT N — N concurrent ZooKeeper sessions, each with a data
watch, for `make bench` (tools/bench/extras.py).  Speaks the client
protocol directly on raw non-blocking sockets (one thread, selectors), so
10,000 sessions cost 10,000 descriptors and no threads.

  1. creates /zkw (one session), then connects N sessions (at most 200
     handshakes at once) and has each call exists(/zkw, watch=true);
  2. prints READY {"sessions":N,"connect_s":..} and waits for a line on stdin;
  3. sets /zkw's data from session 0 and measures until every session got
     its NodeDataChanged event; prints RESULT {"fanout_ms":..,"events":..}
     and closes every session.
Pings every 5 s keep the 30 s sessions alive meanwhile.
"""
import json
import selectors
import socket
import struct
import sys
import time

PORT, N = int(sys.argv[1]), int(sys.argv[2])
OP_EXISTS, OP_SETDATA, OP_CREATE, OP_PING, OP_CLOSE = 3, 5, 1, 11, -11


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def ustr(s):
    b = s.encode()
    return struct.pack(">i", len(b)) + b


def connect_req():
    return frame(struct.pack(">iqiqi", 0, 0, 30000, 0, 16) + b"\0" * 16 + b"\0")


def request(xid, op, body=b""):
    return frame(struct.pack(">ii", xid, op) + body)


class Sess:
    def __init__(self, i):
        self.i, self.buf, self.out = i, b"", b""
        self.state = "connecting"       # -> handshake -> session -> watching
        self.sock = socket.socket()
        self.sock.setblocking(False)
        self.sock.connect_ex(("127.0.0.1", PORT))
        self.event_at = None
        self.replies = []

    def frames(self):
        while len(self.buf) >= 4:
            n = struct.unpack(">i", self.buf[:4])[0]
            if len(self.buf) < 4 + n:
                return
            f, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
            yield f


sel = selectors.DefaultSelector()
all_s, pending = [], 0
ACL_OPEN = struct.pack(">i", 1) + struct.pack(">i", 31) + ustr("world") + ustr("anyone")


def send(s, data):
    s.out += data
    sel.modify(s.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, s)


def on_frame(s, f):
    global pending
    if s.state == "handshake":
        s.state = "session"
        if s.i == 0:   # session 0 creates /zkw (node exists on a rerun: fine)
            send(s, request(1, OP_CREATE, ustr("/zkw") + struct.pack(">i", 1) + b"x" + ACL_OPEN + struct.pack(">i", 0)))
        send(s, request(2, OP_EXISTS, ustr("/zkw") + b"\1"))
        return
    xid, _zxid, err = struct.unpack(">iqi", f[:16])
    if xid == -1:
        s.event_at = time.monotonic()
    elif xid == 2:
        s.state = "watching"
        pending -= 1
    elif xid >= 3:
        s.replies.append(err)


def pump(timeout):
    for key, ev in sel.select(timeout):
        s = key.data
        if ev & selectors.EVENT_WRITE:
            if s.state == "connecting":
                s.state = "handshake"
                s.out = connect_req() + s.out
            try:
                k = s.sock.send(s.out)
                s.out = s.out[k:]
            except BlockingIOError:
                pass
            except OSError as e:
                sys.exit(f"watchers: session {s.i}: {e}")
            if not s.out:
                sel.modify(s.sock, selectors.EVENT_READ, s)
        if ev & selectors.EVENT_READ:
            try:
                data = s.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError as e:
                sys.exit(f"watchers: session {s.i}: {e}")
            if not data:
                sys.exit(f"watchers: session {s.i} closed by the server")
            s.buf += data
            for f in list(s.frames()):
                on_frame(s, f)


t0 = time.monotonic()
last_ping = t0
deadline = t0 + 600
started = 0
while started < N or pending > 0:
    # the first session alone first: it creates /zkw before anyone watches it
    while started < N and pending < 200 and (started == 0 or all_s[0].state == "watching"):
        s = Sess(started)
        sel.register(s.sock, selectors.EVENT_WRITE, s)
        all_s.append(s)
        started += 1
        pending += 1
    pump(0.05)
    if time.monotonic() > deadline:
        sys.exit(f"watchers: only {N - pending} of {N} sessions watching after 600 s")
    if time.monotonic() - last_ping > 5:
        for s in all_s:
            if s.state == "watching":
                send(s, request(-2, OP_PING))
        last_ping = time.monotonic()
print("READY " + json.dumps({"sessions": N, "connect_s": round(time.monotonic() - t0, 2)}), flush=True)

import threading  # noqa: E402
go = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), go.set()), daemon=True).start()
while not go.is_set():
    pump(0.1)
    if time.monotonic() - last_ping > 5:
        for s in all_s:
            send(s, request(-2, OP_PING))
        last_ping = time.monotonic()
t_set = time.monotonic()
send(all_s[0], request(3, OP_SETDATA, ustr("/zkw") + struct.pack(">i", 1) + b"y" + struct.pack(">i", -1)))
end = t_set + 120
while time.monotonic() < end and any(s.event_at is None for s in all_s):
    pump(0.05)
got = [s.event_at for s in all_s if s.event_at is not None]
lat = sorted((t - t_set) * 1000 for t in got)
print("RESULT " + json.dumps({"events": len(got), "fanout_ms": round(lat[-1], 1) if lat else None,
                              "fanout_p50_ms": round(lat[len(lat) // 2], 1) if lat else None}), flush=True)
for i, s in enumerate(all_s):
    try:
        s.sock.setblocking(True)
        s.sock.sendall(request(1000 + i, OP_CLOSE))
        s.sock.close()
    except OSError:
        pass
