#!/usr/bin/python3
"""report.py OUT [--docs] — writes OUT/report.md and the gnuplot plots
OUT/*.png from the raw results of tools/bench/bench.py (results.jsonl,
extras.json, machine.json).  With --docs it writes the same report to
docs/benchmarks.md and the plots to docs/bench/.

Every figure in the report comes from those files: medians over the
repetitions, spread = (max - min) / median of the repetitions, ratios =
zkserver / Apache (for latency and CPU, lower is better for zkserver).
"""
import collections
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
LOAD_ORDER = ["1x1", "8x16", "32x32", "128x8"]
CASE_ORDER = ["set", "create", "get", "exists", "children", "multi", "mixed"]


def load(out):
    rows = []
    p = os.path.join(out, "results.jsonl")
    if os.path.exists(p):
        with open(p) as f:
            rows = [json.loads(x) for x in f if x.strip()]
    ex = json.load(open(os.path.join(out, "extras.json"))) if os.path.exists(os.path.join(out, "extras.json")) else {}
    mi = json.load(open(os.path.join(out, "machine.json"))) if os.path.exists(os.path.join(out, "machine.json")) else {}
    return rows, ex, mi


def med(xs):
    return statistics.median(xs) if xs else None


def spread(xs):
    m = med(xs)
    if not xs or len(xs) < 2 or not m:
        return None
    return (max(xs) - min(xs)) / m


class Cells:
    """Medians per (topology, client, op, load, size, server)."""

    def __init__(self, rows):
        self.g = collections.defaultdict(list)
        self.failed = []
        for r in rows:
            key = (r["topology"], r["client"], r["op"], f"{r['sessions']}x{r['depth']}", r["size"], r["server"])
            if not r.get("ops") and "error" not in r:
                r = {**r, "error": "no operation completed in the measured window"}
            if "error" in r or r.get("errors"):
                self.failed.append(r)
                if "error" in r:
                    continue
            self.g[key].append(r)

    def keys(self, topology, client):
        ks = {(k[2], k[3], k[4]) for k in self.g if k[0] == topology and k[1] == client}
        return sorted(ks, key=lambda k: (k[2], CASE_ORDER.index(k[0]) if k[0] in CASE_ORDER else 99,
                                         LOAD_ORDER.index(k[1]) if k[1] in LOAD_ORDER else 99))

    def metric(self, topology, client, op, loadk, size, server, field):
        rs = self.g.get((topology, client, op, loadk, size, server), [])
        vals = [r[field] for r in rs if r.get(field) is not None]
        return med(vals), spread(vals), len(vals)


def fmt_n(x, digits=0):
    if x is None:
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def fmt_ms(us):
    if us is None:
        return "–"
    ms = us / 1000
    return f"{ms:.2f}" if ms < 10 else f"{ms:.1f}" if ms < 100 else f"{ms:.0f}"


def ratio(z, a):
    if z is None or a is None or a == 0:
        return "–"
    return f"{z / a:.2f}"


def sp(s):
    return "" if s is None else f" ±{100 * s / 2:.0f}%"


def size_label(size):
    return "10 KiB" if size == 10240 else f"{size} B"


