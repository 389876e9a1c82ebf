"""extras.py — the measurements of `make bench` beside the throughput matrix:
the disk's fsync floor, 1,000,000 (and with BENCH_BIG=1 10,000,000) znodes
(RSS, data directory, restart to serving, snapshot time and its effect on
p99), failover after kill -9 of the leader, many sessions with watches, a
follower's catch-up by DIFF and SNAP (BENCH_CATCHUP=1) and the zkfs figures
of tools/bench/zkfs.sh.  Each function returns a JSON-able dict.
"""
import contextlib
import json
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time

from servers import PROCS, Deployment, dir_bytes, four_letter, mode_of, proc_cpu_ticks, rss_bytes, zxid_of
from measure import run_client

# BENCH_KINDS=zkserver (or apache) runs one system only: A/B runs of two zkserver
# builds (BENCH_ZKSERVER) need no Apache.
KINDS = [k for k in os.environ.get("BENCH_KINDS", "apache,zkserver").split(",") if k]


@contextlib.contextmanager
def running(ctx, kind, n, what):
    """A started deployment of kind with n members, stopped and removed on exit."""
    dep = Deployment(kind, n, ctx.tmp, ctx.repo)
    try:
        ctx.log(f"{what} on {kind}")
        dep.start()
        yield dep
    finally:
        dep.stop()
        shutil.rmtree(dep.root, ignore_errors=True)


class Context:
    def __init__(self, repo, out, tmp, logdir, quick, log):
        self.repo, self.out, self.tmp, self.logdir, self.quick, self.log = repo, out, tmp, logdir, quick, log

    def bin(self, name):
        return os.path.join(self.repo, "bin", name)

    def client_log(self):
        return os.path.join(self.logdir, "clients.log")


def dist(values):
    """median, p90, p99, max, mean of a list of numbers (None if empty)."""
    if not values:
        return None
    v = sorted(values)
    pick = lambda p: v[min(len(v) - 1, int(p * len(v)))]  # noqa: E731
    return {"n": len(v), "min": v[0], "p50": statistics.median(v), "p90": pick(0.9),
            "p99": pick(0.99), "max": v[-1], "mean": round(statistics.mean(v), 1)}


def fsync_floor(ctx):
    ctx.log("fsync floor: 4 KiB append + fdatasync")
    out = subprocess.run([ctx.bin("fsyncfloor"), ctx.tmp, "1" if ctx.quick else "2"],
                         capture_output=True, text=True, timeout=300)
    res = {}
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            r = json.loads(line[7:])
            res[r["mode"]] = r
    if not res:
        res["error"] = out.stderr.strip()
    return res


def wait_idle(pids, limit=90, quiet_pct=10.0):
    """Waits (at most limit s) until the servers use < quiet_pct % CPU over 0.5 s."""
    end = time.monotonic() + limit
    tck = os.sysconf("SC_CLK_TCK")
    while time.monotonic() < end:
        a = sum(proc_cpu_ticks(p) or 0 for p in pids)
        time.sleep(0.5)
        b = sum(proc_cpu_ticks(p) or 0 for p in pids)
        if 100.0 * (b - a) / tck / 0.5 < quiet_pct:
            return
    return


