#!/usr/bin/python3
"""metrics_check.py — checks zkserver's Prometheus /metrics endpoint
(server/metrics.c) for test_metrics.sh.

Every scrape is parsed with the Prometheus project's own parser
(prometheus_client.parser.text_string_to_metric_families, Debian package
python3-prometheus-client) and checked line by line against the text
format simpleclient 0.9.0 writes (what Apache 3.8 serves).  The families,
types, labels and HELP texts are compared with the vector
test/vectors/metrics/apache-3.8-metrics.tsv for the role the server is in.

  metrics_check.py standalone CLIENT_PORT METRICS_PORT VECTOR
      vector check; values that move: num_alive_connections with a kazoo
      session, znode_count +10 after 10 creates, updatelatency/fsynctime
      counts, readlatency, watch_count +1 with a data watch, bytes and
      response counters; then hostile HTTP (huge URL, header flood,
      garbage, half-open connections, other paths and methods) and the
      endpoint still answers.
  metrics_check.py looking VECTOR METRICS_PORT
      a member without a quorum: the ServerMetrics families only (Apache
      registers the server gauges when its ZooKeeperServer starts).
  metrics_check.py ensemble VECTOR CPORT:MPORT CPORT:MPORT ...
      every member's role-specific families (leader / follower gauges,
      quorum_size), and after 10 creates through a follower: znode_count
      +10 on every member, commit_count/proposal_count on the leader,
      learner_*_received_count on the followers, election_time,
      looking_count and follower_sync_time.

Every wait is bounded (a deadline, never a fixed sleep asserted on); no
assertion depends on how long anything took.  Exit status 0 when every
check passed.
"""
import math
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from kazoo.client import KazooClient
from prometheus_client.parser import text_string_to_metric_families

from http_util import wait_no_close_wait

failures = []


def check(cond, what):
    if cond:
        print("ok:", what)
    else:
        print("FAIL:", what)
        failures.append(what)


def fetch(mport, query="", timeout=10):
    url = "http://127.0.0.1:%d/metrics%s" % (mport, query)
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode("utf-8")


# One sample line of simpleclient 0.9.0's TextFormat.write004.
SAMPLE_RE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",)+\})? '
                       r'(NaN|\+Inf|-Inf|-?[0-9]+\.[0-9]+(E-?[0-9]+)?)$')


def parse(text):
    """{family name: Family} via the real parser, after a line check."""
    for line in text.split("\n"):
        if line == "":
            continue
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        if not SAMPLE_RE.match(line):
            raise ValueError("line not in simpleclient 0.9.0's format: %r" % line)
    fams = {}
    for f in text_string_to_metric_families(text):
        fams[f.name] = f
    return fams


def scrape(mport):
    status, ctype, text = fetch(mport)
    if status != 200 or ctype != "text/plain; version=0.0.4; charset=utf-8":
        raise ValueError("status %s content type %r" % (status, ctype))
    return text, parse(text)


def pname(name, typ):
    """The family name the Python parser reports: it drops a counter's _total."""
    if typ == "counter" and name.endswith("_total"):
        return name[: -len("_total")]
    return name


def load_vector(path):
    rows = []
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        cols = line.rstrip("\n").split("\t")
        rows.append({"name": cols[0], "type": cols[1], "labels": cols[2], "source": cols[3],
                     "when": cols[4].split(","), "status": cols[5],
                     "note": cols[6] if len(cols) > 6 else ""})
    return rows


def applies(row, role):
    """Is the family registered for a server in role (standalone, leader, follower)?"""
    for w in row["when"]:
        if w in ("always", "exportJvmInfo"):
            return True
        if w == "serving" and role != "looking":
            return True
        if w == role:
            return True
        if w == "ensemble" and role in ("leader", "follower"):
            return True
    return False