def matrix_table(cells, topology, client):
    keys = cells.keys(topology, client)
    if not keys:
        return []
    L = [f"| case | load | value | Apache ops/s | zkserver ops/s | ratio | Apache p50 / p99 / p99.9 ms | "
         f"zkserver p50 / p99 / p99.9 ms | p99 ratio | Apache server µs/op | zkserver µs/op | CPU ratio | "
         f"client CPU % (A / z) |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for op, loadk, size in keys:
        m = lambda srv, f: cells.metric(topology, client, op, loadk, size, srv, f)  # noqa: E731
        ao, aos, _ = m("apache", "ops_per_s")
        zo, zos, _ = m("zkserver", "ops_per_s")
        a50, z50 = m("apache", "p50_us")[0], m("zkserver", "p50_us")[0]
        a99, z99 = m("apache", "p99_us")[0], m("zkserver", "p99_us")[0]
        a999, z999 = m("apache", "p999_us")[0], m("zkserver", "p999_us")[0]
        ac, zc = m("apache", "server_cpu_us_per_op")[0], m("zkserver", "server_cpu_us_per_op")[0]
        acl, zcl = m("apache", "client_cpu_pct")[0], m("zkserver", "client_cpu_pct")[0]
        L.append(f"| {op} | {loadk} | {size_label(size)} | {fmt_n(ao)}{sp(aos)} | {fmt_n(zo)}{sp(zos)} | "
                 f"{ratio(zo, ao)} | {fmt_ms(a50)} / {fmt_ms(a99)} / {fmt_ms(a999)} | "
                 f"{fmt_ms(z50)} / {fmt_ms(z99)} / {fmt_ms(z999)} | {ratio(z99, a99)} | {fmt_n(ac, 1)} | "
                 f"{fmt_n(zc, 1)} | {ratio(zc, ac)} | {fmt_n(acl)} / {fmt_n(zcl)} |")
    return L


def losses(cells):
    """Cells where zkserver is slower, has the higher p99 or uses more CPU per op."""
    L = []
    for topology in ("standalone", "ensemble"):
        for client in ("zkload", "zkbench"):
            for op, loadk, size in cells.keys(topology, client):
                m = lambda srv, f: cells.metric(topology, client, op, loadk, size, srv, f)[0]  # noqa: E731
                what = []
                ao, zo = m("apache", "ops_per_s"), m("zkserver", "ops_per_s")
                if ao and zo and zo < ao:
                    what.append(f"throughput {zo / ao:.2f}x")
                a99, z99 = m("apache", "p99_us"), m("zkserver", "p99_us")
                if a99 and z99 and z99 > a99:
                    what.append(f"p99 {z99 / a99:.2f}x ({fmt_ms(z99)} ms against {fmt_ms(a99)} ms)")
                ac, zc = m("apache", "server_cpu_us_per_op"), m("zkserver", "server_cpu_us_per_op")
                if ac and zc and zc > ac:
                    what.append(f"server CPU/op {zc / ac:.2f}x")
                if what:
                    L.append(f"- {topology}, {client}, {op} {loadk} {size_label(size)}: " + "; ".join(what))
    return L


def gnuplot(out, cells, topology, metric, fname, ylabel):
    """One PNG: metric against load for set/create/get (100 B, bin/zkload), both systems."""
    if not shutil.which("gnuplot"):
        return None
    dat = os.path.join(out, fname + ".dat")
    series = [(op, srv) for op in ("set", "create", "get") for srv in ("apache", "zkserver")]
    have = False
    with open(dat, "w") as f:
        f.write("# load " + " ".join(f"{op}-{srv}" for op, srv in series) + "\n")
        for i, lk in enumerate(LOAD_ORDER):
            vals = []
            for op, srv in series:
                v = cells.metric(topology, "zkload", op, lk, 100, srv, metric)[0]
                if v is not None:
                    have = True
                    v = v / 1000 if metric.endswith("_us") else v
                vals.append("NaN" if v is None else f"{v:.3f}")
            f.write(f"{i} {lk} " + " ".join(vals) + "\n")
    if not have:
        os.remove(dat)
        return None
    png = os.path.join(out, fname + ".png")
    plots = []
    for k, (op, srv) in enumerate(series):
        style = "lw 2 dt 1" if srv == "zkserver" else "lw 2 dt 2"
        color = {"set": "#1f77b4", "create": "#2ca02c", "get": "#d62728"}[op]
        name = "Apache" if srv == "apache" else "zkserver"
        plots.append(f"'{dat}' using 1:{k + 3}:xtic(2) with linespoints {style} lc rgb '{color}' "
                     f"pt 7 title '{op} {name}'")
    script = f"""set terminal pngcairo size 800,480 noenhanced
set output '{png}'
set title '{topology}: {ylabel} against load (sessions x in flight), 100 B, bin/zkload'
set logscale y
set grid
set key outside right
set xlabel 'sessions x in-flight per session'
set ylabel '{ylabel}'
set xrange [-0.3:3.3]
plot {", ".join(plots)}
"""
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True, capture_output=True, timeout=60)
    except (subprocess.SubprocessError, OSError):
        return None
    os.remove(dat)
    return fname + ".png"