class SnapshotWatcher(threading.Thread):
    """Records [start, end] (monotonic s) of zkserver's forked snapshot
    writers by polling the server's children every 5 ms."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.stop_flag, self.intervals = pid, False, []

    def run(self):
        current = None
        while not self.stop_flag:
            kids = ""
            try:
                with open(f"/proc/{self.pid}/task/{self.pid}/children") as f:
                    kids = f.read().strip()
            except OSError:
                pass
            now = time.monotonic()
            if kids and current is None:
                current = now
            elif not kids and current is not None:
                self.intervals.append((current, now))
                current = None
            time.sleep(0.005)


def apache_snapshots(logfile, since_wall):
    """[start, end] (wall s) of Apache's snapshots in its log after since_wall:
    "Snapshot taken in N ms" ends one that began N ms earlier."""
    out = []
    rx = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) .*Snapshot taken in (\d+) ms")
    with open(logfile, errors="replace") as f:
        for line in f:
            m = rx.match(line)
            if not m:
                continue
            end = time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) + int(m.group(2)) / 1000
            if end >= since_wall:
                out.append((end - int(m.group(3)) / 1000, end))
    return out


def read_timeline(path):
    rows = []
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            t, ops, errs, p50, p99, mx = (int(x) for x in line.split())
            rows.append({"t": t / 1000.0, "ops": ops, "errors": errs, "p50": p50, "p99": p99, "max": mx})
    return rows


def snapshot_effect(ctx, dep, count):
    """count setData at 8x16 with a 100 ms timeline (enough transactions for
    several snapshots at the default snapCount); p99 of the bins during a
    snapshot against the others."""
    m = dep.members[0]
    watcher = SnapshotWatcher(m.pid) if dep.kind == "zkserver" else None
    if watcher:
        watcher.start()
    wall0, mono0 = time.time(), time.monotonic()
    tl = os.path.join(ctx.tmp, f"timeline-{dep.name}.txt")
    r = run_client([ctx.bin("zkload"), "--servers", dep.connect_string(), "--op", "set",
                    "--sessions", "8", "--depth", "16", "--size", "100", "--count", str(count),
                    "--warmup", "0", "--root", "/zkb100", "--timeline", tl],
                   dep.pids(), ctx.client_log(), 900, scan_others=False)
    if watcher:
        watcher.stop_flag = True
        watcher.join()
        snaps = watcher.intervals
    else:
        time.sleep(0.5)   # the log line of a snapshot ending with the run
        snaps = [(a - wall0 + mono0, b - wall0 + mono0) for a, b in apache_snapshots(m.log, wall0)]
    bins = read_timeline(tl) if os.path.exists(tl) else []
    inside = [b for b in bins if any(a - 0.1 <= b["t"] <= e for a, e in snaps)]
    outside = [b for b in bins if b not in inside]
    med = lambda xs: statistics.median(xs) if xs else None  # noqa: E731
    return {
        "snapshots": len(snaps),
        "snapshot_ms": dist([round((e - a) * 1000) for a, e in snaps]),
        "ops_per_s": r.get("ops_per_s"), "p99_us_overall": r.get("p99_us"),
        "bin_p99_us_during_median": med([b["p99"] for b in inside]),
        "bin_p99_us_during_max": max([b["p99"] for b in inside], default=None),
        "bin_p99_us_outside_median": med([b["p99"] for b in outside]),
        "ops_per_100ms_during_median": med([b["ops"] for b in inside]),
        "ops_per_100ms_outside_median": med([b["ops"] for b in outside]),
        "timeline": [(round(b["t"] - mono0, 1), b["ops"], b["p99"]) for b in bins],
        "snapshot_windows": [(round(a - mono0, 2), round(e - mono0, 2)) for a, e in snaps],
    }


def time_to_serving(member, repo, timeout=600):
    t0 = time.monotonic()
    member.start(repo)
    end = t0 + timeout
    while time.monotonic() < end:
        if mode_of(member.cport) == "standalone":
            return time.monotonic() - t0
        if member.proc.poll() is not None:
            raise RuntimeError(f"{member.kind} died while restarting; see {member.log}")
        time.sleep(0.01)
    raise RuntimeError(f"{member.kind} not serving {timeout} s after restart")


def znodes_one(ctx, kind, n):
    """RSS, data dir, snapshots under load and restart time with n znodes."""
    with running(ctx, kind, 1, f"znodes: {n}") as dep:
        pid = dep.pids()[0]
        pop = run_client([ctx.bin("zkload"), "--servers", dep.connect_string(), "--op", "create",
                          "--sessions", "32", "--depth", "32", "--size", "100", "--count", str(n),
                          "--keep", "--warmup", "0", "--root", "/zkn"],
                         dep.pids(), ctx.client_log(), n / 1000 + 600, scan_others=False)
        if "error" in pop:
            raise RuntimeError(pop["error"])
        wait_idle([pid])
        r = {"populate_ops_per_s": pop["ops_per_s"], "populate_p99_us": pop["p99_us"],
             "rss_bytes": rss_bytes(pid), "data_dir_bytes": dir_bytes(dep.members[0].data),
             "apache_xmx": os.environ.get("BENCH_APACHE_XMX") if kind == "apache" else None}
        r["snapshot"] = snapshot_effect(ctx, dep, 120000 if ctx.quick else 300000)
        wait_idle([dep.pids()[0]])
        r["data_dir_bytes_after_load"] = dir_bytes(dep.members[0].data)
        dep.members[0].stop()
        r["restart_to_serving_s"] = round(time_to_serving(dep.members[0], ctx.repo), 3)
        time.sleep(1)
        r["rss_bytes_after_restart"] = rss_bytes(dep.pids()[0])
    ctx.log(f"znodes {n} {kind}: rss {r['rss_bytes'] / 2**20:.0f} MiB, data "
            f"{r['data_dir_bytes'] / 2**20:.0f} MiB, restart {r['restart_to_serving_s']} s")
    return r


def znodes(ctx):
    counts = [100000] if ctx.quick else [1000000]
    if os.environ.get("BENCH_BIG") == "1":
        counts.append(10000000)
    res = {}
    for n in counts:
        for kind in KINDS:
            saved = os.environ.get("BENCH_APACHE_XMX")
            if n >= 10000000 and kind == "apache" and not saved:
                os.environ["BENCH_APACHE_XMX"] = "16g"   # the default (1/4 of RAM) is too small
            try:
                res[f"{n}/{kind}"] = znodes_one(ctx, kind, n)
            finally:
                if saved is None:
                    os.environ.pop("BENCH_APACHE_XMX", None)
    return res


class LineReader(threading.Thread):
    """Queues (monotonic time, line) of a process's stdout."""

    def __init__(self, proc):
        super().__init__(daemon=True)
        self.proc, self.q = proc, queue.Queue()

    def run(self):
        for line in self.proc.stdout:
            self.q.put((time.monotonic(), line))
        self.q.put((time.monotonic(), None))

    def wait_for(self, pred, timeout):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            try:
                t, line = self.q.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                return None
            if pred(line):
                return t, line