def check_vector(fams, text, rows, role, who):
    bad = []
    for row in rows:
        name, typ = row["name"], row["type"]
        f = fams.get(pname(name, typ))
        present = f is not None and ("# TYPE %s " % name) in text
        if row["status"] == "omitted" or not applies(row, role):
            if present:
                bad.append("%s present (status %s, role %s)" % (name, row["status"], role))
            continue
        if not present:
            bad.append("%s missing" % name)
            continue
        if f.type != typ:
            bad.append("%s has type %s, want %s" % (name, f.type, typ))
        help_want = row["note"][len("HELP: "):] if row["note"].startswith("HELP: ") else name
        if f.documentation != help_want:
            bad.append("%s has HELP %r, want %r" % (name, f.documentation, help_want))
        labels = row["labels"]
        keyed = labels.startswith("key")
        for s in f.samples:
            if keyed and "key" not in s.labels:
                bad.append("%s sample without key label: %s" % (name, s))
            if not keyed and "key" in s.labels:
                bad.append("%s sample with a key label: %s" % (name, s))
        if typ == "summary":
            want_q = labels.split("quantile=")[1].split(",")
            got_q = sorted({s.labels["quantile"] for s in f.samples if "quantile" in s.labels}, key=float)
            if not keyed or f.samples:
                if got_q != want_q:
                    bad.append("%s quantiles %s, want %s" % (name, got_q, want_q))
            names = {s.name for s in f.samples}
            if not keyed and not {name, name + "_count", name + "_sum"} <= names:
                bad.append("%s lacks a quantile/_count/_sum sample: %s" % (name, sorted(names)))
    for b in bad:
        print("   ", who, b)
    check(not bad, "%s (%s): every family of the vector with Apache's name, type, labels and HELP" % (who, role))


def value(fams, name, suffix="", labels=None):
    f = fams.get(name)
    if f is None:
        return None
    # the parser reports a counter's sample as <name>_total
    want = (name + suffix, name + "_total") if f.type == "counter" else (name + suffix,)
    for s in f.samples:
        if s.name in want and (labels is None or s.labels == labels):
            return s.value
    return None


def wait_for(mport, pred, what, limit=60):
    """Scrapes until pred(fams) holds (bounded); returns the last families."""
    deadline = time.time() + limit
    fams = None
    while True:
        _, fams = scrape(mport)
        if pred(fams):
            check(True, what)
            return fams
        if time.time() > deadline:
            check(False, what + " (within %d s)" % limit)
            return fams
        time.sleep(0.2)


