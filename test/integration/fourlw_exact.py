#!/usr/bin/python3
"""fourlw_exact.py - checks every four-letter word of a running server
against the Apache ZooKeeper 3.8 captures in test/vectors/fourlw/.

Run by test_fourlw_exact.sh (which starts and stops the server):

  fourlw_exact.py full PORT VECTORS_DIR       server with 4lw.commands.whitelist=*
  fourlw_exact.py defaultwl PORT VECTORS_DIR  server with the default whitelist

"full" repeats the workload of test/vectors/fourlw/capture.py (a kazoo
session creates /app, /app/conf and the ephemeral /app/eph, sets data
watches on /app, /app/conf and /missing and a child watch on /app), then
fetches every word and compares it with the capture of the same name: the
same lines in the same order with the same keys and labels, after the
normalisation of docs/fourlw-formats.md section 13 (versions, remote
addresses, session ids, counters, times, paths, sizes become placeholders;
blocks whose order is a Java hash order are compared as sets).  Values the
workload determines (Zxid, Node count, Connections, wchs counts, mntr
gauges such as zk_znode_count) are compared exactly.

Prints one "ok: ..." or "FAIL: ..." line per check and, last,
"COUNTS <passed> <failed>".  Every socket operation has a timeout.
"""
import os
import re
import socket
import sys
import time

PASSED = 0
FAILED = 0


def ok(name):
    global PASSED
    PASSED += 1
    print("ok: " + name, flush=True)


def fail(name, detail):
    global FAILED
    FAILED += 1
    print("FAIL: %s: %s" % (name, detail), flush=True)


def check(name, cond, detail=""):
    if cond:
        ok(name)
    else:
        fail(name, detail)