def spawn_reading(ctx, argv, stdin):
    """Starts argv (stderr to the clients' log) with a LineReader on its stdout."""
    with open(ctx.client_log(), "ab") as errf:
        p = PROCS.spawn(argv, stdout=subprocess.PIPE, stderr=errf, text=True, bufsize=1, stdin=stdin)
    rd = LineReader(p)
    rd.start()
    return p, rd


def failover(ctx):
    kills = int(os.environ.get("BENCH_KILLS", "3" if ctx.quick else "20"))
    res = {}
    for kind in KINDS:
        times, errors, leaders = [], [], []
        with running(ctx, kind, 3, f"failover: {kills} leader kills") as dep:
            for k in range(kills):
                leader = dep.leader()
                if leader is None:
                    raise RuntimeError(f"no leader: {dep.modes()}")
                argv = [ctx.bin("zkload"), "--servers", dep.connect_string(), "--op", "set",
                        "--sessions", "4", "--depth", "4", "--seconds", "3600", "--warmup", "0",
                        "--root", "/zkf", "--epochs"]
                p, rd = spawn_reading(ctx, argv, subprocess.DEVNULL)
                try:
                    first = rd.wait_for(lambda s: s.startswith("EPOCH"), 60)
                    if not first:
                        raise RuntimeError("the load client made no write before the kill")
                    epoch = int(first[1].split()[1])
                    time.sleep(0.5 if ctx.quick else 1.0)   # under load
                    t_kill = time.monotonic()
                    leader.kill9()
                    got = rd.wait_for(lambda s: s.startswith("EPOCH") and int(s.split()[1]) > epoch, 120)
                    if got:
                        t_us = int(got[1].split()[2])
                        times.append(round((t_us / 1e6 - t_kill) * 1000, 1))
                    else:
                        errors.append(f"kill {k}: no write on a new epoch within 120 s")
                finally:
                    PROCS.stop(p, wait=5)
                new = dep.leader()
                leaders.append(new.myid if new else None)
                leader.start(ctx.repo)
                if not dep.wait_ready(180):
                    raise RuntimeError(f"ensemble did not recover after kill {k}: {dep.modes()}")
            res[kind] = {"kills": kills, "failover_ms": dist(times), "raw_ms": times,
                         "errors": errors, "new_leaders": leaders}
            ctx.log(f"failover {kind}: {res[kind]['failover_ms']}")
    return res


