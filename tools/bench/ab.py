#!/usr/bin/env python3
"""ab.py — A/B comparison of two zkserver binaries on a loaded machine.

    tools/bench/ab.py OLD_BIN NEW_BIN [--rounds N] [--secs S] [--client bin/zkbench]
                      [--cells set/1x1,set/8x16,...] [--ensemble] [--strace]

For every cell (op/SESSIONSxDEPTH) it alternates the two binaries, round
after round (old, new, new, old, old, new ...: neither always runs first),
each run against a fresh standalone server (or 3-replica ensemble) in a temp
dir, and prints per binary the medians over the rounds of ops/s, p50, p99
and server CPU µs/op (utime+stime from /proc over the measured window, as
`make bench`), plus the median load average.  With --strace it also runs
`strace -c -f` on the servers during one extra window per binary and prints
syscalls per operation (strace slows the server: those runs are not part of
the medians).  Nothing is asserted: the figures are for docs/perf-notes.md.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from measure import run_client  # noqa: E402
from servers import PROCS, Deployment  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))


def repo_for(binary, root, tag):
    """A directory whose bin/zkserver is binary (Deployment starts REPO/bin/zkserver)."""
    d = os.path.join(root, tag)
    os.makedirs(os.path.join(d, "bin"), exist_ok=True)
    dst = os.path.join(d, "bin", "zkserver")
    if not os.path.exists(dst):
        shutil.copy2(binary, dst)
    return d


def run_cell(repo, cell, args, root, strace_out=None):
    op, load = cell.split("/")
    sessions, depth = load.split("x")
    dep = Deployment("zkserver", 3 if args.ensemble else 1, root, repo)
    tracer = None
    try:
        dep.start()
        argv = [args.client, "--servers", dep.connect_string(), "--op", op, "--sessions", sessions,
                "--depth", depth, "--seconds", str(args.secs), "--warmup", "0.5"]
        if strace_out:
            targs = ["strace", "-c", "-f", "-o", strace_out]
            for p in dep.pids():
                targs += ["-p", str(p)]
            tracer = PROCS.spawn(targs, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        r = run_client(argv, dep.pids(), os.path.join(root, "client.log"), timeout=args.secs + 60,
                       scan_others=False)
        return r
    finally:
        if tracer:
            PROCS.stop(tracer, wait=10)
        dep.stop()
        shutil.rmtree(dep.root, ignore_errors=True)


def strace_per_op(path, ops):
    calls = {}
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
                    try:
                        calls[parts[-1]] = int(parts[3])
                    except ValueError:
                        pass
    except OSError:
        return "no strace output"
    if not ops:
        return "no operations"
    top = sorted(calls.items(), key=lambda kv: -kv[1])[:8]
    total = sum(calls.values())
    return f"{total / ops:.3f}/op: " + " ".join(f"{k} {v / ops:.3f}" for k, v in top)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--secs", type=float, default=3)
    ap.add_argument("--client", default=os.path.join(REPO, "bin/zkbench"))
    ap.add_argument("--cells", default="set/1x1,set/8x16,set/32x32,create/1x1,create/8x16,create/32x32,"
                    "get/1x1,get/8x16,get/32x32")
    ap.add_argument("--ensemble", action="store_true")
    ap.add_argument("--strace", action="store_true")
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="zk-ab-")
    try:
        bins = {"old": repo_for(args.old, root, "old"), "new": repo_for(args.new, root, "new")}
        print("| cell | binary | ops/s | p50 µs | p99 µs | server µs/op | load | rounds |")
        print("|---|---|---|---|---|---|---|---|")
        for cell in args.cells.split(","):
            res = {"old": [], "new": []}
            for rnd in range(args.rounds):
                order = ["old", "new"] if rnd % 2 == 0 else ["new", "old"]
                for tag in order:
                    r = run_cell(bins[tag], cell, args, root)
                    if "error" not in r:
                        res[tag].append(r)
            for tag in ("old", "new"):
                rs = res[tag]
                if not rs:
                    print(f"| {cell} | {tag} | failed | | | | | 0 |")
                    continue
                med = lambda k: statistics.median(r[k] for r in rs)  # noqa: E731
                print(f"| {cell} | {tag} | {med('ops_per_s'):.0f} | {med('p50_us'):.0f} | {med('p99_us'):.0f} | "
                      f"{med('server_cpu_us_per_op'):.2f} | {med('loadavg1'):.1f} | {len(rs)} |", flush=True)
            if args.strace:
                for tag in ("old", "new"):
                    st = os.path.join(root, f"strace.{tag}.txt")
                    r = run_cell(bins[tag], cell, args, root, strace_out=st)
                    print(f"  strace {cell} {tag}: {strace_per_op(st, r.get('ops', 0))}", flush=True)
    finally:
        PROCS.stop_all()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
