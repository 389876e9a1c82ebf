#!/usr/bin/python3
"""bench.py — `make bench`: zkserver against Apache ZooKeeper 3.8 (Debian),
standalone and as 3-replica ensembles on loopback, driven by bin/zkbench (the
project's client) and bin/zkload (only the official Apache C client).

    tools/bench/bench.py --out DIR        (make bench runs it after building)

Environment (all optional):
  BENCH_QUICK=1        smoke run of a couple of minutes (few cells, short windows)
  BENCH_FILTER=REGEX   run only the matrix cells whose id matches, e.g.
                       'standalone/zkload/(set|get)/8x16/100$' (ids: see results.csv)
  BENCH_PARTS=LIST     comma list of parts to run (default: all of
                       fsync,matrix,znodes,failover,sessions,zkfs; catchup with
                       BENCH_CATCHUP=1)
  BENCH_SECS=S         measured window per cell (default 1.5; quick 1)
  BENCH_REPS=N         repetitions of the matrix, servers alternating (default 2)
  BENCH_KILLS=N        leader kills per system for failover (default 20; quick 3)
  BENCH_BIG=1          also 10,000,000 znodes (Apache gets -Xmx16g for it)
  BENCH_CATCHUP=1      follower catch-up by DIFF and SNAP with 1 GB of data
                       (BENCH_CATCHUP_ZNODES=N of 10 KiB instead of 100,000)
  BENCH_DOCS=1         also rewrite docs/benchmarks.md and docs/bench/*.png
  BENCH_APACHE_XMX=SZ  an explicit Apache heap for every run (default: the JVM's)
  BENCH_KINDS=LIST     the systems to run (default apache,zkserver)
  BENCH_ZKSERVER=PATH  the zkserver binary (default bin/zkserver): A/B runs of
                       two builds, e.g. BENCH_KINDS=zkserver BENCH_PARTS=failover

Output in DIR: results.jsonl / results.csv (one record per matrix cell and
repetition), extras.json (everything beside the matrix), machine.json,
report.md and the plots (tools/bench/report.py writes these two), logs/.
Every process is ended by PID and the temp dir removed, also on errors and
on SIGINT/SIGTERM.
"""
import argparse
import csv
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import PROCS, Deployment  # noqa: E402
from measure import run_client  # noqa: E402
import extras  # noqa: E402
from report import load as load_results  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
QUICK = os.environ.get("BENCH_QUICK") == "1"
SECS = float(os.environ.get("BENCH_SECS", "1" if QUICK else "1.5"))
REPS = int(os.environ.get("BENCH_REPS", "1" if QUICK else "2"))
WARMUP = 0.5 if not QUICK else 0.3

LOADS = [(1, 1), (8, 16), (32, 32), (128, 8)]
# The matrix that fits the 30 minutes: every case at every load with 100 B
# values standalone; 10 KiB only where the value travels (exists and
# getChildren return none); the ensemble's reads are local like a
# standalone server's, so there it is the writes plus get.
CASES = {
    ("standalone", "zkload", 100): ["set", "create", "get", "exists", "children", "multi", "mixed"],
    ("standalone", "zkload", 10240): ["set", "create", "get", "multi"],
    ("standalone", "zkbench", 100): ["set", "create", "get"],
    ("ensemble", "zkload", 100): ["set", "create", "get", "multi", "mixed"],
    ("ensemble", "zkload", 10240): ["set"],
    ("ensemble", "zkbench", 100): ["set", "create"],
}
KINDS = [k for k in os.environ.get("BENCH_KINDS", "apache,zkserver").split(",") if k]


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def matrix_cells(topology):
    """(client, case, sessions, depth, size) of one topology's matrix."""
    cells = []
    if QUICK:
        for case in ["set", "get", "create", "children", "multi"]:
            cells.append(("zkload", case, 8, 16, 100))
        cells.append(("zkload", "set", 1, 1, 100))
        cells.append(("zkload", "set", 32, 32, 10240))
        cells.append(("zkbench", "set", 8, 16, 100))
        cells.append(("zkbench", "get", 32, 32, 100))
        return cells
    for s, d in LOADS:
        for (topo, client, size), cases in CASES.items():
            if topo == topology:
                cells += [(client, case, s, d, size) for case in cases]
    return cells


