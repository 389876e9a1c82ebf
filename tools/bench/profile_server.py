#!/usr/bin/python3
"""profile_server.py OUT [CASES] — where zkserver's CPU goes (docs/perf-notes.md).

For each case (default: set, create, get at 8x16 and 32x32, standalone and
3-replica ensemble; or CASES like "standalone/set/8x16,ensemble/get/32x32"):
  1. perf: load with bin/zkload while `perf record -g` samples every member
     for PERF_SECS (default 4) s; OUT/<case>.perf.txt is the flat profile by
     symbol (self time) per process, and OUT/<case>.perf-children.txt the
     inclusive one;
  2. strace -c -f on every member during a second window, divided by the
     operations completed in it: OUT/<case>.strace.txt and syscalls per op;
  3. the CPU per op without any tool attached (OUT/summary.json).
With CALLGRIND=1 also a callgrind run of a standalone server doing 20,000
operations of each case (instructions per op by function, --dump-instr=yes),
OUT/callgrind.<op>.out and .txt.  With RESTART=1 also a perf profile of a
restart with 1,000,000 znodes (OUT/restart.perf*.txt).
`profile_server.py --table OUT` prints the tables of docs/perf-notes.md.
Needs linux-perf, strace, valgrind (tools/install-deps.sh --bench).  zkserver
only: this is about our CPU, Apache's figures are in `make bench`.
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import PROCS, Deployment, mode_of  # noqa: E402
from measure import run_client  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PERF_SECS = float(os.environ.get("PERF_SECS", "4"))


def zkload(dep, op, s, d, secs, extra=()):
    return [os.path.join(REPO, "bin/zkload"), "--servers", dep.connect_string(), "--op", op,
            "--sessions", str(s), "--depth", str(d), "--size", "100", "--seconds", str(secs),
            "--warmup", "0.5", "--root", "/zkb100", *extra]


def with_tool(dep, argv, tool_argv, logf):
    """Runs the load; starts tool_argv (attached to the members) at START,
    stops it (SIGINT) at STOP.  Returns the client's record."""
    holder = {}

    def on_line(line, _p):
        if line.startswith("START"):
            holder["tool"] = subprocess.Popen(tool_argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        elif line.startswith("STOP") and "tool" in holder:
            holder["tool"].send_signal(2)
            holder["tool"].wait(timeout=120)
    r = run_client(argv, dep.pids(), logf, 600, on_line=on_line, scan_others=False)
    if "tool" in holder and holder["tool"].poll() is None:
        holder["tool"].kill()
    return r


def strace_summary(path, ops):
    calls = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$", line)
            if m and m.group(2) != "total":
                calls[m.group(2)] = int(m.group(1))
    total = sum(calls.values())
    top = sorted(calls.items(), key=lambda kv: -kv[1])[:10]
    ops = max(ops, 1)
    return {"syscalls_per_op": round(total / ops, 3),
            "per_op": {k: round(v / ops, 3) for k, v in top},
            "ops_per_fdatasync": round(ops / calls["fdatasync"], 1) if calls.get("fdatasync") else None}


# Inclusive shares (of the members' samples) worth naming in the notes.
INCLUSIVE = {
    "recv": ["__x64_sys_recvfrom"], "send": ["__x64_sys_sendto"],
    "epoll_wait": ["__x64_sys_epoll_wait"], "epoll_ctl": ["__x64_sys_epoll_ctl"],
    "fdatasync": ["__x64_sys_fdatasync"], "pwrite": ["__x64_sys_pwrite64"],
    "futex": ["__x64_sys_futex"], "eventfd read/write": ["__x64_sys_read", "__x64_sys_write"],
    "scheduler (switches, wake-ups)": ["schedule", "try_to_wake_up"],
    "malloc/free": ["malloc", "free", "_int_malloc", "_int_free", "realloc", "calloc", "g_malloc",
                    "g_free", "g_malloc0", "g_realloc", "malloc_consolidate"],
    "memcpy/memmove": ["__memmove_avx_unaligned_erms", "__memcpy_avx_unaligned_erms"],
}


def perf_categories(children_txt, self_txt):
    """Inclusive % of a few syscalls and helpers, the kernel/user split and
    the share of each thread, from the two perf reports."""
    incl = {}
    with open(children_txt) as f:
        for line in f:
            m = re.match(r"\s*([\d.]+)%\s+([\d.]+)%\s+\[(.)\]\s+(\S+)", line)
            if m:
                incl[m.group(4)] = float(m.group(1))
    kernel = user = 0.0
    threads, self_pct = {}, {}
    with open(self_txt) as f:
        for line in f:
            m = re.match(r"\s*([\d.]+)%\s+(\d+):(\S+)\s+\[(.)\]\s+(\S+)", line)
            if m:
                pct = float(m.group(1))
                threads[m.group(2)] = threads.get(m.group(2), 0.0) + pct
                self_pct[m.group(5)] = self_pct.get(m.group(5), 0.0) + pct
                if m.group(4) == "k":
                    kernel += pct
                else:
                    user += pct
    # syscalls and the scheduler: inclusive; allocator and copies: self time
    cats = {name: round(sum(self_pct.get(sym, 0.0) for sym in syms)
                        if name in ("malloc/free", "memcpy/memmove")
                        else sum(incl.get(sym, 0.0) for sym in syms) if name == "eventfd read/write"
                        else max((incl.get(sym, 0.0) for sym in syms), default=0.0), 1)
            for name, syms in INCLUSIVE.items()}
    return {"inclusive_pct": cats, "kernel_pct": round(kernel, 1), "user_pct": round(user, 1),
            "thread_pct": {k: round(v, 1) for k, v in sorted(threads.items(), key=lambda kv: -kv[1])}}


def profile_case(out, topo, op, s, d, logf):
    name = f"{topo}-{op}-{s}x{d}"
    dep = Deployment("zkserver", 1 if topo == "standalone" else 3, out + "/tmp", REPO)
    res = {}
    try:
        dep.start()
        run_client(zkload(dep, op, s, d, 2), dep.pids(), logf, 120, scan_others=False)   # warm
        plain = run_client(zkload(dep, op, s, d, PERF_SECS), dep.pids(), logf, 120, scan_others=False)
        res["plain"] = {k: plain.get(k) for k in ("ops_per_s", "p50_us", "p99_us", "server_cpu_us_per_op",
                                                 "server_cpu_pct", "client_cpu_pct")}
        pids = ",".join(str(p) for p in dep.pids())
        data = os.path.join(out, name + ".perf.data")
        r = with_tool(dep, zkload(dep, op, s, d, PERF_SECS),
                      ["perf", "record", "-q", "--call-graph", "dwarf,16384", "-F", "999", "-p", pids,
                       "-o", data], logf)
        res["perf_ops_per_s"] = r.get("ops_per_s")
        with open(os.path.join(out, name + ".perf.txt"), "w") as f:
            subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "pid,sym", "--stdio",
                            "-g", "none", "--percent-limit", "0"], stdout=f, stderr=subprocess.DEVNULL)
        with open(os.path.join(out, name + ".perf-children.txt"), "w") as f:
            subprocess.run(["perf", "report", "-i", data, "--children", "--sort", "sym", "--stdio",
                            "-g", "none", "--percent-limit", "0.5"], stdout=f, stderr=subprocess.DEVNULL)
        os.remove(data)
        res["perf"] = perf_categories(os.path.join(out, name + ".perf-children.txt"),
                                      os.path.join(out, name + ".perf.txt"))
        st = os.path.join(out, name + ".strace.txt")
        targs = ["strace", "-c", "-f", "-o", st]
        for p in dep.pids():
            targs += ["-p", str(p)]
        r = with_tool(dep, zkload(dep, op, s, d, PERF_SECS), targs, logf)
        time.sleep(0.5)
        res["strace"] = strace_summary(st, r.get("ops", 0))
        res["strace"]["ops_during"] = r.get("ops")
    finally:
        dep.stop()
    return name, res