def raw_http(mport, data, timeout=5):
    """Sends data on a fresh connection; returns the reply's head (what came
    back until the end of the headers, the close, or timeout s)."""
    s = socket.create_connection(("127.0.0.1", mport), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except OSError:
            pass
        out = b""
        try:
            while len(out) < 65536 and b"\r\n\r\n" not in out:
                b = s.recv(4096)
                if not b:
                    break
                out += b
        except OSError:
            pass
        return out
    finally:
        s.close()


def status_of(mport, path, method="GET"):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (mport, path), method=method,
                                 data=b"x=1" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def hostile(mport):
    # libmicrohttpd answers an over-long request head only after a few
    # seconds: both run at once
    heads = {}
    big = {"url": b"GET /metrics" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
           "header": b"GET /metrics HTTP/1.1\r\n" + b"X-A: " + b"b" * 60000 + b"\r\n\r\n"}
    threads = [threading.Thread(target=lambda k=k: heads.__setitem__(k, raw_http(mport, big[k], timeout=20)))
               for k in big]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    st = heads.get("url", b"")
    check(st == b"" or st.startswith(b"HTTP/1.1 414"), "a 100 KB URL is refused (%r)" % st[:40])
    st = heads.get("header", b"")
    check(st == b"" or st.startswith(b"HTTP/1.1 4"), "a 60 KB header is refused (%r)" % st[:40])
    st = raw_http(mport, b"GET /metrics/" + b"a" * 600 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    check(st.startswith(b"HTTP/1.1 414"), "a path over 512 bytes is 414 (%r)" % st[:40])
    raw_http(mport, bytes(range(256)) * 64, timeout=1)
    raw_http(mport, b"\r\n\r\n\x00\x00GARBAGE / HTTP/9.9\r\n\r\n", timeout=1)
    check(status_of(mport, "/metrics/../../etc/passwd") in (400, 404), "a path outside /metrics is not served")
    check(status_of(mport, "/") == 404, "/ is 404")
    check(status_of(mport, "/metrics", "DELETE") == 405, "DELETE /metrics is 405")
    check(status_of(mport, "/metrics", "POST") == 200, "POST /metrics is served as GET (MetricsServlet.doPost)")
    check(status_of(mport, "/metrics?" + "&".join("name[]=x%d" % i for i in range(40))) == 200,
          "many name[] filters")
    # half-open connections: opened, never finished
    socks = []
    for _ in range(20):
        try:
            s = socket.create_connection(("127.0.0.1", mport), timeout=5)
            s.sendall(b"GET /metr")
            socks.append(s)
        except OSError:
            break
    _, fams = scrape(mport)
    check("znode_count" in fams, "a scrape works while 20 half-open requests wait")
    for s in socks:
        s.close()
    # their peers closed: reaped at once, not at the 30 s idle timeout
    left = wait_no_close_wait(mport)
    check(left == 0, "%d metrics connections left in CLOSE-WAIT after hostile HTTP" % left)


def four_letter(cport, word):
    s = socket.create_connection(("127.0.0.1", cport), timeout=10)
    try:
        s.sendall(word.encode())
        out = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
        return out.decode()
    finally:
        s.close()


def check_mntr(cport, mport):
    """With the Prometheus provider Apache's mntr prints its head values,
    then one zk_<sample>\t<double> line per sample of the provider."""
    text = four_letter(cport, "mntr")
    lines = text.rstrip("\n").split("\n")
    check(lines[0].startswith("zk_version\t") and lines[1] == "zk_server_state\tstandalone",
          "mntr: zk_version and zk_server_state first")
    line_re = re.compile(r'^zk_[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})?\t'
                         r'(NaN|-?[0-9]+\.[0-9]+(E-?[0-9]+)?)$')
    bad = [l for l in lines[2:] if not line_re.match(l)]
    check(not bad, "mntr: every other line is a provider sample (%s)" % bad[:3])
    _, _, mtext = fetch(mport)
    samples = {l.split(" ")[0].replace(",}", "}") for l in mtext.split("\n") if l and not l.startswith("#")}
    keys = {l.split("\t")[0][3:] for l in lines[2:]}
    check(keys == samples, "mntr: the same samples as /metrics (%s)" % sorted(keys ^ samples)[:5])
    check(re.search(r"\nzk_znode_count\t[0-9]+\.0\n", text) is not None, "mntr: zk_znode_count as a double")


def session_then_vanish(cport):
    """Opens a 4 s session with a raw ConnectRequest and drops the socket
    without closing the session: the server expires it later."""
    payload = struct.pack(">iqiqi16s?", 0, 0, 4000, 0, 16, b"\0" * 16, False)
    s = socket.create_connection(("127.0.0.1", cport), timeout=10)
    try:
        s.sendall(struct.pack(">i", len(payload)) + payload)
        s.recv(64)
    finally:
        s.close()


def quota(cport, mport):
    """enforceQuota=true: a count hard limit of 2 on /qz; the creates past it
    are refused (-125) and counted in quota_exceeded_error_per_namespace.
    Through quota_ops.py (raw protocol): kazoo 2.8 dies on the code -125."""
    ops = ["c:/qz:ab", "c:/zookeeper/quota/qz", "c:/zookeeper/quota/qz/zookeeper_limits:count=-1,bytes=-1,countHardLimit=2",
           "c:/zookeeper/quota/qz/zookeeper_stats:count=0,bytes=0"] + ["c:/qz/c%d:x" % i for i in range(5)]
    out = subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "quota_ops.py"),
                          "127.0.0.1:%d" % cport] + ops, capture_output=True, text=True, timeout=60).stdout
    refused = out.count("-> -125")
    check(refused >= 1, "quota: creates past the hard limit refused (%d)" % refused)
    f = wait_for(mport, lambda f: value(f, "quota_exceeded_error_per_namespace", "", {"key": "qz"}) == refused,
                 "quota_exceeded_error_per_namespace{key=qz} counts the refusals")
    check(value(f, "quota_count_limit_per_namespace", "", {"key": "qz"}) == 2.0, "quota_count_limit_per_namespace{key=qz} 2")
    check(value(f, "quota_bytes_limit_per_namespace", "", {"key": "qz"}) == -1.0, "quota_bytes_limit_per_namespace{key=qz} -1")
    check((value(f, "quota_count_usage_per_namespace", "", {"key": "qz"}) or 0) >= 1, "quota_count_usage_per_namespace{key=qz} counts")