def cell_id(topology, client, case, s, d, size):
    return f"{topology}/{client}/{case}/{s}x{d}/{size}"


def client_argv(client, servers, case, s, d, size, secs=None, extra=()):
    root = f"/zkb{size}"
    return [os.path.join(REPO, "bin", client), "--servers", servers, "--op", case,
            "--sessions", str(s), "--depth", str(d), "--size", str(size),
            "--seconds", str(secs or SECS), "--warmup", str(WARMUP), "--root", root, *extra]


def warm(dep, logdir):
    """Load before measuring: the JVM compiles its hot paths (C2) during
    this; zkserver gets the same treatment."""
    secs = 2 if QUICK else (4 if dep.kind == "apache" else 1)
    for case, s, d, size in [("set", 8, 16, 100), ("get", 8, 16, 100), ("create", 32, 32, 100),
                             ("mixed", 32, 32, 100), ("multi", 8, 16, 100), ("set", 32, 32, 10240),
                             ("children", 8, 16, 100)]:
        r = run_client(client_argv("zkload", dep.connect_string(), case, s, d, size, secs),
                       dep.pids(), os.path.join(logdir, "clients.log"), 120, scan_others=False)
        if "error" in r:
            raise RuntimeError(f"warm-up of {dep.name} failed: {r['error']}")


def run_matrix(out, tmp, logdir, flt, topologies):
    rows = []
    jsonl = open(os.path.join(out, "results.jsonl"), "a")
    for topology in topologies:
        cells = [c for c in matrix_cells(topology)
                 if not flt or re.search(flt, cell_id(topology, *c))]
        if not cells:
            continue
        n = 1 if topology == "standalone" else 3
        deps = {}
        try:
            for kind in KINDS:
                log(f"{topology}: starting {kind}")
                deps[kind] = Deployment(kind, n, tmp, REPO)
                deps[kind].start()
                warm(deps[kind], logdir)
            for rep in range(REPS):
                for i, c in enumerate(cells):
                    order = KINDS if (rep + i) % 2 == 0 else KINDS[::-1]
                    for kind in order:
                        dep = deps[kind]
                        cid = cell_id(topology, *c)
                        r = run_client(client_argv(c[0], dep.connect_string(), *c[1:]), dep.pids(),
                                       os.path.join(logdir, "clients.log"), SECS + 180)
                        r.update({"id": cid, "topology": topology, "server": kind, "rep": rep,
                                  "client": c[0], "op": c[1], "sessions": c[2], "depth": c[3],
                                  "size": c[4], "time": time.strftime("%H:%M:%S")})
                        rows.append(r)
                        jsonl.write(json.dumps(r) + "\n")
                        jsonl.flush()
                        if "error" in r:
                            log(f"{cid} {kind}: {r['error']}")
                        else:
                            log(f"{cid} {kind} rep{rep}: {r['ops_per_s']:.0f} ops/s p99 "
                                f"{r['p99_us'] / 1000:.1f} ms srv {r['server_cpu_us_per_op']} us/op "
                                f"other {r['other_cpu_pct']}%")
        finally:
            for kind, dep in deps.items():
                dep.stop()
                keep_logs(dep, logdir)
    jsonl.close()
    return rows


def keep_logs(dep, logdir):
    """The last 300 lines of every member's log go to logs/."""
    for m in dep.members:
        try:
            with open(m.log, "rb") as f:
                lines = f.readlines()[-300:]
            with open(os.path.join(logdir, f"{dep.name}-m{m.myid}.log"), "ab") as g:
                g.writelines(lines)
        except OSError:
            pass


def write_csv(out):
    rows = load_results(out)[0]
    keys = ["id", "topology", "client", "op", "sessions", "depth", "size", "server", "rep", "ops",
            "errors", "secs", "ops_per_s", "p50_us", "p90_us", "p99_us", "p999_us", "max_us",
            "server_cpu_us_per_op", "server_cpu_pct", "client_cpu_pct", "other_cpu_pct",
            "loadavg1", "other_top", "time", "error"]
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)


