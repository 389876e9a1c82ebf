#!/usr/bin/python3
"""admin_check.py — checks a running server's AdminServer against the Apache
ZooKeeper 3.8 captures in test/vectors/admin/ (taken with the same workload
as below: /adm with data, an ephemeral /adm/eph, a data and a child watch
on /adm, all from one kazoo session).

For every command Apache lists at /commands: the JSON has the same key set
and value types as Apache's (recursively; lists compared by their first
element), and the same values where they are deterministic.  Then the
aliases, an unknown command, set_trace_mask's argument checks, and hostile
HTTP (huge URL and headers, other methods, bodies, garbage bytes, many
connections): the server must keep answering.

Usage: admin_check.py CLIENT_PORT ADMIN_PORT VECTOR_DIR
Prints "admin: N passed, N failed"; exit status 1 on any failure.
"""
import http.client
import json
import os
import socket
import sys
import time
import urllib.error
import urllib.request

from kazoo.client import KazooClient

from http_util import wait_no_close_wait

CLIENT_PORT, ADMIN_PORT, VECTORS = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
BASE = "http://127.0.0.1:%d/commands" % ADMIN_PORT
passed = failed = 0

# Keys whose presence depends on the JVM (environment, system_properties)
# or on what only Apache's metrics registry has (monitor): compared as
# "zkserver's keys are a subset of Apache's, same types".
SUBSET_ONLY = {"environment", "system_properties", "monitor"}
# monitor keys that zkserver must have (Grafana's ZooKeeper dashboards).
MONITOR_REQUIRED = [
    "version", "server_state", "znode_count", "watch_count", "ephemerals_count",
    "approximate_data_size", "num_alive_connections", "outstanding_requests",
    "avg_latency", "min_latency", "max_latency", "packets_sent", "packets_received",
    "open_file_descriptor_count", "max_file_descriptor_count", "uptime",
]


def ok(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)
    return cond


def get(name, query=""):
    with urllib.request.urlopen(BASE + "/" + name + query, timeout=10) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read()