def fmt_dur(secs):
    return "?" if secs is None else f"{secs // 60} min {secs % 60} s"


def mib(b):
    return "–" if b is None else f"{b / 2**20:,.0f} MiB"


def targets(cells, ex):
    """The issue's targets, each with the measured value and met / not met."""
    T = []

    def row(name, value, ok):
        T.append(f"| {name} | {value} | {'met' if ok else 'NOT met' if ok is not None else 'not measured'} |")

    for topo in ("standalone", "ensemble"):
        for op in ("set", "create", "get"):
            for lk in ("8x16", "32x32"):
                a = cells.metric(topo, "zkload", op, lk, 100, "apache", "server_cpu_us_per_op")[0]
                z = cells.metric(topo, "zkload", op, lk, 100, "zkserver", "server_cpu_us_per_op")[0]
                r = z / a if a and z else None
                row(f"server CPU/op ≤ 1/10 of Apache's: {topo} {op} {lk}",
                    "–" if r is None else f"{r:.2f} ({z:.1f} / {a:.1f} µs)", None if r is None else r <= 0.1)
    for op in ("set", "create"):
        a = cells.metric("standalone", "zkbench", op, "8x16", 100, "apache", "ops_per_s")[0]
        z = cells.metric("standalone", "zkbench", op, "8x16", 100, "zkserver", "ops_per_s")[0]
        r = z / a if a and z else None
        row(f"{op} throughput ≥ 3x Apache at 8x16 (bin/zkbench)", "–" if r is None else f"{r:.2f}x",
            None if r is None else r >= 3)
    n = ok = 0
    for topo in ("standalone", "ensemble"):
        for client in ("zkload", "zkbench"):
            for op, lk, size in cells.keys(topo, client):
                a = cells.metric(topo, client, op, lk, size, "apache", "p99_us")[0]
                z = cells.metric(topo, client, op, lk, size, "zkserver", "p99_us")[0]
                if a and z:
                    n += 1
                    ok += z <= a / 2
    row("p99 ≤ 1/2 of Apache's in every case", f"{ok} of {n} cells", None if n == 0 else ok == n)
    fl = (ex.get("fsync") or {}).get("append")
    z = cells.metric("standalone", "zkload", "set", "1x1", 100, "zkserver", "p50_us")[0]
    if fl and z:
        r = z / fl["p50_us"]
        row("set 1x1 p50 within 1.5x of 4 KiB append+fdatasync p50",
            f"{r:.2f}x ({fmt_ms(z)} ms against {fmt_ms(fl['p50_us'])} ms)", r <= 1.5)
    else:
        row("set 1x1 p50 within 1.5x of 4 KiB append+fdatasync p50", "–", None)
    zn = ex.get("znodes") or {}
    a, z = zn.get("1000000/apache"), zn.get("1000000/zkserver")
    if z:
        row("1,000,000 znodes in ≤ 250 MB RSS (≤ 1/7 of Apache)",
            f"{z['rss_bytes'] / 1e6:.0f} MB" + (f" ({z['rss_bytes'] / a['rss_bytes']:.2f} of Apache)" if a else ""),
            z["rss_bytes"] <= 250e6 and (not a or z["rss_bytes"] <= a["rss_bytes"] / 7))
        row("1,000,000 znodes: restart to serving ≤ 1.5 s", f"{z['restart_to_serving_s']} s",
            z["restart_to_serving_s"] <= 1.5)
        if a:
            r = z["data_dir_bytes"] / a["data_dir_bytes"]
            row("1,000,000 znodes: data directory ≤ 1/2 of Apache's", f"{r:.2f}", r <= 0.5)
    else:
        row("1,000,000 znodes (RSS, restart, data dir)", "–", None)
    fo = ((ex.get("failover") or {}).get("zkserver") or {}).get("failover_ms")
    row("failover p99 ≤ 500 ms (tickTime 2000)", "–" if not fo else f"{fo['p99']:.0f} ms (n={fo['n']})",
        None if not fo else fo["p99"] <= 500)
    for op in ("set", "create"):
        for lk in ("8x16", "32x32"):
            a = cells.metric("ensemble", "zkload", op, lk, 100, "apache", "ops_per_s")[0]
            z = cells.metric("ensemble", "zkload", op, lk, 100, "zkserver", "ops_per_s")[0]
            r = z / a if a and z else None
            row(f"ensemble write throughput ≥ 3x Apache's: {op} {lk} (bin/zkload)",
                "–" if r is None else f"{r:.2f}x", None if r is None else r >= 3)
    return ["| target | measured | |", "|---|---|---|"] + T