def machine_info(out, started):
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
        except subprocess.SubprocessError:
            return ""
    info = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(started)),
        "cpu": sh("lscpu | sed -n 's/^Model name: *//p' | head -1"),
        "cores": os.cpu_count(),
        "mem_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": sh("uname -r"),
        "os": sh(". /etc/os-release; echo $PRETTY_NAME"),
        "fs": sh(f"df -T {tempfile.gettempdir()} | tail -1 | awk '{{print $2\" on \"$1}}'"),
        "java": sh("java -version 2>&1 | head -1"),
        "zookeeper": sh("dpkg-query -W -f='${Version}' zookeeper"),
        "libzookeeper": sh("dpkg-query -W -f='${Version}' libzookeeper-mt2"),
        "commit": sh(f"git -C {REPO} rev-parse --short HEAD"),
        "quick": QUICK, "secs": SECS, "reps": REPS,
        "env": {k: v for k, v in os.environ.items() if k.startswith("BENCH_")},
        "loadavg_start": open("/proc/loadavg").read().split()[:3],
    }
    with open(os.path.join(out, "machine.json"), "w") as f:
        json.dump(info, f, indent=1)
    return info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="bench-out")
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    started = time.time()
    os.makedirs(out, exist_ok=True)
    for name in ("results.jsonl", "extras.json"):
        if os.path.exists(os.path.join(out, name)):
            os.remove(os.path.join(out, name))
    logdir = os.path.join(out, "logs")
    shutil.rmtree(logdir, ignore_errors=True)
    os.makedirs(logdir)
    # 10,000 sessions need that many descriptors in the server and the client.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tmp = tempfile.mkdtemp(prefix="zkbench.")

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    parts = os.environ.get("BENCH_PARTS", "fsync,matrix,znodes,failover,sessions,zkfs").split(",")
    if os.environ.get("BENCH_CATCHUP") == "1" and "catchup" not in parts:
        parts.append("catchup")
    info = machine_info(out, started)
    log(f"output in {out}, temp dir {tmp}, parts {','.join(parts)}, quick={QUICK}")
    ex = {}
    rc = 0
    try:
        ctx = extras.Context(REPO, out, tmp, logdir, QUICK, log)
        if "fsync" in parts:
            ex["fsync"] = extras.fsync_floor(ctx)
        if "matrix" in parts:
            run_matrix(out, tmp, logdir, os.environ.get("BENCH_FILTER"), ["standalone", "ensemble"])
        for part, fn in [("znodes", extras.znodes), ("failover", extras.failover),
                         ("sessions", extras.sessions), ("catchup", extras.catchup),
                         ("zkfs", extras.zkfs)]:
            if part in parts:
                try:
                    ex[part] = fn(ctx)
                except Exception as e:   # one part failing must not lose the others
                    log(f"{part} failed: {e!r}")
                    ex[part] = {"error": repr(e)}
                with open(os.path.join(out, "extras.json"), "w") as f:
                    json.dump(ex, f, indent=1)
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else 1
        log(f"stopped by signal (exit {rc})")
    except Exception as e:
        log(f"failed: {e!r}")
        rc = 1
    finally:
        PROCS.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
        with open(os.path.join(out, "extras.json"), "w") as f:
            json.dump(ex, f, indent=1)
        write_csv(out)
        info["duration_s"] = round(time.time() - started)
        with open(os.path.join(out, "machine.json"), "w") as f:
            json.dump(info, f, indent=1)
    if rc == 0:
        gen = [sys.executable, os.path.join(REPO, "tools/bench/report.py"), out]
        if os.environ.get("BENCH_DOCS") == "1":
            gen.append("--docs")
        rc = subprocess.call(gen)
    log(f"done in {time.time() - started:.0f} s (exit {rc}); report: {out}/report.md")
    return rc


if __name__ == "__main__":
    sys.exit(main())