def callgrind(out, logf):
    res = {}
    for op in ("set", "create", "get"):
        dep = Deployment("zkserver", 1, out + "/tmp", REPO)
        m = dep.members[0]
        cg = os.path.join(out, f"callgrind.{op}.out")
        # run the server under callgrind by wrapping its binary
        wrapper = os.path.join(out, "tmp", "zkserver-callgrind")
        with open(wrapper, "w") as f:
            f.write(f"#!/bin/sh\nexec valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file={cg} "
                    f"{REPO}/bin/zkserver \"$@\"\n")
        os.chmod(wrapper, 0o755)
        try:
            argv = [wrapper, m.cfg]
            m.proc = PROCS.spawn(argv, stdout=open(m.log, "ab"), stderr=subprocess.STDOUT)
            if not dep.wait_ready(120):
                raise RuntimeError("zkserver under callgrind did not start")
            n = 20000
            r = run_client([os.path.join(REPO, "bin/zkload"), "--servers", dep.connect_string(), "--op", op,
                            "--sessions", "8", "--depth", "16", "--size", "100", "--count", str(n),
                            "--warmup", "0", "--root", "/zkb100"] + (["--keep"] if op == "create" else []),
                           dep.pids(), logf, 900, scan_others=False)
            res[op] = {"ops": r.get("ops")}
        finally:
            dep.stop()
        txt = os.path.join(out, f"callgrind.{op}.txt")
        with open(txt, "w") as f:
            subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=98", cg], stdout=f,
                           stderr=subprocess.DEVNULL)
        with open(txt) as f:
            m_total = re.search(r"([\d,]+)\s+(?:\(100\.0%\)\s+)?PROGRAM TOTALS", f.read())
        if m_total:
            res[op]["instructions_total"] = int(m_total.group(1).replace(",", ""))
            res[op]["instructions_per_op"] = round(res[op]["instructions_total"] / max(res[op]["ops"] or 1, 1))
    return res