def standalone(cport, mport, vector):
    rows = load_vector(vector)
    session_then_vanish(cport)   # checked at the end: stale_sessions_expired
    text, fams = scrape(mport)
    check_vector(fams, text, rows, "standalone", "standalone")
    check(all(not line.startswith("jvm_") for line in text.split("\n")), "no jvm_* family")
    check(value(fams, "dbinittime", "_count") == 1.0, "dbinittime observed once at start")
    check(math.isnan(value(fams, "election_time", "", {"quantile": "0.5"})),
          "an empty summary's quantile is NaN (as the Java client)")
    # filter: name[] (MetricsServlet's)
    _, _, ftext = fetch(mport, "?name[]=znode_count&name[]=readlatency")
    ff = parse(ftext)
    check(sorted(ff) == ["readlatency", "znode_count"], "name[] keeps only the named families: %s" % sorted(ff))

    base = fams
    zk = KazooClient(hosts="127.0.0.1:%d" % cport, timeout=15)
    zk.start(timeout=30)
    try:
        wait_for(mport, lambda f: value(f, "num_alive_connections") >= 1, "num_alive_connections >= 1 with a session")
        for i in range(10):
            zk.create("/metrics-n%d" % i, b"x")
        zk.get("/metrics-n0", watch=lambda e: None)
        zk.exists("/metrics-n1")
        after = wait_for(mport, lambda f: value(f, "znode_count") == value(base, "znode_count") + 10,
                         "znode_count +10 after 10 creates")
        check(value(after, "updatelatency", "_count") >= value(base, "updatelatency", "_count") + 10,
              "updatelatency_count +10 or more")
        check(value(after, "fsynctime", "_count") >= 1, "fsynctime observed")
        check(value(after, "propagation_latency", "_count") >= value(base, "propagation_latency", "_count") + 10,
              "propagation_latency_count +10 or more")
        check(value(after, "readlatency", "_count") >= 2, "readlatency counts reads")
        q = {value(after, "updatelatency", "", {"quantile": x}) for x in ("0.5", "0.9", "0.99")}
        check(all(not math.isnan(v) and v >= 0 for v in q), "updatelatency quantiles are numbers now")
        check(value(after, "watch_count") == value(base, "watch_count") + 1, "watch_count +1 with a data watch")
        check(value(after, "bytes_received_count") > value(base, "bytes_received_count"), "bytes_received_count moves")
        check(value(after, "response_bytes") > value(base, "response_bytes"), "response_bytes moves")
        check(value(after, "outstanding_changes_queued") >= value(base, "outstanding_changes_queued") + 10,
              "outstanding_changes_queued +10 or more")
        check(value(after, "outstanding_changes_removed") >= value(base, "outstanding_changes_removed") + 10,
              "outstanding_changes_removed +10 or more")
        check(value(after, "packets_received") >= 12, "packets_received counts the requests")
        check(value(after, "write_per_namespace", "_count", {"key": "metrics-n3"}) == 1.0,
              "write_per_namespace{key=metrics-n3} counts its create")
        check(value(after, "read_per_namespace", "_count", {"key": "metrics-n0"}) == 1.0,
              "read_per_namespace{key=metrics-n0} counts its getData")
        zk.set("/metrics-n0", b"y")
        wait_for(mport, lambda f: value(f, "watch_bytes") > 0 and value(f, "watch_count") == value(base, "watch_count")
                 and value(f, "node_changed_watch_count", "_count") == value(base, "node_changed_watch_count", "_count") + 1,
                 "the watch fired: watch_bytes > 0, watch_count back, node_changed_watch_count +1")
        check(value(after, "connection_request_count") >= value(base, "connection_request_count") + 1,
              "connection_request_count counts the session's ConnectRequest")
        zk.create("/metrics-eph", b"", ephemeral=True)
        wait_for(mport, lambda f: value(f, "ephemerals_count") == value(base, "ephemerals_count") + 1,
                 "ephemerals_count +1")
    finally:
        zk.stop()
        zk.close()
    wait_for(mport, lambda f: value(f, "num_alive_connections") == 0, "num_alive_connections back to 0")
    check_mntr(cport, mport)
    quota(cport, mport)
    hostile(mport)
    wait_for(mport, lambda f: value(f, "stale_sessions_expired") >= 1,
             "stale_sessions_expired counts the abandoned session's expiry")
    text, fams = scrape(mport)
    check_vector(fams, text, rows, "standalone", "standalone after hostile HTTP")


def srvr_mode(cport):
    try:
        s = socket.create_connection(("127.0.0.1", cport), timeout=5)
        s.sendall(b"srvr")
        out = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            out += b
        s.close()
        m = re.search(rb"Mode: (\w+)", out)
        return m.group(1).decode() if m else None
    except OSError:
        return None