def extras_md(ex):
    L = []
    fl = ex.get("fsync") or {}
    if fl.get("append"):
        L += ["### The disk's floor", "",
              "`bin/fsyncfloor`: one writer, 4 KiB `write` + `fdatasync` in a loop, on the file system "
              "that holds the data directories: appending to a growing file, writing into a file "
              "pre-written with zeros, writing into a `posix_fallocate`'d file (unwritten extents, "
              "as zkserver's log preallocates).", "",
              "| mode | ops | p50 ms | p99 ms | max ms |", "|---|---|---|---|---|"]
        for mode in ("append", "prealloc", "fallocate"):
            r = fl.get(mode)
            if r:
                L.append(f"| {mode} | {r['ops']} | {fmt_ms(r['p50_us'])} | {fmt_ms(r['p99_us'])} | {fmt_ms(r['max_us'])} |")
        L += ["", "Group commit is what lets the servers go past 1 / p50 of this floor: every "
              "write batch costs one `fdatasync`.", ""]
    zn = ex.get("znodes") or {}
    if zn and "error" not in zn:
        L += ["### Many znodes (100 B each, standalone)", "",
              "| znodes | system | create rate ops/s | RSS | data dir | restart to serving | RSS after restart |",
              "|---|---|---|---|---|---|---|"]
        for k, r in zn.items():
            n, kind = k.split("/")
            xmx = f" (-Xmx{r['apache_xmx']})" if r.get("apache_xmx") else ""
            L.append(f"| {int(n):,} | {kind}{xmx} | {fmt_n(r['populate_ops_per_s'])} | {mib(r['rss_bytes'])} | "
                     f"{mib(r['data_dir_bytes'])} | {r['restart_to_serving_s']} s | {mib(r.get('rss_bytes_after_restart'))} |")
        L += ["", "Data directories are as each server leaves them with its defaults: Apache keeps every "
              "snapshot (autopurge is off by default), zkserver the last three.", "",
              "### Snapshots under load", "",
              "300,000 setData at 8x16 (bin/zkload; 120,000 in a quick run) on the tree above; snapshots every snapCount/2 .. "
              "snapCount transactions (default 100,000), in a forked process (zkserver) or a thread "
              "(Apache). p99 per 100 ms bin, medians over the bins that overlap a snapshot and those that do not.", "",
              "| znodes | system | snapshots | snapshot ms (median / max) | ops/s | p99 ms in bins during / outside snapshots (median) | worst bin p99 during |",
              "|---|---|---|---|---|---|---|"]
        for k, r in zn.items():
            s = r.get("snapshot") or {}
            n, kind = k.split("/")
            sm = s.get("snapshot_ms") or {}
            L.append(f"| {int(n):,} | {kind} | {s.get('snapshots', '–')} | {sm.get('p50', '–')} / {sm.get('max', '–')} | "
                     f"{fmt_n(s.get('ops_per_s'))} | {fmt_ms(s.get('bin_p99_us_during_median'))} / "
                     f"{fmt_ms(s.get('bin_p99_us_outside_median'))} | {fmt_ms(s.get('bin_p99_us_during_max'))} |")
        L.append("")
    elif zn:
        L += ["### Many znodes", "", f"failed: {zn['error']}", ""]
    fo = ex.get("failover") or {}
    if fo and "error" not in fo:
        L += ["### Failover", "",
              "3-replica ensemble, tickTime 2000, 4 sessions x 4 setData in flight spread over the members "
              "(bin/zkload); kill -9 of the leader; time until the first write acknowledged with the new "
              "epoch in its zxid. Then the killed member is restarted and the next kill waits for a full ensemble.", "",
              "| system | kills | p50 ms | p90 ms | p99 ms | max ms | errors |", "|---|---|---|---|---|---|---|"]
        for kind, r in fo.items():
            d = r.get("failover_ms") or {}
            L.append(f"| {kind} | {r.get('kills')} | {d.get('p50', '–')} | {d.get('p90', '–')} | {d.get('p99', '–')} | "
                     f"{d.get('max', '–')} | {len(r.get('errors', []))} |")
        L.append("")
    elif fo:
        L += ["### Failover", "", f"failed: {fo['error']}", ""]
    ss = ex.get("sessions") or {}
    if ss and "error" not in ss:
        L += ["### Many sessions, each with a watch", "",
              "tools/bench/watchers.py: N sessions on raw sockets, each `exists(/zkw, watch)`; then one "
              "setData and the time until every session has its event.", "",
              "| sessions | system | connect + watch s | server RSS idle → with sessions | fan-out to all (p50 / last) ms |",
              "|---|---|---|---|---|"]
        for k, r in ss.items():
            n, kind = k.split("/")
            L.append(f"| {int(n):,} | {kind} | {r.get('connect_s')} | {mib(r.get('server_rss_bytes_idle'))} → "
                     f"{mib(r.get('server_rss_bytes'))} | {r.get('fanout_p50_ms')} / {r.get('fanout_ms')} |")
        L.append("")
    cu = ex.get("catchup")
    n = next((r.get("znodes") for r in (cu or {}).values() if isinstance(r, dict) and r.get("znodes")), 100000)
    L += [f"### Follower catch-up with {n * 10240 / 1e9:.2g} GB ({n:,} znodes of 10 KiB)", ""]
    if cu and "error" not in cu:
        L += ["Time from the follower's start to its being a follower at the leader's zxid (its own "
              "snapshot load included); how it synced, from its log:", "",
              "| system | DIFF case: down for 10,000 writes, s | SNAP case: empty data dir, s | sync used (follower's log) |",
              "|---|---|---|---|"]
        for kind, r in cu.items():
            how = " / ".join(("DIFF" if re.search(r"by DIFF|Getting a diff", ln) else "SNAP")
                             for ln in r.get("sync_log", [])[-2:])
            L.append(f"| {kind} | {r.get('diff_s')} | {r.get('snap_s')} | {how} |")
        L.append("")
    else:
        L += [f"Not run (opt-in: BENCH_CATCHUP=1){': ' + cu['error'] if cu else ''}.", ""]
    zf = ex.get("zkfs") or {}
    L += ["### zkfs", "",
          "Method, before/after figures and profiles: [benchmarks-zkfs.md](benchmarks-zkfs.md).", ""]
    if zf.get("text"):
        L += ["```", zf["text"].rstrip(), "```", ""]
    else:
        L += [zf.get("skipped", "Not run.") + (f" (exit {zf['exit']})" if "exit" in zf else ""), ""]
    return L


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: report.py OUT [--docs]")
    out = os.path.abspath(sys.argv[1])
    docs = "--docs" in sys.argv[2:]
    rows, ex, mi = load(out)
    cells = Cells(rows)
    others = [r.get("other_cpu_pct", 0) for r in rows if "error" not in r]
    loaded = (med(others) or 0) > 5 or mi.get("quick")
    plots = []
    for topo in ("standalone", "ensemble"):
        for metric, name, label in (("ops_per_s", "throughput", "ops/s"), ("p99_us", "p99", "p99 latency (ms)")):
            png = gnuplot(out, cells, topo, metric, f"{name}-{topo}", label)
            if png:
                plots.append((topo, label, png))
    img = "bench/" if docs else ""
    L = ["# Benchmarks", ""]
    L += ["<!-- Generated by tools/bench/report.py from the raw results of `make bench`; "
          "edit the generator, not this file. -->", ""]
    if loaded:
        L += ["> **Measured on a loaded machine, to be re-measured.** "
              f"Other processes used a median {med(others) or 0:.0f} % of the machine's CPU during the "
              "measured windows (column other_cpu_pct of results.csv)"
              + (", and this was a BENCH_QUICK smoke run" if mi.get("quick") else "") +
              ". Treat every figure below as indicative only.", ""]
    L += ["## How to run", "",
          "```sh",
          f"make bench                      # everything below ({fmt_dur(mi.get('duration_s'))} for this run); raw results and this report in bench-out/",
          "BENCH_QUICK=1 make bench        # smoke run, a few minutes",
          "BENCH_FILTER='standalone/zkload/set/' BENCH_PARTS=matrix make bench   # some cells only",
          "BENCH_DOCS=1 make bench         # also rewrite docs/benchmarks.md and docs/bench/ (plots, raw results)",
          "```", "",
          "Other knobs (tools/bench/bench.py): BENCH_SECS (window per cell), BENCH_REPS, BENCH_KILLS, "
          "BENCH_BIG=1 (10,000,000 znodes), BENCH_CATCHUP=1 (follower catch-up with 1 GB), BENCH_PARTS, "
          "BENCH_KINDS=zkserver and BENCH_ZKSERVER=PATH (A/B runs of two builds, as in "
          "docs/perf-notes.md).", "",
          "The raw results behind this page are in [bench/results.csv](bench/results.csv) (one row per "
          "cell and repetition), [bench/extras.json](bench/extras.json) and "
          "[bench/machine.json](bench/machine.json).", "",
          "## Machine and method", ""]
    L += [f"- Run {mi.get('started', '?')}, commit {mi.get('commit', '?')}, took {mi.get('duration_s', '?')} s"
          f"{' (BENCH_QUICK)' if mi.get('quick') else ''}; {mi.get('secs')} s measured per cell, "
          f"{mi.get('reps')} repetition(s).",
          f"- {mi.get('cores')} cores ({mi.get('cpu', '?')}), {mi.get('mem_gib')} GiB, {mi.get('os', '?')}, "
          f"kernel {mi.get('kernel', '?')}, data on {mi.get('fs', '?')}; load average at start "
          f"{' '.join(mi.get('loadavg_start', []))}.",
          f"- Apache ZooKeeper {mi.get('zookeeper', '?')} (Debian), {mi.get('java', '?')}, started as "
          "zkServer.sh does (QuorumPeerMain, the JVM's default heap and collector), warmed with ~30 s "
          "of load (set, get, create, mixed, multi, 10 KiB set, getChildren) before measuring. zkserver from this tree. Both with forceSync=yes, tickTime=2000, "
          "maxClientCnxns=0 (128 sessions come from one address; Apache's default of 60 would refuse "
          "them), admin server off; every other setting at its default.",
          "- Standalone: one server. Ensemble: three replicas on loopback; session i of a client "
          "connects to member i mod 3 (followers first), so 2/3 of the writes are forwarded.",
          "- Clients: `bin/zkload` (tools/bench/zkload.c, only Debian's official C client "
          f"libzookeeper_mt {mi.get('libzookeeper', '')}, none of the project's code) and `bin/zkbench` "
          "(the project's client library); both are the same closed-loop driver "
          "(tools/bench/loadgen.c): N sessions x D requests in flight, 0.5 s of load, then the "
          "measured window. zkload sets `zoo_set_servers_resolution_delay(-1)`: by default the C client "
          "resolves the host list on every wake-up, which costs it ~40 % of its CPU.",
          "- Cases: set / get / exists on one znode per session; create of new znodes (deleted after "
          "the cell); getChildren of a znode with 1,000 children; multi of 10 setData; mixed = 90 % "
          "getData + 10 % setData on one session. To fit 30 minutes (tools/bench/bench.py, CASES): "
          "every case at every load with 100 B values standalone; 10 KiB values for set, create, get "
          "and multi (exists and getChildren return no value); the ensemble runs set, create, get, multi "
          "and mixed (its reads are local, as standalone) and set with 10 KiB; bin/zkbench runs set, "
          "create and get standalone, set and create on the ensemble.",
          "- Server CPU µs/op: utime+stime (+ reaped children, i.e. zkserver's forked snapshot "
          "writers) of every member from /proc/PID/stat over the window, divided by the operations "
          "completed in it. Client CPU and the other processes' CPU over the same window are in "
          "results.csv (other_cpu_pct, other_top, loadavg1).",
          "- The two systems run alternately cell by cell (both deployments up; the order swaps every "
          "cell and repetition). Tables give the median over repetitions; `±x%` is half the "
          "(max − min) / median spread.",
          "- Client and servers share the same cores: at 8x16 and above the clients themselves use most "
          "of a core (zkload more than zkbench), so throughput is capped by the client as much as by "
          "the server; server CPU per operation is the figure to compare.", ""]
    L += ["## Targets (issue 13)", ""] + targets(cells, ex) + [""]
    L += ["## Where zkserver loses", ""]
    lo = losses(cells)
    L += (lo or (["Nowhere in this run."] if cells.g else ["No matrix cell ran in this run."])) + [""]
    L += ["See [perf-notes.md](perf-notes.md) for where zkserver's CPU goes and what would make it faster.", ""]
    for topo in ("standalone", "ensemble"):
        for client, desc in (("zkload", "bin/zkload (official C client)"), ("zkbench", "bin/zkbench (project client)")):
            t = matrix_table(cells, topo, client)
            if t:
                L += [f"## {topo.capitalize()}, {desc}", ""] + t + [""]
    if plots:
        L += ["## Plots", ""]
        for topo, label, png in plots:
            L += [f"![{topo} {label}]({img}{png})", ""]
    L += ["## Beside the matrix", ""] + extras_md(ex)
    if cells.failed:
        L += ["## Cells with errors", ""]
        for r in cells.failed[:40]:
            L.append(f"- {r.get('id')} {r.get('server')} rep {r.get('rep')}: "
                     f"{r.get('error') or str(r.get('errors')) + ' failed operations'}")
        L.append("")
    text = "\n".join(L)
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write(text.replace("(perf-notes.md)", f"({os.path.join(REPO, 'docs/perf-notes.md')})"))
    if docs:
        d = os.path.join(REPO, "docs", "bench")
        os.makedirs(d, exist_ok=True)
        for _t, _l, png in plots:
            shutil.copy(os.path.join(out, png), os.path.join(d, png))
        for raw in ("results.csv", "extras.json", "machine.json"):   # the figures behind the report
            if os.path.exists(os.path.join(out, raw)):
                shutil.copy(os.path.join(out, raw), os.path.join(d, raw))
        with open(os.path.join(REPO, "docs", "benchmarks.md"), "w") as f:
            f.write(text)
    print(f"report: {os.path.join(out, 'report.md')}" + (" and docs/benchmarks.md" if docs else ""))


if __name__ == "__main__":
    main()