def send_word(port, word, timeout=5.0):
    """Sends word on a fresh connection and returns every byte until EOF
    (b"" if the server closes without answering)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(word if isinstance(word, bytes) else word.encode())
        chunks = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks)
    finally:
        s.close()


def capture(vectors, name):
    with open(os.path.join(vectors, name + ".txt"), "rb") as f:
        return f.read()


# --- normalisation (docs/fourlw-formats.md section 13) ---

VERSION_RE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\S*, built on .+ UTC$")
DATE_RE = re.compile(r"[A-Z][a-z]{2} [A-Z][a-z]{2} [0-9]{2} [0-9:]{8} \S+ [0-9]{4}")
REMOTE_RE = re.compile(r"/[0-9a-f.:\[\]]+:[0-9]+")


def norm_common(line):
    """Placeholders that apply to every word."""
    line = VERSION_RE.sub("<VERSION>", line)
    line = DATE_RE.sub("<DATE>", line)
    line = REMOTE_RE.sub("<REMOTE>", line)
    return line


def norm_conn_line(line):
    """A stat/cons connection line: counters, ids and times become N."""
    line = norm_common(line)
    for key in ("recved", "sent", "est", "lresp", "llat", "minlat", "avglat", "maxlat"):
        line = re.sub(r"\b%s=[0-9]+" % key, key + "=N", line)
    line = re.sub(r"sid=0x[0-9a-f]+", "sid=0x<SID>", line)
    line = re.sub(r"lcxid=0x[0-9a-f]+", "lcxid=0x<CXID>", line)
    return line


def lines_of(data):
    """Splits on \\n keeping the information whether the text ended with one."""
    text = data.decode("utf-8", "replace")
    parts = text.split("\n")
    return parts  # the last element is "" when the text ends with \n


def show(data):
    return repr(data[:400])


def compare_lines(name, got, want, normalise):
    g = [normalise(x) for x in lines_of(got)]
    w = [normalise(x) for x in lines_of(want)]
    if g == w:
        ok(name)
        return
    for i in range(max(len(g), len(w))):
        a = g[i] if i < len(g) else "<missing>"
        b = w[i] if i < len(w) else "<missing>"
        if a != b:
            fail(name, "line %d: got %r, want %r (got %s)" % (i + 1, a, b, show(got)))
            return


# --- srvr / stat ---

def norm_stats_line(line):
    line = norm_common(line)
    line = re.sub(r"^Latency min/avg/max: [0-9]+/[0-9]+\.[0-9]+/[0-9]+$",
                  "Latency min/avg/max: N/N.N/N", line)
    line = re.sub(r"^(Received|Sent): [0-9]+$", r"\1: N", line)
    return line


def split_stat(data):
    """stat -> (head lines, client lines, tail lines)."""
    ls = lines_of(data)
    if "Clients:" not in ls:
        return ls, [], []
    i = ls.index("Clients:")
    try:
        j = ls.index("", i + 1)
    except ValueError:
        return ls, [], []
    return ls[:i + 1], ls[i + 1:j], ls[j:]


def check_stat(name, got, want):
    gh, gc, gt = split_stat(got)
    wh, wc, wt = split_stat(want)
    check(name + " head", [norm_stats_line(x) for x in gh] == [norm_stats_line(x) for x in wh],
          "got %r want %r" % (gh, wh))
    gcs = sorted(norm_conn_line(x) for x in gc)
    wcs = sorted(norm_conn_line(x) for x in wc)
    check(name + " client lines", gcs == wcs, "got %r want %r" % (gcs, wcs))
    check(name + " tail", [norm_stats_line(x) for x in gt] == [norm_stats_line(x) for x in wt],
          "got %r want %r" % (gt, wt))


LASTOP_RE = re.compile(r",lop=[A-Z]+,(est=[^,]*,to=[^,]*,)(lcxid=0x[0-9a-f]+,)?lzxid=0x[0-9a-f]+,")


def check_cons(name, got, want):
    g, w = lines_of(got), lines_of(want)
    if b"lop=PING" in got:
        # a kazoo ping came between the workload and this word: its last
        # operation, cxid and zxid are then those of the ping
        g = [LASTOP_RE.sub(r",<LASTOP>,\1", x) for x in g]
        w = [LASTOP_RE.sub(r",<LASTOP>,\1", x) for x in w]
    # connection lines, then "" (the blank line) and "" (after the final \n)
    check(name + " ends with a blank line", got.endswith(b")\n\n"), show(got))
    gcs = sorted(norm_conn_line(x) for x in g if x)
    wcs = sorted(norm_conn_line(x) for x in w if x)
    check(name + " lines", gcs == wcs, "got %r want %r" % (gcs, wcs))
    check(name + " line count", len(g) == len(w), "got %d want %d" % (len(g), len(w)))


# --- wchc / wchp ---

def blocks(data):
    """wchc/wchp -> ({header: frozenset(tab lines)}, ended with blank line)."""
    out = {}
    cur = None
    ls = lines_of(data)
    for x in ls[:-2]:
        if x.startswith("\t"):
            if cur is None:
                return None, False
            out[cur].add(x)
        else:
            cur = x
            out.setdefault(cur, set())
    return out, ls[-2:] == ["", ""]


def norm_sid(x):
    return re.sub(r"0x[0-9a-f]+", "0x<SID>", x)


def check_blocks(name, got, want, sid_in_header):
    gb, gend = blocks(got)
    wb, wend = blocks(want)
    check(name + " ends with a blank line", gend and wend, show(got))
    if gb is None:
        fail(name + " blocks", "tab line before a header: " + show(got))
        return
    def normed(b):
        return sorted((norm_sid(h) if sid_in_header else h,
                       tuple(sorted(norm_sid(x) for x in v))) for h, v in b.items())
    check(name + " blocks", normed(gb) == normed(wb), "got %r want %r" % (normed(gb), normed(wb)))


# --- dump ---

def parse_expiry_sets(ls, i, prefix):
    """Parses "<prefix>Sets (B)/(N):" and its buckets from ls[i]; returns
    (index after, bucket count, element count, list of members, problems)."""
    problems = []
    m = re.match(r"^%sSets \(([0-9]+)\)/\(([0-9]+)\):$" % re.escape(prefix), ls[i] if i < len(ls) else "")
    if not m:
        return i, 0, 0, [], ["expected %sSets line, got %r" % (prefix, ls[i] if i < len(ls) else None)]
    nb, ne = int(m.group(1)), int(m.group(2))
    i += 1
    members = []
    for _ in range(nb):
        bm = re.match(r"^([0-9]+) expire at (.*):$", ls[i] if i < len(ls) else "")
        if not bm or not DATE_RE.fullmatch(bm.group(2)):
            problems.append("bad bucket line %r" % (ls[i] if i < len(ls) else None))
            return i, nb, ne, members, problems
        i += 1
        for _ in range(int(bm.group(1))):
            x = ls[i] if i < len(ls) else ""
            if not x.startswith("\t"):
                problems.append("bad member line %r" % x)
            members.append(x)
            i += 1
    if len(members) != ne:
        problems.append("%d members, header says %d" % (len(members), ne))
    return i, nb, ne, members, problems


def parse_dump(data):
    ls = lines_of(data)
    r = {"problems": []}
    i = 0
    def expect(text):
        nonlocal i
        if i < len(ls) and ls[i] == text:
            i += 1
        else:
            r["problems"].append("expected %r at line %d, got %r" % (text, i + 1, ls[i] if i < len(ls) else None))
    expect("SessionTracker dump:")
    i, r["session_buckets"], r["sessions"], r["session_members"], p = parse_expiry_sets(ls, i, "Session ")
    r["problems"] += p
    expect("ephemeral nodes dump:")
    m = re.match(r"^Sessions with Ephemerals \(([0-9]+)\):$", ls[i] if i < len(ls) else "")
    eph = {}
    if m:
        i += 1
        cur = None
        while i < len(ls) and ls[i] != "Connections dump:":
            if re.fullmatch(r"0x[0-9a-f]+:", ls[i]):
                cur = ls[i]
                eph[cur] = set()
            elif ls[i].startswith("\t") and cur:
                eph[cur].add(ls[i])
            else:
                r["problems"].append("unexpected ephemerals line %r" % ls[i])
            i += 1
        if len(eph) != int(m.group(1)):
            r["problems"].append("ephemeral sessions %d, header says %s" % (len(eph), m.group(1)))
    else:
        r["problems"].append("no Sessions with Ephemerals line")
    r["ephemerals"] = sorted((norm_sid(k), tuple(sorted(v))) for k, v in eph.items())
    expect("Connections dump:")
    i, r["cnxn_buckets"], r["cnxns"], r["cnxn_members"], p = parse_expiry_sets(ls, i, "Connections ")
    r["problems"] += p
    if ls[i:] != [""]:
        r["problems"].append("trailing text %r" % ls[i:])
    return r


def check_dump(name, got, want):
    g, w = parse_dump(got), parse_dump(want)
    check(name + " capture parses", not w["problems"], w["problems"])
    check(name + " structure", not g["problems"], "%s; got %s" % (g["problems"], show(got)))
    check(name + " sessions", (g["session_buckets"], g["sessions"]) == (w["session_buckets"], w["sessions"]),
          "got %r want %r" % ((g["session_buckets"], g["sessions"]), (w["session_buckets"], w["sessions"])))
    gm = sorted(norm_sid(x) for x in g["session_members"])
    wm = sorted(norm_sid(x) for x in w["session_members"])
    check(name + " session lines", gm == wm, "got %r want %r" % (gm, wm))
    check(name + " ephemerals", g["ephemerals"] == w["ephemerals"],
          "got %r want %r" % (g["ephemerals"], w["ephemerals"]))
    # connections may fall into 1 or 2 ten-second buckets: compare the members
    check(name + " connections", g["cnxns"] == w["cnxns"], "got %r want %r" % (g["cnxns"], w["cnxns"]))
    def nc(x):
        return re.sub(r"sessionId: 0x[0-9a-f]+", lambda m: "sessionId: 0x0" if m.group(0).endswith(" 0x0")
                      else "sessionId: 0x<SID>", REMOTE_RE.sub("<REMOTE>", x))
    gm = sorted(nc(x) for x in g["cnxn_members"])
    wm = sorted(nc(x) for x in w["cnxn_members"])
    check(name + " connection lines", gm == wm, "got %r want %r" % (gm, wm))


# --- conf, envi, mntr, dirs ---

def norm_conf(line):
    line = re.sub(r"^(clientPort|dataDirSize|dataLogSize)=[0-9]+$", r"\1=N", line)
    line = re.sub(r"^(dataDir|dataLogDir)=/.*$", r"\1=<PATH>", line)
    return line


def norm_envi(line):
    m = re.match(r"^([a-z.]+)=(.*)$", line)
    if not m:
        return line
    key, value = m.groups()
    if key in ("os.name", "java.compiler"):
        return line
    if key.startswith("os.memory."):
        return key + ("=NMB" if re.fullmatch(r"[0-9]+MB", value) else "=" + value)
    return key + ("=<VALUE>" if value else "=")


def norm_dirs(line):
    return re.sub(r"^(datadir_size|logdir_size): [0-9]+$", r"\1: N", line)


def mntr_map(data):
    ls = lines_of(data)
    keys, values, bad = [], {}, []
    for x in ls[:-1]:
        m = re.fullmatch(r"(zk_[A-Za-z0-9_]+)\t(\S.*)", x)
        if not m:
            bad.append(x)
            continue
        keys.append(m.group(1))
        values[m.group(1)] = m.group(2)
    return keys, values, bad, ls[-1:] == [""]


def check_mntr(name, got, want):
    gk, gv, gbad, gend = mntr_map(got)
    wk, wv, _, _ = mntr_map(want)
    check(name + " line format", not gbad and gend, "bad lines %r" % gbad[:5])
    check(name + " head", gk[:2] == ["zk_version", "zk_server_state"]
          and VERSION_RE.fullmatch(gv.get("zk_version", "")) is not None
          and gv.get("zk_server_state") == "standalone", "got %r" % gk[:2])
    # the capture's keys minus the per-namespace summary sets (their keys
    # depend on the data: zk_*_app_read_per_namespace ...)
    want_keys = [k for k in wk if not k.endswith("_per_namespace")]
    got_keys = [k for k in gk if not k.endswith("_per_namespace")]
    missing = [k for k in want_keys if k not in gv]
    extra = [k for k in got_keys if k not in wv]
    check(name + " keys", not missing and not extra, "missing %r extra %r" % (missing[:10], extra[:10]))
    check(name + " key order", got_keys == want_keys, "first difference at %r" % next(
        ((a, b) for a, b in zip(got_keys, want_keys) if a != b), None))
    # number formats: the capture decides long vs double
    badfmt = []
    for k in want_keys:
        if k not in gv or k == "zk_version":
            continue
        if re.fullmatch(r"-?[0-9]+", wv[k]):
            if not re.fullmatch(r"-?[0-9]+", gv[k]):
                badfmt.append((k, gv[k]))
        elif re.fullmatch(r"-?[0-9]+\.[0-9]+", wv[k]):
            if not re.fullmatch(r"-?[0-9]+\.[0-9]+", gv[k]):
                badfmt.append((k, gv[k]))
        elif gv[k] != wv[k]:
            badfmt.append((k, gv[k]))
    check(name + " value formats", not badfmt, "%r" % badfmt[:10])
    # gauges the workload determines: same values as the capture
    exact = ["zk_ephemerals_count", "zk_num_alive_connections", "zk_outstanding_requests",
             "zk_znode_count", "zk_global_sessions", "zk_watch_count", "zk_local_sessions",
             "zk_approximate_data_size", "zk_connection_drop_probability"]
    diffs = [(k, gv.get(k), wv.get(k)) for k in exact if gv.get(k) != wv.get(k)]
    check(name + " workload gauges", not diffs, "(key, got, want) %r" % diffs)


# --- the runs ---

def workload(port):
    from kazoo.client import KazooClient
    zk = KazooClient(hosts="127.0.0.1:%d" % port, timeout=10)
    zk.start(timeout=15)
    zk.create("/app", b"hello")
    zk.create("/app/conf", b"port=80")
    zk.create("/app/eph", b"", ephemeral=True)
    zk.get("/app", watch=lambda e: None)           # data watch
    zk.get_children("/app", watch=lambda e: None)  # child watch
    zk.exists("/missing", watch=lambda e: None)    # exists watch
    zk.get("/app/conf", watch=lambda e: None)
    time.sleep(0.5)
    return zk


def run_full(port, vectors):
    zk = workload(port)
    try:
        sid = zk.client_id[0]
        got = {}
        for w in ("ruok", "srvr", "stat", "mntr", "conf", "cons", "wchs", "wchc", "wchp",
                  "dump", "envi", "isro", "dirs", "gtmk"):
            got[w] = send_word(port, w)
        for w in ("crst", "srst"):
            got[w] = send_word(port, w)
        got["cons-after-crst"] = send_word(port, "cons")
        got["srvr-after-srst"] = send_word(port, "srvr")
        got["unknown-word"] = send_word(port, "abcd")

        for w in ("ruok", "isro", "gtmk", "crst", "srst", "wchs", "unknown-word"):
            check(w + " exact", got[w] == capture(vectors, w),
                  "got %s want %s" % (show(got[w]), show(capture(vectors, w))))
        check("ruok/isro/gtmk have no newline",
              not any(got[w].endswith(b"\n") for w in ("ruok", "isro", "gtmk")), "")
        compare_lines("srvr", got["srvr"], capture(vectors, "srvr"), norm_stats_line)
        compare_lines("srvr-after-srst", got["srvr-after-srst"], capture(vectors, "srvr-after-srst"),
                      norm_stats_line)
        # srst zeroes the packet counters (a kazoo ping may add one or two)
        def received(data):
            m = re.search(rb"\nReceived: ([0-9]+)\n", data)
            return int(m.group(1)) if m else -1
        before, after = received(got["srvr"]), received(got["srvr-after-srst"])
        check("srst resets Received", 0 <= after < 5 and after < before,
              "Received %d before srst, %d after" % (before, after))
        check_stat("stat", got["stat"], capture(vectors, "stat"))
        check_cons("cons", got["cons"], capture(vectors, "cons"))
        check("cons shows our session",
              ("sid=0x%x," % sid).encode() in got["cons"], "sid 0x%x not in %s" % (sid, show(got["cons"])))
        check_cons("cons-after-crst", got["cons-after-crst"], capture(vectors, "cons-after-crst"))
        check_blocks("wchc", got["wchc"], capture(vectors, "wchc"), True)
        check("wchc names our session", got["wchc"].startswith(b"0x%x\n" % sid), show(got["wchc"]))
        check_blocks("wchp", got["wchp"], capture(vectors, "wchp"), False)
        # paths come in Java's HashMap<String>/HashSet<String> order, which
        # is deterministic for a given set of paths: same order as Apache
        for w in ("wchc", "wchp"):
            g = [norm_sid(x) for x in lines_of(got[w])]
            want = [norm_sid(x) for x in lines_of(capture(vectors, w))]
            check(w + " path order", g == want, "got %r want %r" % (g, want))
        check_dump("dump", got["dump"], capture(vectors, "dump"))
        check("dump names our session", (b"\t0x%x\n" % sid) in got["dump"], show(got["dump"]))
        compare_lines("conf", got["conf"], capture(vectors, "conf"), norm_conf)
        check("conf clientPort", ("clientPort=%d\n" % port).encode() in got["conf"], show(got["conf"]))
        compare_lines("envi", got["envi"], capture(vectors, "envi"), lambda x: norm_envi(norm_common(x)))
        check("envi os.version is uname -r",
              ("os.version=%s\n" % os.uname().release).encode() in got["envi"], show(got["envi"]))
        compare_lines("dirs", got["dirs"], capture(vectors, "dirs"), norm_dirs)
        check_mntr("mntr", got["mntr"], capture(vectors, "mntr"))

        # a client that half-closes right after the word still gets the reply
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            s.sendall(b"ruok")
            s.shutdown(socket.SHUT_WR)
            reply = b""
            deadline = time.time() + 5
            while time.time() < deadline:
                b = s.recv(4096)
                if not b:
                    break
                reply += b
        finally:
            s.close()
        check("half-closed ruok", reply == b"imok", show(reply))
    finally:
        zk.stop()
        zk.close()


def run_defaultwl(port, vectors):
    for w in ("ruok", "stat", "mntr"):
        got = send_word(port, w)
        check("default whitelist refuses " + w, got == capture(vectors, "defaultwl-" + w), show(got))
    got = send_word(port, "srvr")
    compare_lines("default whitelist srvr", got, capture(vectors, "defaultwl-srvr"), norm_stats_line)


def main():
    mode, port, vectors = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    try:
        if mode == "full":
            run_full(port, vectors)
        else:
            run_defaultwl(port, vectors)
    except Exception as e:  # a crash of the checker is a failure, not a hang
        fail("%s run" % mode, "%s: %s" % (type(e).__name__, e))
    print("COUNTS %d %d" % (PASSED, FAILED), flush=True)


if __name__ == "__main__":
    main()