def ensemble(vector, members):
    rows = load_vector(vector)
    roles = {}
    deadline = time.time() + 60
    while time.time() < deadline:
        roles = {m: srvr_mode(m[0]) for m in members}
        if sorted(roles.values()) == ["follower", "follower", "leader"]:
            break
        time.sleep(0.2)
    check(sorted(roles.values()) == ["follower", "follower", "leader"], "one leader, two followers: %s" % roles)
    leader = [m for m in members if roles[m] == "leader"]
    followers = [m for m in members if roles[m] == "follower"]
    if not leader or len(followers) != 2:
        return
    leader = leader[0]
    base = {}
    for m in members:
        text, fams = scrape(m[1])
        check_vector(fams, text, rows, roles[m], "member %d" % m[0])
        base[m] = fams
    lf = base[leader]
    wait_for(leader[1], lambda f: value(f, "learners") == 2 and value(f, "synced_followers") == 2,
             "leader: learners 2, synced_followers 2")
    check(value(lf, "quorum_size") == 3, "leader: quorum_size 3")
    check(value(lf, "election_time", "_count") >= 1, "leader: election_time observed")
    check(value(lf, "unavailable_time", "_count") >= 1 and value(lf, "leader_unavailable_time", "_count") >= 1,
          "leader: unavailable_time and leader_unavailable_time observed")
    check(value(lf, "looking_count") >= 1, "leader: looking_count >= 1")
    check(value(lf, "diff_count") + value(lf, "snap_count") >= 2, "leader: a DIFF or SNAP per learner")
    for f in followers:
        wait_for(f[1], lambda x: value(x, "follower_sync_time", "_count") >= 1, "follower %d: follower_sync_time observed" % f[0])
        check(value(base[f], "election_time", "_count") >= 1, "follower %d: election_time observed" % f[0])
        check(value(base[f], "quorum_size") == 3, "follower %d: quorum_size 3" % f[0])
        check(value(base[f], "unavailable_time", "_count") >= 1, "follower %d: unavailable_time observed" % f[0])
    zk = KazooClient(hosts="127.0.0.1:%d" % followers[0][0], timeout=15)
    zk.start(timeout=30)
    try:
        for i in range(10):
            zk.create("/metrics-e%d" % i, b"x")
    finally:
        zk.stop()
        zk.close()
    for m in members:
        wait_for(m[1], lambda f, m=m: value(f, "znode_count") == value(base[m], "znode_count") + 10,
                 "member %d: znode_count +10" % m[0])
    for m in members:
        _, mf = scrape(m[1])
        check(value(mf, "propagation_latency", "_count") >= value(base[m], "propagation_latency", "_count") + 10,
              "member %d: propagation_latency_count +10 or more" % m[0])
    _, lf2 = scrape(leader[1])
    check(value(lf2, "commit_count") >= value(lf, "commit_count") + 10, "leader: commit_count +10 or more")
    check(value(lf2, "proposal_count") >= value(lf, "proposal_count") + 10, "leader: proposal_count +10 or more")
    check(value(lf2, "fsynctime", "_count") > value(lf, "fsynctime", "_count"), "leader: fsynctime observed")
    for f in followers:
        _, ff = scrape(f[1])
        check(value(ff, "learner_proposal_received_count") >= value(base[f], "learner_proposal_received_count") + 10,
              "follower %d: learner_proposal_received_count +10 or more" % f[0])
        check(value(ff, "learner_commit_received_count") > value(base[f], "learner_commit_received_count"),
              "follower %d: learner_commit_received_count moves" % f[0])


def looking(vector, mport):
    """A member without a quorum: ServerMetrics only, no server gauges."""
    rows = load_vector(vector)
    text, fams = scrape(mport)
    check_vector(fams, text, rows, "looking", "lone member")
    check(value(fams, "looking_count") >= 1, "lone member: looking_count >= 1")
    check(value(fams, "election_time", "_count") == 0, "lone member: no election_time yet")


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "standalone":
        standalone(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == "looking":
        looking(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) >= 4 and sys.argv[1] == "ensemble":
        members = [tuple(int(x) for x in a.split(":")) for a in sys.argv[3:]]
        ensemble(sys.argv[2], members)
    else:
        print(__doc__)
        return 2
    print("metrics_check: %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