def jtype(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if v is None:
        return "null"
    return type(v).__name__


def shape_diff(ours, theirs, path, subset):
    """Differences in keys and types between two JSON values."""
    out = []
    if jtype(ours) != jtype(theirs):
        # Apache's "error" is null on success, a string on failure
        return ["%s: type %s, Apache %s" % (path, jtype(ours), jtype(theirs))]
    if isinstance(ours, dict):
        # maps keyed by ids or paths: compare the values' shapes only
        keyed = path.endswith(("expiry_time_to_session_ids", "session_id_to_ephemeral_paths",
                               "session_id_to_watched_paths", "path_to_session_ids", "current_config"))
        if keyed:
            if ours and theirs:
                out += shape_diff(next(iter(ours.values())), next(iter(theirs.values())), path + "[*]", False)
            return out
        missing = set(theirs) - set(ours)
        extra = set(ours) - set(theirs)
        if missing and not subset:
            out.append("%s: missing keys %s" % (path, sorted(missing)))
        if extra:
            out.append("%s: extra keys %s" % (path, sorted(extra)))
        for k in set(ours) & set(theirs):
            out += shape_diff(ours[k], theirs[k], path + "." + k, False)
    elif isinstance(ours, list) and ours and theirs:
        out += shape_diff(ours[0], theirs[0], path + "[0]", False)
    return out


def vector(name):
    live = os.path.join(VECTORS, name + "_live.json")
    plain = os.path.join(VECTORS, name + ".json")
    with open(live if os.path.exists(live) else plain) as f:
        return json.load(f)


def main():
    zk = KazooClient(hosts="127.0.0.1:%d" % CLIENT_PORT, timeout=10)
    zk.start(timeout=15)
    try:
        zk.create("/adm", b"hello")
        zk.create("/adm/eph", b"x", ephemeral=True)
        zk.get("/adm", watch=lambda e: None)
        zk.get_children("/adm", watch=lambda e: None)
        sid = zk.client_id[0]
        run_checks(sid)
    finally:
        zk.stop()
        zk.close()
    print("admin: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def run_checks(sid):
    with open(os.path.join(VECTORS, "commands.txt")) as f:
        names = [l.strip() for l in f if l.strip()]
    # the command list page
    st, ctype, body = get("")
    listed = [l.split('">')[1].split("<")[0] for l in body.decode().splitlines() if l.startswith("<a href")]
    ok(listed == names, "/commands lists %s, Apache %s" % (listed, names))

    docs = {}
    for name in names:
        try:
            st, ctype, body = get(name)
        except urllib.error.URLError as e:
            ok(False, "%s: %s" % (name, e))
            continue
        ok(st == 200 and ctype.startswith("application/json"), "%s: status %s type %s" % (name, st, ctype))
        try:
            doc = json.loads(body)
        except ValueError as e:
            ok(False, "%s: not JSON (%s): %r" % (name, e, body[:200]))
            continue
        docs[name] = doc
        diffs = shape_diff(doc, vector(name), name, name in SUBSET_ONLY)
        ok(not diffs, "%s: %s" % (name, "; ".join(diffs)))
        ok(doc.get("command") == name, "%s: command field %r" % (name, doc.get("command")))

    # deterministic values (the workload above)
    ok(docs.get("ruok", {}).get("error", 1) is None, "ruok: error is not null")
    ok(docs.get("is_read_only", {}).get("read_only") is False, "is_read_only")
    ok(docs.get("get_trace_mask", {}).get("tracemask") == 306, "get_trace_mask 306")
    ok(docs.get("leader", {}).get("error") == "server is not initialized", "leader (standalone)")
    ok(docs.get("hash", {}).get("digests") == [], "hash")
    ok(docs.get("zabstate", {}) .get("zabstate") == "" and docs["zabstate"].get("voting") is False, "zabstate")
    ws = docs.get("watch_summary", {})
    ok((ws.get("num_connections"), ws.get("num_paths"), ws.get("num_total_watches")) == (1, 1, 1),
       "watch_summary %r" % ws)
    ok(docs.get("watches", {}).get("session_id_to_watched_paths") == {str(sid): ["/adm"]},
       "watches %r" % docs.get("watches"))
    ok(docs.get("watches_by_path", {}).get("path_to_session_ids") == {"/adm": [sid]},
       "watches_by_path %r" % docs.get("watches_by_path"))
    dump = docs.get("dump", {})
    ok(dump.get("session_id_to_ephemeral_paths") == {str(sid): ["/adm/eph"]}, "dump ephemerals %r" % dump)
    ok([sid] in dump.get("expiry_time_to_session_ids", {}).values(), "dump expiry %r" % dump)
    conns = docs.get("connections", {}).get("connections", [])
    ok(any(c.get("session_id") == sid for c in conns), "connections lists the session")
    conf = docs.get("configuration", {})
    ok(conf.get("client_port") == CLIENT_PORT and conf.get("tick_time") == 2000, "configuration %r" % conf)
    ok("admin.serverPort=%d" % ADMIN_PORT in docs.get("initial_configuration", {}).get("initial_configuration", ""),
       "initial_configuration has the file")
    mon = docs.get("monitor", {})
    for k in MONITOR_REQUIRED:
        ok(k in mon, "monitor has %s" % k)
    ok(mon.get("znode_count") == 7 and mon.get("ephemerals_count") == 1, "monitor counts %r" %
       {k: mon.get(k) for k in ("znode_count", "ephemerals_count")})
    env = docs.get("environment", {})
    ok(set(env) - {"command", "error"} == set(vector("environment")) - {"command", "error"},
       "environment keys as envi: %s" % sorted(set(env) ^ set(vector("environment"))))

    # aliases: the primary name in "command"
    for alias, primary in [("stat", "stats"), ("srvr", "server_stats"), ("mntr", "monitor"), ("conf", "configuration"),
                           ("cons", "connections"), ("wchs", "watch_summary"), ("gtmk", "get_trace_mask"),
                           ("isro", "is_read_only"), ("lsnp", "last_snapshot"), ("icfg", "initial_configuration")]:
        doc = json.loads(get(alias)[2])
        ok(doc.get("command") == primary, "alias %s -> %r" % (alias, doc.get("command")))
    # unknown command and set_trace_mask arguments, as Apache
    ok(json.loads(get("nosuch")[2]) == vector("unknown_command"), "unknown command")
    doc = json.loads(get("set_trace_mask")[2])
    ok(doc == vector("set_trace_mask"), "set_trace_mask without argument %r" % doc)
    doc = json.loads(get("set_trace_mask", "?traceMask=abc")[2])
    ok(doc == vector("stmk_bad_live"), "set_trace_mask bad argument %r" % doc)
    doc = json.loads(get("stmk", "?traceMask=306")[2])
    ok(doc == vector("set_trace_mask_arg"), "set_trace_mask 306 %r" % doc)
    doc = json.loads(get("stmk", "?traceMask=500")[2])
    ok(doc.get("tracemask") == 500 and json.loads(get("gtmk")[2]).get("tracemask") == 500, "stmk 500")
    get("stmk", "?traceMask=306")

    hostile()
    # the connection limits may refuse a request while the closed sockets
    # are being reaped: retry for a bounded time
    answered = None
    last = None
    deadline = time.monotonic() + 30
    while answered is None and time.monotonic() < deadline:
        try:
            answered = json.loads(get("ruok")[2])
        except (OSError, http.client.HTTPException) as e:   # URLError, resets, timeouts
            last = e
            time.sleep(0.2)
    ok(answered is not None and answered.get("error", 1) is None, "ruok after hostile HTTP (last error %r)" % last)
    # the closed peers are reaped at once, not at the idle timeout (60 s
    # in test_admin.sh): none is left in CLOSE-WAIT
    left = wait_no_close_wait(ADMIN_PORT)
    ok(left == 0, "%d admin connections left in CLOSE-WAIT after hostile HTTP" % left)


def raw(data, read=True):
    s = socket.create_connection(("127.0.0.1", ADMIN_PORT), timeout=10)
    try:
        try:
            s.sendall(data)
        except ConnectionError:
            return b""   # the server closed early: fine
        if not read:
            return b""
        out = b""
        while len(out) < 65536:
            try:
                b = s.recv(4096)
            except (socket.timeout, ConnectionError):
                break
            if not b:
                break
            out += b
        return out
    finally:
        s.close()


def status_of(resp):
    try:
        return int(resp.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def timed(fn):
    def wrap(*a):
        t = time.monotonic()
        r = fn(*a)
        if os.environ.get("ADMIN_TIMING"):
            print("raw %.2f s: %r" % (time.monotonic() - t, a[0][:30]))
        return r
    return wrap


raw = timed(raw)


def hostile():
    r = raw(b"GET /commands/" + b"a" * 40000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    ok(status_of(r) in (None, 414, 431), "40 kB URL: %r" % r[:40])
    r = raw(b"GET /commands/ruok HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 40000 + b"\r\n\r\n")
    ok(status_of(r) in (None, 413, 414, 431), "40 kB header: %r" % r[:40])
    r = raw(b"POST /commands/ruok HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
    ok(status_of(r) == 405, "POST: %r" % r[:40])
    r = raw(b"DELETE /commands/ruok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    ok(status_of(r) == 405, "DELETE: %r" % r[:40])
    r = raw(b"GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    ok(status_of(r) == 404, "other path: %r" % r[:40])
    r = raw(b"GET /commands/ruok?" + b"q=1&" * 2000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    ok(status_of(r) in (None, 200, 414, 431), "huge query: %r" % r[:40])
    r = raw(b"GET /commands/stmk?traceMask=" + b"9" * 300 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    ok(status_of(r) == 200 and b"requires long traceMask" in r, "long traceMask: %r" % r[:40])
    raw(bytes(range(256)) * 64, False)
    raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 500, False)   # a TLS hello
    r = raw(b"GET /commands/ruok HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\nabc")
    ok(status_of(r) in (None, 200, 400, 413), "GET with a huge declared body: %r" % r[:40])
    # many idle connections at once, then a normal request
    socks = []
    try:
        for _ in range(100):
            try:
                socks.append(socket.create_connection(("127.0.0.1", ADMIN_PORT), timeout=5))
            except OSError:
                break
        for s in socks[:20]:
            try:
                s.sendall(b"GET /comm")
            except OSError:
                pass
    finally:
        for s in socks:
            s.close()


if __name__ == "__main__":
    sys.exit(main())
