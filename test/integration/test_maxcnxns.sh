#!/usr/bin/env bash
# maxClientCnxns=3: a 4th concurrent connection from 127.0.0.1 is refused
# (closed without a ConnectResponse) while the first three keep working, and
# a slot freed by a close can be used again.
source "$(dirname "$0")/harness.sh"
start_server "" "$TEST_TMP/s1" "maxClientCnxns=3"
"$PY" - "$ZK_PORT" <<'PYEOF'
import socket, struct, sys, time
PORT = int(sys.argv[1])

def check(name, got, expected):
    if got != expected:
        print(f"FAIL {name}: expected {expected!r}, got {got!r}", flush=True)
        raise SystemExit(1)
    print(f"ok   {name}", flush=True)

def recv_frame(s):
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
            b = s.recv(n - len(out))
            if not b:
                return None
            out += b
        return out
    except (ConnectionResetError, socket.timeout):
        return None

def session():
    """Connect and handshake; the socket, or None if refused/closed."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    req = struct.pack(">iqiqi", 0, 0, 30000, 0, 16) + bytes(16) + b"\x00"
    try:
        s.sendall(struct.pack(">i", len(req)) + req)
    except (BrokenPipeError, ConnectionResetError):
        return None
    resp = recv_frame(s)
    if resp is None:
        s.close()
        return None
    return s

def exists_root(s, xid):
    body = struct.pack(">ii", xid, 3) + struct.pack(">i", 1) + b"/" + b"\x00"
    try:
        s.sendall(struct.pack(">i", len(body)) + body)
    except OSError:
        return None
    resp = recv_frame(s)
    return resp and struct.unpack(">iqi", resp[:16])[2]

conns = [session() for _ in range(3)]
check("three connections accepted", [c is not None for c in conns], [True] * 3)
fourth = session()
check("fourth connection refused", fourth, None)
for i, c in enumerate(conns):
    check(f"connection {i + 1} still works", exists_root(c, 10 + i), 0)
conns[0].close()
again = None
deadline = time.monotonic() + 10
while again is None and time.monotonic() < deadline:
    time.sleep(0.2)
    again = session()
check("a freed slot is usable again", again is not None, True)
check("it works", exists_root(again, 20), 0)
check("still no room for another", session(), None)
for c in conns[1:] + [again]:
    c.close()
print("maxcnxns: all checks passed", flush=True)
PYEOF
finish_server
log "all passed"