def restart_profile(out, logf, n=1000000):
    """perf of a zkserver restart with n znodes of 100 B: where the time to
    serving goes (snapshot load, log replay)."""
    dep = Deployment("zkserver", 1, out + "/tmp", REPO)
    m = dep.members[0]
    res = {"znodes": n}
    try:
        dep.start()
        run_client([os.path.join(REPO, "bin/zkload"), "--servers", dep.connect_string(), "--op", "create",
                    "--sessions", "32", "--depth", "32", "--size", "100", "--count", str(n), "--keep",
                    "--warmup", "0", "--root", "/zkn"], dep.pids(), logf, 1800, scan_others=False)
        time.sleep(2)
        dep.stop()
        data = os.path.join(out, "restart.perf.data")
        # perf attaches right after the exec and stops once the server serves,
        # so the profile is the start-up alone (not the shutdown's tree_free).
        t0 = time.monotonic()
        m.start(REPO)
        perf = PROCS.spawn(["perf", "record", "-q", "--call-graph", "dwarf,16384", "-F", "499", "-o", data,
                            "-p", str(m.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while time.monotonic() - t0 < 600 and mode_of(m.cport) != "standalone":
            time.sleep(0.01)
        res["restart_to_serving_s_under_perf"] = round(time.monotonic() - t0, 2)
        perf.send_signal(2)
        perf.wait(timeout=120)
        with open(os.path.join(out, "restart.perf-children.txt"), "w") as f:
            subprocess.run(["perf", "report", "-i", data, "--children", "--sort", "sym", "--stdio", "-g", "none",
                            "--percent-limit", "1"], stdout=f, stderr=subprocess.DEVNULL)
        with open(os.path.join(out, "restart.perf.txt"), "w") as f:
            subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "sym", "--stdio", "-g", "none",
                            "--percent-limit", "0.5"], stdout=f, stderr=subprocess.DEVNULL)
        os.remove(data)
        with open(m.log, errors="replace") as f:
            res["log"] = [ln.strip() for ln in f][-6:]
    finally:
        dep.stop()
    return res


def table(out):
    """Prints the markdown tables of docs/perf-notes.md from OUT/summary.json."""
    summ = json.load(open(os.path.join(out, "summary.json")))
    print("| case | server µs/op | kernel / user % | loop / log-writer thread % | recv | send | epoll_wait + ctl "
          "| fdatasync | pwrite | futex | scheduler | malloc+free (self) | syscalls/op | ops per fdatasync |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in summ.items():
        if "plain" not in r:
            continue
        pf, st, inc = r["perf"], r["strace"], r["perf"]["inclusive_pct"]
        th = list(pf["thread_pct"].values())
        threads = " / ".join(f"{x:.0f}" for x in th[:2]) + (f" (+{sum(th[2:]):.0f} other)" if sum(th[2:]) >= 1 else "")
        print(f"| {name} | {r['plain']['server_cpu_us_per_op']} | {pf['kernel_pct']:.0f} / {pf['user_pct']:.0f} | "
              f"{threads} | {inc['recv']} | {inc['send']} | {inc['epoll_wait'] + inc['epoll_ctl']:.1f} | "
              f"{inc['fdatasync']} | {inc['pwrite']} | {inc['futex']} | {inc['scheduler (switches, wake-ups)']} | "
              f"{inc['malloc/free']} | {st['syscalls_per_op']} | {st['ops_per_fdatasync']} |")
    print()
    print("| case | " + " | ".join(["epoll_ctl", "recvfrom", "sendto", "epoll_wait", "futex", "fdatasync", "pwrite64",
                                     "read+write (eventfd)"]) + " |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in summ.items():
        if "plain" not in r:
            continue
        po = r["strace"]["per_op"]
        cols = [po.get(k, 0) for k in ("epoll_ctl", "recvfrom", "sendto", "epoll_wait", "futex", "fdatasync", "pwrite64")]
        cols.append(round(po.get("read", 0) + po.get("write", 0), 3))
        print(f"| {name} | " + " | ".join(str(c) for c in cols) + " |")
    if "callgrind" in summ:
        print()
        print("| op | instructions per op (user space, callgrind) |")
        print("|---|---|")
        for op, r in summ["callgrind"].items():
            ipo = r.get("instructions_per_op")
            print(f"| {op} | {ipo:,} |" if ipo else f"| {op} | – |")


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--table":
        return table(sys.argv[2])
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "perf-out")
    os.makedirs(os.path.join(out, "tmp"), exist_ok=True)
    logf = os.path.join(out, "clients.log")
    if len(sys.argv) > 2:   # "none": only the RESTART / CALLGRIND parts
        cases = [tuple(c.split("/")) for c in sys.argv[2].split(",") if c != "none"]
    else:
        cases = [(t, o, l) for t in ("standalone", "ensemble") for o in ("set", "create", "get")
                 for l in ("8x16", "32x32")]
    summary = {}
    try:
        for topo, op, lk in cases:
            s, d = (int(x) for x in lk.split("x"))
            name, res = profile_case(out, topo, op, s, d, logf)
            summary[name] = res
            print(name, json.dumps(res), flush=True)
        if os.environ.get("RESTART") == "1":
            summary["restart"] = restart_profile(out, logf)
            print("restart", json.dumps(summary["restart"]), flush=True)
        if os.environ.get("CALLGRIND") == "1":
            summary["callgrind"] = callgrind(out, logf)
            print("callgrind", json.dumps(summary["callgrind"]), flush=True)
    finally:
        PROCS.stop_all()
        subprocess.run(["rm", "-rf", os.path.join(out, "tmp")])
        with open(os.path.join(out, "summary.json"), "w") as f:
            json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