def sessions(ctx):
    counts = [1000] if ctx.quick else [1000, 10000]
    res = {}
    for n in counts:
        for kind in KINDS:
            with running(ctx, kind, 1, f"sessions: {n} with watches") as dep:
                pid = dep.pids()[0]
                rss0 = rss_bytes(pid)
                p, rd = spawn_reading(ctx, [sys.executable, os.path.join(ctx.repo, "tools/bench/watchers.py"),
                                            str(dep.members[0].cport), str(n)], subprocess.PIPE)
                try:
                    ready = rd.wait_for(lambda s: s.startswith("READY"), 600)
                    if not ready:
                        raise RuntimeError("the watchers did not connect")
                    r = json.loads(ready[1][6:])
                    time.sleep(0.5)
                    r["server_rss_bytes_idle"] = rss0
                    r["server_rss_bytes"] = rss_bytes(pid)
                    wchs = four_letter(dep.members[0].cport, "wchs")
                    r["wchs"] = " ".join(wchs.split())
                    p.stdin.write("GO\n")
                    p.stdin.flush()
                    done = rd.wait_for(lambda s: s.startswith("RESULT"), 300)
                    if not done:
                        raise RuntimeError("the watch events did not arrive")
                    r.update(json.loads(done[1][7:]))
                finally:
                    PROCS.stop(p, wait=10)
                res[f"{n}/{kind}"] = r
                ctx.log(f"sessions {n} {kind}: {r}")
    return res


def wait_synced(dep, member, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if mode_of(member.cport) == "follower":
            leader = dep.leader()
            if leader and zxid_of(member.cport) == zxid_of(leader.cport):
                return True
        time.sleep(0.02)
    return False


def catchup(ctx):
    count = int(os.environ.get("BENCH_CATCHUP_ZNODES", "100000"))   # x 10 KiB = 1 GB
    res = {}
    for kind in KINDS:
        with running(ctx, kind, 3, f"catch-up: {count} znodes of 10 KiB") as dep:
            pop = run_client([ctx.bin("zkload"), "--servers", dep.connect_string(), "--op", "create",
                              "--sessions", "16", "--depth", "16", "--size", "10240", "--count", str(count),
                              "--keep", "--warmup", "0", "--root", "/zkc"],
                             dep.pids(), ctx.client_log(), 1800, scan_others=False)
            if "error" in pop:
                raise RuntimeError(pop["error"])
            wait_idle(dep.pids())
            leader = dep.leader()
            f = next(m for m in dep.members if m is not leader)
            r = {"znodes": count, "populate_ops_per_s": pop["ops_per_s"]}
            # DIFF: the follower misses 10,000 writes, then restarts (it loads its own 1 GB first).
            f.stop()
            others = ",".join(f"127.0.0.1:{m.cport}" for m in dep.members if m is not f)
            run_client([ctx.bin("zkload"), "--servers", others, "--op", "set", "--sessions", "8",
                        "--depth", "16", "--size", "100", "--count", "10000", "--warmup", "0",
                        "--root", "/zkb100"], dep.pids(), ctx.client_log(), 600, scan_others=False)
            t0 = time.monotonic()
            f.start(ctx.repo)
            r["diff_s"] = round(time.monotonic() - t0, 2) if wait_synced(dep, f, 900) else None
            # SNAP: the follower's data directory is wiped (myid kept).
            wait_idle(dep.pids())
            f.stop()
            for name in os.listdir(f.data):
                if name != "myid":
                    shutil.rmtree(os.path.join(f.data, name), ignore_errors=True)
            t0 = time.monotonic()
            f.start(ctx.repo)
            r["snap_s"] = round(time.monotonic() - t0, 2) if wait_synced(dep, f, 900) else None
            with open(f.log, errors="replace") as lf:
                r["sync_log"] = [ln.strip()[:200] for ln in lf
                                 if re.search(r"synced with leader|Getting a (diff|snapshot)", ln)][-4:]
            res[kind] = r
            ctx.log(f"catch-up {kind}: {r}")
    return res


def zkfs(ctx):
    script = os.path.join(ctx.repo, "tools/bench/zkfs.sh")
    if not os.path.exists(script):
        return {"skipped": "tools/bench/zkfs.sh is not in this tree"}
    ctx.log("zkfs: tools/bench/zkfs.sh")
    p = subprocess.run(["bash", script, ctx.out], capture_output=True, text=True, timeout=900)
    txt = os.path.join(ctx.out, "zkfs.txt")
    return {"exit": p.returncode, "stderr_tail": p.stderr[-2000:],
            "text": open(txt).read() if os.path.exists(txt) else None}
