"""measure.py — running one load-client cell and measuring around it.

A cell is one run of bin/zkbench or bin/zkload against a deployment.  When the
client prints START and STOP (loadgen.h) this module samples the servers'
/proc/PID/stat (CPU of every member, including reaped children such as
zkserver's forked snapshot writer), the client's own, the machine's
/proc/stat and every other process on the machine, so a cell's record says
how much CPU the servers used per operation and how loaded the machine was
by others during the measured window.
"""
import json
import os
import subprocess
import time

from servers import PROCS, proc_cpu_ticks

CLK_TCK = os.sysconf("SC_CLK_TCK")


def machine_busy_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return sum(v[:8]) - idle


def all_process_ticks():
    """{pid: (name, ticks)} of every process on the machine."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
            name = s[s.index("(") + 1:s.rindex(")")]
            fields = s.rsplit(")", 1)[1].split()
            out[int(d)] = (name, int(fields[11]) + int(fields[12]))
        except (OSError, ValueError, IndexError):
            pass
    return out


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


class Sample:
    def __init__(self, server_pids, client_pid, scan_others=True):
        self.t = time.monotonic()
        self.server = sum(proc_cpu_ticks(p) or 0 for p in server_pids)
        self.client = proc_cpu_ticks(client_pid) or 0
        self.busy = machine_busy_ticks()
        self.others = all_process_ticks() if scan_others else {}
        self.load = loadavg()


def other_top(a, b, exclude, window_s, n=3):
    """The n busiest other processes between samples a and b, "name:pct%"."""
    deltas = []
    for pid, (name, t1) in b.others.items():
        if pid in exclude or pid not in a.others:
            continue
        d = t1 - a.others[pid][1]
        if d > 0:
            deltas.append((d, name))
    deltas.sort(reverse=True)
    return ",".join(f"{name}:{100.0 * d / CLK_TCK / window_s:.0f}%" for d, name in deltas[:n])


def run_client(argv, server_pids, log_path, timeout, on_line=None, scan_others=True):
    """Runs a load client; returns its RESULT record merged with the measured
    CPU and machine figures, or a record with "error"."""
    with open(log_path, "ab") as errf:
        errf.write(("$ " + " ".join(argv) + "\n").encode())
        errf.flush()
        p = PROCS.spawn(argv, stdout=subprocess.PIPE, stderr=errf, stdin=subprocess.DEVNULL,
                        text=True, bufsize=1)
    start = stop = None
    result = None
    deadline = time.monotonic() + timeout
    try:
        for line in p.stdout:
            if line.startswith("START"):
                start = Sample(server_pids, p.pid, scan_others)
            elif line.startswith("STOP"):
                stop = Sample(server_pids, p.pid, scan_others)
            elif line.startswith("RESULT "):
                result = json.loads(line[7:])
            if on_line:
                on_line(line, p)
            if time.monotonic() > deadline:
                break
        p.wait(timeout=max(1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        pass
    finally:
        PROCS.stop(p, wait=5)
    if result is None or start is None or stop is None:
        return {"error": f"client failed (exit {p.returncode}); see {log_path}"}
    if result["ops"] == 0:
        return {**result, "error": "no operation completed in the measured window (raise BENCH_SECS)"}
    w = max(stop.t - start.t, 1e-6)
    ops = result["ops"]
    server_s = (stop.server - start.server) / CLK_TCK
    client_s = (stop.client - start.client) / CLK_TCK
    busy_s = (stop.busy - start.busy) / CLK_TCK
    result.update({
        "server_cpu_us_per_op": round(server_s * 1e6 / ops, 2),
        "server_cpu_pct": round(100 * server_s / w, 1),
        "client_cpu_pct": round(100 * client_s / w, 1),
        "other_cpu_pct": round(max(0.0, 100 * (busy_s - server_s - client_s) / w), 1),
        "loadavg1": start.load,
        "other_top": other_top(start, stop, set(server_pids) | {p.pid}, w) if scan_others else "",
    })
    return result
