#!/usr/bin/python3
"""chaos.py - Jepsen-style randomized fault schedules against a real
zkserver ensemble, every replica and client in its own network namespace
(docs/chaos-testing.md).

    test/chaos/chaos.py [--seconds S | --schedules N] [--seed SEED]
                        [--duration D] [--server BIN] [--keep]

Environment (used by `make chaos`, which first runs the torn-tail test at
every byte offset and every disk-fault scenario unless CHAOS_SKIP_FIXED=1):
CHAOS_SECONDS (default 600: run
schedules until that much time is used), CHAOS_SCHEDULES (run exactly N),
CHAOS_SEED (the first schedule's seed; schedule k has seed SEED+k; default
from the clock), CHAOS_DURATION (seconds of faults and load per schedule,
default 40), CHAOS_SAN=1 (bin/zkserver-san), CHAOS_KEEP=1 (keep the run
directory even when everything passed).

Each schedule: 3 fresh replicas; kazoo and chaos-client workloads in the
three client namespaces; a random sequence of nemeses (partitions of every
shape, one-way loss, packet loss, delay and reordering, flapping links,
kill -9, SIGSTOP/SIGCONT, whole-ensemble crash, disk faults through the
LD_PRELOAD shim); then everything is healed, the ensemble must recover,
and the checkers (checkers.py) run over the histories and the final state
of every replica.  Every schedule prints its seed and the command that
replays it (the same faults and workload choices; process timing differs).
Exit status 1 if any schedule found an anomaly; its directory (histories,
server logs, schedule) is kept and named.  The run's totals stay in
/tmp/zkchaos.*/summary.json.
"""

import argparse
import ctypes
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "test", "integration"))

import logging  # noqa: E402

import checkers  # noqa: E402
import netns  # noqa: E402

logging.getLogger("kazoo").setLevel(logging.CRITICAL)

N = 3
TICK_MS = 300
CLIENT_PORT = 2181
SHIM = os.path.join(REPO, "build", "chaos", "libfaultfs.so")
DELAYER = os.path.join(REPO, "build", "chaos", "nfq-delay")
CCLIENT = os.path.join(REPO, "build", "chaos", "chaos-client")
WORKLOAD = os.path.join(HERE, "workload.py")
PY = "/usr/bin/python3"

NEMESES = ["isolate-leader", "split", "bridge", "one-way", "loss", "delay", "flap", "kill9",
           "pause-leader", "crash-all", "disk-eio", "disk-enospc", "disk-slow", "disk-short",
           "client-partition"]


INTERRUPTED = threading.Event()


def now_ns():
    return time.monotonic_ns()


def pause(secs):
    """Sleeps; a SIGTERM/SIGINT ends the run from here (the handler only
    sets INTERRUPTED: raising from inside a library call could be lost)."""
    if INTERRUPTED.wait(secs):
        raise KeyboardInterrupt

die_with_parent = netns.die_with_parent


def enter_netns(name):
    """Moves this (still single-threaded) process into namespace `name`."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    if libc.setns(fd, 0x40000000) != 0:       # CLONE_NEWNET
        raise OSError(ctypes.get_errno(), "setns")
    os.close(fd)


def four_letter(addr, word, timeout=2.0):
    try:
        with socket.create_connection((addr, CLIENT_PORT), timeout=timeout) as s:
            s.sendall(word.encode())
            out = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
            return out.decode("utf-8", "replace")
    except OSError:
        return ""


class Replica:
    def __init__(self, run, i):
        self.run, self.i = run, i
        self.dir = os.path.join(run.dir, f"r{i}")
        self.data = os.path.join(self.dir, "data")
        self.ctl = os.path.join(self.dir, "faults.ctl")
        self.log = os.path.join(self.dir, "server.log")
        self.proc = None
        self.expect_exit = False     # a nemesis stopped or will stop it
        os.makedirs(self.data, exist_ok=True)
        with open(os.path.join(self.data, "myid"), "w") as f:
            f.write(f"{i}\n")
        open(self.ctl, "w").close()
        lines = [f"tickTime={TICK_MS}", "initLimit=10", "syncLimit=5", f"dataDir={self.data}",
                 f"clientPort={CLIENT_PORT}", f"clientPortAddress={netns.Network.raddr(i)}",
                 "4lw.commands.whitelist=*", "admin.enableServer=false", "snapCount=300",
                 "maxClientCnxns=200"]
        lines += [f"server.{j}={netns.Network.raddr(j)}:2888:3888" for j in range(1, N + 1)]
        with open(os.path.join(self.dir, "zoo.cfg"), "w") as f:
            f.write("\n".join(lines) + "\n")

    @property
    def addr(self):
        return netns.Network.raddr(self.i)

    def start(self):
        if self.running():
            return
        env = dict(os.environ, LD_PRELOAD=SHIM, FAULTFS_CTL=self.ctl, FAULTFS_MATCH=self.data + "/",
                   ASAN_OPTIONS="detect_leaks=1:verify_asan_link_order=0",
                   UBSAN_OPTIONS="print_stacktrace=1")
        with open(self.log, "a") as f:
            f.write(f"---- start {time.strftime('%H:%M:%S')}\n")
        logf = open(self.log, "a")
        self.proc = subprocess.Popen(self.run.net.exec_cmd(self.run.net.rns(self.i),
                                                           [self.run.server, os.path.join(self.dir, "zoo.cfg")]),
                                     stdout=logf, stderr=subprocess.STDOUT, env=env,
                                     preexec_fn=die_with_parent)
        logf.close()
        self.expect_exit = False

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def kill9(self):
        self.expect_exit = True
        if self.running():
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc is None:
            return
        self.expect_exit = True
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def set_faults(self, words):
        with open(self.ctl, "w") as f:
            f.write(words + "\n")

    def mode(self):
        out = four_letter(self.addr, "srvr")
        for line in out.splitlines():
            if line.startswith("Mode: "):
                return line[6:].strip()
        return "none" if "not currently serving" in out else "down"


class Schedule:
    """One seed: the ensemble, the workloads, the nemeses and the checks."""

    def __init__(self, run, seed, duration):
        self.run, self.seed, self.duration = run, seed, duration
        self.server = run.server
        self.rnd = random.Random(seed)
        self.dir = os.path.join(run.root, f"seed-{seed}")
        os.makedirs(self.dir)
        self.net = run.net
        self.replicas = []
        self.workers = []        # (name, Popen, outfile, kind)
        self.faults = []         # (t, kind, detail)
        self.anomalies = []
        self.counts = {}
        self.absent_since = {}
        self.present_until = {}
        self.monitor_stop = threading.Event()

    # ---- helpers ---------------------------------------------------------------
    def log(self, msg):
        line = f"[chaos seed={self.seed} +{time.monotonic() - self.t_start:5.1f}s] {msg}"
        print(line, flush=True)
        with open(os.path.join(self.dir, "schedule.log"), "a") as f:
            f.write(line + "\n")

    def hosts(self, first=None):
        order = list(range(1, N + 1))
        if first:
            order.remove(first)
            order.insert(0, first)
        return ",".join(f"{netns.Network.raddr(i)}:{CLIENT_PORT}" for i in order)

    def leader(self):
        for r in self.replicas:
            if r.running() and r.mode() == "leader":
                return r
        return None

    def wait_ready(self, secs):
        deadline = time.monotonic() + secs
        while time.monotonic() < deadline:
            modes = [r.mode() for r in self.replicas]
            if modes.count("leader") == 1 and modes.count("follower") == N - 1:
                return True
            pause(0.3)
        return False

    def modes(self):
        return " ".join(f"{r.i}={r.mode()}" for r in self.replicas)

    def anomaly(self, msg):
        self.anomalies.append(msg)
        self.log("ANOMALY: " + msg)

    # ---- workloads ---------------------------------------------------------------
    def start_workloads(self):
        d = self.duration + 6
        plan = []
        for c in range(1, N + 1):
            plan.append(("kreg", c, [PY, WORKLOAD, "register"], "4"))
            plan.append(("creg", c, [CCLIENT, "register"], "4"))
            plan.append(("watch", c, [CCLIENT, "watch"], None))
        plan += [("uniq", 1, [PY, WORKLOAD, "uniq"], "200"), ("wwriter", 1, [PY, WORKLOAD, "wwriter"], "0"),
                 ("queue", 2, [PY, WORKLOAD, "queue"], "0"), ("fifo", 2, [PY, WORKLOAD, "fifo"], "0"),
                 ("queue", 3, [PY, WORKLOAD, "queue"], "0"), ("eph", 3, [PY, WORKLOAD, "eph"], "0")]
        for n, (kind, c, argv, arg) in enumerate(plan):
            name = f"{kind}{c}n{n}"
            out = os.path.join(self.dir, f"h-{name}.jsonl" if kind != "watch" else f"w-{name}.txt")
            hosts = self.hosts(first=c)
            wseed = str(self.rnd.randrange(1 << 30))
            if kind == "watch":
                args = argv + [hosts, "/chaos/w", out, str(d)]
            elif kind == "creg":
                args = argv + [hosts, arg, out, str(d), wseed, name]
            else:
                args = argv + [hosts, out, str(d), wseed, name, arg]
            p = subprocess.Popen(self.net.exec_cmd(self.net.cns(c), args), stdout=subprocess.DEVNULL,
                                 stderr=open(out + ".err", "w"), preexec_fn=die_with_parent)
            self.workers.append((name, p, out, kind))

    def stop_workloads(self):
        for _, p, _, _ in self.workers:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for name, p, _, _ in self.workers:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.anomaly(f"workload {name} did not stop within 20 s of SIGTERM (hung client)")
                p.kill()
                p.wait()

    # ---- the ephemeral monitor -------------------------------------------------------
    def monitor(self):
        from ensemble_util import connect
        seen = set()
        zk = None
        while not self.monitor_stop.is_set():
            try:
                if zk is None:
                    zk = connect(self.hosts(), timeout=4.0)
                kids = set(zk.get_children("/chaos/eph"))
                t = now_ns()
                for k in kids:
                    seen.add(k)
                    self.present_until["/chaos/eph/" + k] = t
                for k in seen - kids:
                    self.absent_since.setdefault("/chaos/eph/" + k, t)
            except Exception:  # noqa: BLE001 - reconnect and go on
                try:
                    if zk:
                        zk.stop()
                        zk.close()
                except Exception:  # noqa: BLE001
                    pass
                zk = None
                time.sleep(0.2)
            time.sleep(0.2)
        if zk:
            try:
                zk.stop()
                zk.close()
            except Exception:  # noqa: BLE001
                pass

    # ---- nemeses -------------------------------------------------------------
    def client_addrs_near(self, replica_addrs):
        idx = {netns.Network.raddr(i): i for i in range(1, N + 1)}
        return {netns.Network.caddr(idx[a]) for a in replica_addrs}

    def sides_with_clients(self, sides):
        return [set(s) | self.client_addrs_near(s) for s in sides]

    def nemesis(self, kind, length):
        """Applies one fault; returns a function that heals it."""
        rnd = self.rnd
        addrs = [r.addr for r in self.replicas]
        leader = self.leader()
        target = leader or rnd.choice(self.replicas)
        net = self.net
        if kind == "isolate-leader":
            rest = [a for a in addrs if a != target.addr]
            net.partition(self.sides_with_clients([{target.addr}, set(rest)]))
            return f"isolate leader {target.i}", net.heal
        if kind == "split":
            shuffled = addrs[:]
            rnd.shuffle(shuffled)
            k = rnd.randint(1, N - 1)
            sides = [set(shuffled[:k]), set(shuffled[k:])]
            net.partition(self.sides_with_clients(sides))
            return f"split {sorted(sides[0])} | {sorted(sides[1])}", net.heal
        if kind == "bridge":
            shuffled = addrs[:]
            rnd.shuffle(shuffled)
            net.partition(self.sides_with_clients([{shuffled[0]}, {shuffled[1]}]))
            return f"bridge {shuffled[2]} between {shuffled[0]} and {shuffled[1]}", net.heal
        if kind == "one-way":
            src = target.addr if rnd.random() < 0.5 else rnd.choice(addrs)
            dsts = [a for a in addrs if a != src]
            if rnd.random() < 0.5:
                dsts = [rnd.choice(dsts)]
            net.cut_one_way([(src, d) for d in dsts])
            return f"one-way loss {src} -> {dsts}", net.heal
        if kind == "loss":
            a = rnd.choice(addrs)
            pct = rnd.choice([10, 25, 40])
            net.loss(a, pct)
            return f"{pct}% packet loss from {a}", net.heal
        if kind == "delay":
            a = rnd.choice(addrs)
            d, j = rnd.choice([(30, 20), (100, 80), (250, 200)])
            net.delay(a, d, j, rnd.choice([0, 0, 5]), rnd.randrange(1 << 30))
            return f"delay {d}+-{j} ms (reordering) from {a}", net.heal
        if kind == "flap":
            shuffled = addrs[:]
            rnd.shuffle(shuffled)
            sides = self.sides_with_clients([{shuffled[0]}, set(shuffled[1:])])
            period = rnd.choice([0.3, 0.7, 1.5])
            stop = threading.Event()

            def flapper():
                on = False
                while not stop.wait(period):
                    on = not on
                    if on:
                        net.partition(sides)
                    else:
                        net.heal()
                net.heal()
            t = threading.Thread(target=flapper, daemon=True)
            t.start()

            def heal():
                stop.set()
                t.join()
            return f"flap {shuffled[0]} every {period} s", heal
        if kind == "kill9":
            r = target if rnd.random() < 0.5 else rnd.choice(self.replicas)
            r.kill9()

            def heal():
                r.start()
            return f"kill -9 {r.i}", heal
        if kind == "pause-leader":
            target.signal(signal.SIGSTOP)
            return f"SIGSTOP {target.i}", lambda: target.signal(signal.SIGCONT)
        if kind == "crash-all":
            for r in self.replicas:
                r.kill9()
            pause(rnd.uniform(0.2, 1.5))
            for r in self.replicas:
                r.start()
            return "kill -9 of every replica, all restarted", lambda: None
        if kind.startswith("disk-"):
            r = target if rnd.random() < 0.5 else rnd.choice(self.replicas)
            words = {"disk-eio": "fsync=eio only=log.", "disk-enospc": "write=enospc",
                     "disk-slow": f"fsync_delay_ms={rnd.choice([500, 1500, 3000])} only=log.",
                     "disk-short": "short=1"}[kind]
            if kind in ("disk-eio", "disk-enospc"):
                r.expect_exit = True     # it must stop (exit 3)
            r.set_faults(words)

            def heal():
                r.set_faults("")
                if kind in ("disk-eio", "disk-enospc"):
                    if r.running():
                        # No batch of it failed meanwhile: it goes on.
                        r.expect_exit = False
                    elif r.proc is not None and r.proc.returncode not in (3, -9):
                        self.anomaly(f"replica {r.i} exited with status {r.proc.returncode} after "
                                     f"{kind}, expected 3 (FATAL log failure)")
                    r.start()
            return f"{kind} on {r.i} ({words})", heal
        if kind == "client-partition":
            # The eph session's client namespace loses every replica for
            # longer than the session timeout.
            c = netns.Network.caddr(3)
            net.cut([(c, a) for a in addrs])
            return "client c3 cut from every replica", net.heal
        raise ValueError(kind)

    def run_nemeses(self):
        end = time.monotonic() + self.duration
        pause(2.0)
        short = self.run.args.short
        while time.monotonic() < end - 3:
            kind = self.rnd.choice(NEMESES)
            length = self.rnd.uniform(1.0, 3.0) if short else self.rnd.uniform(1.5, 7.0)
            if kind == "client-partition":
                length = self.rnd.uniform(5.5, 6.5) if short else self.rnd.uniform(6.0, 9.0)
            length = min(length, max(0.5, end - time.monotonic() - 1))
            what, heal = self.nemesis(kind, length)
            self.faults.append((round(time.monotonic() - self.t_start, 1), kind, what))
            self.log(f"fault: {what} for {length:.1f} s")
            pause(length)
            heal()
            self.check_unexpected_exits()
            pause(self.rnd.uniform(0.3, 1.0) if short else self.rnd.uniform(0.5, 2.5))

    def check_unexpected_exits(self):
        for r in self.replicas:
            if r.proc is not None and r.proc.poll() is not None and not r.expect_exit:
                self.anomaly(f"replica {r.i} died (status {r.proc.returncode}) without a nemesis")
                r.expect_exit = True

    # ---- final state and checks ----------------------------------------------------
    def read_final(self):
        from ensemble_util import connect, sync_all
        trees, finals = {}, {}
        for r in self.replicas:
            if INTERRUPTED.is_set():
                raise KeyboardInterrupt
            try:
                zk = connect(f"{r.addr}:{CLIENT_PORT}", timeout=8.0)
                # Every replica must take a write and a sync after recovery.
                zk.create(f"/chaos-probe-{r.i}-", b"", sequence=True, ephemeral=True)
                sync_all(zk)
                nodes = {}
                todo = ["/chaos"]
                while todo:
                    batch, todo = todo[:300], todo[300:]
                    asks = [(p, zk.get_async(p), zk.get_children_async(p)) for p in batch]
                    for p, g, c in asks:
                        data, st = g.get(timeout=20)
                        kids = c.get(timeout=20)
                        nodes[p] = (data.decode("utf-8", "replace"), st)
                        todo += [p + "/" + k for k in kids]
                zk.stop()
                zk.close()
            except Exception as e:  # noqa: BLE001
                self.anomaly(f"final read through replica {r.i} failed: {type(e).__name__}: {e}")
                continue
            trees[r.i] = sorted(f"{p} {d!r} czxid={st.czxid:x} mzxid={st.mzxid:x} v={st.version} "
                                f"cv={st.cversion} eph={st.ephemeralOwner:x}" for p, (d, st) in nodes.items())
            finals[r.i] = nodes
        return trees, finals

    def load(self, kind_filter):
        ops = []
        for name, _, out, kind in self.workers:
            if kind not in kind_filter:
                continue
            try:
                with open(out) as f:
                    for line in f:
                        line = line.strip()
                        if line:
                            try:
                                ops.append(json.loads(line))
                            except json.JSONDecodeError:
                                pass   # a line cut by a kill
            except OSError:
                pass
        return ops

    def check(self, trees, finals):
        def note(name, result):
            anomalies, n = result
            self.counts[name] = n
            for a in anomalies:
                self.anomaly(f"{name}: {a}")
        note("replicas identical", checkers.replicas_identical(trees))
        if not finals:
            return
        nodes = finals[min(finals)]
        reg = self.load({"kreg", "creg"})
        final_values = {p.rsplit("/", 1)[1]: (d, st.version) for p, (d, st) in nodes.items()
                        if p.startswith("/chaos/reg/")}
        note("register linearizable", checkers.register_linearizable(reg, final_values))
        note("session order", checkers.session_order(reg))
        uniq_nodes = {p: d for p, (d, st) in nodes.items() if p.startswith("/chaos/uniq/")}
        note("unique creates", checkers.unique_creates(self.load({"uniq"}), uniq_nodes))
        q_nodes = {p: d for p, (d, st) in nodes.items() if p.startswith("/chaos/queue/")}
        note("queue", checkers.queue(self.load({"queue"}), q_nodes))
        note("fifo", checkers.fifo(self.load({"fifo"})))
        czxid = {p: st.czxid for p, (d, st) in nodes.items() if p.startswith("/chaos/w/")}
        wops = self.load({"wwriter"})
        for o in wops:
            if o["ok"] is True and o["path"] not in czxid:
                self.anomaly(f"watch feed: acknowledged create {o['path']} lost")
        watch_files = {}
        for name, _, out, kind in self.workers:
            if kind == "watch":
                try:
                    with open(out) as f:
                        watch_files[name] = f.read().splitlines()
                except OSError:
                    watch_files[name] = []
        note("watch streams", checkers.watch_streams(watch_files, czxid))
        logs = {}
        for r in self.replicas:
            with open(r.log, errors="replace") as f:
                logs[r.i] = f.read()
        with open(os.path.join(self.dir, "monitor.json"), "w") as f:
            json.dump({"absent_since_ns": self.absent_since, "leader_starts_ns": self.leader_starts(logs),
                       "serving_epochs_ns": self.serving_epochs(logs),
                       "present_until_ns": self.present_until}, f)
        final_eph = {p for p in nodes if p.startswith("/chaos/eph/")}
        note("ephemerals", checkers.ephemerals(self.load({"eph"}), self.absent_since, final_eph,
                                               self.leader_starts(logs), serving=self.serving_epochs(logs),
                                               present_until=self.present_until))
        note("leaders", checkers.leaders(logs))
        for i, text in logs.items():
            if "ERROR: AddressSanitizer" in text or "ERROR: LeakSanitizer" in text or "runtime error:" in text:
                self.anomaly(f"sanitizer report in replica {i}'s log")

    # ---- the whole schedule --------------------------------------------------------
    def leader_starts(self, logs):
        """Monotonic ns of every 'leading epoch N with a synced quorum' line
        (server logs carry local wall-clock times with ms)."""
        out = []
        for text in logs.values():
            for m in re.finditer(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) \[zkserver\] INFO - leading epoch",
                                 text, re.M):
                wall = time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) + int(m.group(2)) / 1000
                out.append(self.mono0 + int((wall - self.wall0) * 1e9))
        return out

    def wall_to_mono(self, date, ms):
        wall = time.mktime(time.strptime(date, "%Y-%m-%d %H:%M:%S")) + int(ms) / 1000
        return self.mono0 + int((wall - self.wall0) * 1e9)

    def serving_epochs(self, logs):
        """Replica address -> [(monotonic ns, epoch it serves from then, or
        None: it stopped serving)] from the server logs: 'leading epoch N
        with a synced quorum' and 'synced with leader L' (in the epoch of
        the role line before it) start serving, every role line ('looking
        (leader L, epoch N)', 'following ...') ends it."""
        line = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) \[zkserver\] INFO - (?:"
                          r"leading epoch (\d+) with a synced quorum|(synced with leader \d+ by)|"
                          r"(?:looking|following|leading|observing) \(leader -?\d+, epoch (\d+)\))", re.M)
        out = {}
        for r in self.replicas:
            ev, role_epoch = [], None
            for m in line.finditer(logs.get(r.i, "")):
                t = self.wall_to_mono(m.group(1), m.group(2))
                if m.group(3):
                    ev.append((t, int(m.group(3))))
                elif m.group(4):
                    ev.append((t, role_epoch))
                else:
                    role_epoch = int(m.group(5))
                    ev.append((t, None))
            out[r.addr] = ev
        return out

    def execute(self):
        self.t_start = time.monotonic()
        self.wall0, self.mono0 = time.time(), time.monotonic_ns()
        self.log(f"start: {N} replicas ({self.run.server_name}), {self.duration} s of faults; "
                 f"replay: {self.run.replay_cmd(self.seed)}")
        self.replicas = [Replica(self, i) for i in range(1, N + 1)]
        # Replica dirs live in the schedule dir.
        for r in self.replicas:
            r.start()
        try:
            if not self.wait_ready(60):
                self.anomaly(f"the ensemble did not form within 60 s: {self.modes()}")
                return
            self.setup_tree()
            self.start_workloads()
            mon = threading.Thread(target=self.monitor, daemon=True)
            mon.start()
            self.run_nemeses()
            self.net.heal()
            for r in self.replicas:
                r.set_faults("")
                r.signal(signal.SIGCONT)
                if not r.running():
                    r.start()
            healed = time.monotonic()
            if not self.wait_ready(60):
                self.anomaly(f"no recovery within 60 s after healing everything: {self.modes()}")
            else:
                self.recovery_s = round(time.monotonic() - healed, 1)
                self.log(f"recovered {self.recovery_s} s after the last heal: {self.modes()}")
            pause(2.5)        # load on a healed ensemble
            self.stop_workloads()
            self.monitor_stop.set()
            mon.join(timeout=10)
            self.check_unexpected_exits()
            trees, finals = self.read_final()
            self.check(trees, finals)
        finally:
            for _, p, _, _ in self.workers:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            for r in self.replicas:
                if INTERRUPTED.is_set():
                    r.kill9()
                    continue
                r.stop()
                if r.proc is not None and r.proc.returncode not in (0, -9, 3, -15, None) and not r.expect_exit:
                    self.anomaly(f"replica {r.i} exited with status {r.proc.returncode} at the end")

    def setup_tree(self):
        from ensemble_util import connect
        zk = connect(self.hosts(), timeout=8.0)
        for p in ("/chaos/reg", "/chaos/uniq", "/chaos/queue", "/chaos/eph", "/chaos/w", "/chaos/fifo"):
            zk.ensure_path(p)
        for k in range(4):
            zk.create(f"/chaos/reg/k{k}", b"0")
        zk.stop()
        zk.close()

    def summary(self):
        ops = sum(v for k, v in self.counts.items())
        return {"seed": self.seed, "faults": [f[1] for f in self.faults], "checked": dict(self.counts),
                "recovery_s": getattr(self, "recovery_s", None),
                "operations": ops, "anomalies": list(self.anomalies),
                "seconds": round(time.monotonic() - self.t_start, 1)}


class Run:
    def __init__(self, args):
        self.args = args
        self.server = args.server
        self.server_name = os.path.basename(self.server)
        self.root = tempfile.mkdtemp(prefix="zkchaos.", dir="/tmp")
        self.net = None

    def replay_cmd(self, seed):
        san = " CHAOS_SAN=1" if self.server_name.endswith("-san") else ""
        short = " --short" if self.args.short else ""
        return (f"CHAOS_SEED={seed} CHAOS_SCHEDULES=1 CHAOS_DURATION={self.args.duration:g}{san}"
                f" CHAOS_SKIP_FIXED=1 make chaos   (or: test/chaos/chaos.py --seed {seed} --schedules 1"
                f" --duration {self.args.duration:g}{short} --server {self.server})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get
    ap.add_argument("--seconds", type=float, default=float(env("CHAOS_SECONDS", "600")))
    ap.add_argument("--schedules", type=int, default=int(env("CHAOS_SCHEDULES", "0")))
    ap.add_argument("--seed", type=int, default=int(env("CHAOS_SEED", "0")) or int(time.time()) % 1000000)
    ap.add_argument("--duration", type=float, default=float(env("CHAOS_DURATION", "40")))
    ap.add_argument("--server", default=os.path.join(REPO, "bin", "zkserver-san" if env("CHAOS_SAN") == "1"
                                                     else "zkserver"))
    ap.add_argument("--keep", action="store_true", default=env("CHAOS_KEEP") == "1")
    ap.add_argument("--short", action="store_true", help="shorter faults and pauses (make test)")
    ap.add_argument("--clean-passed", action="store_true",
                    help="remove the run's directory (summary.json) when every schedule passed (make test)")
    args = ap.parse_args()
    for tool in (args.server, SHIM, DELAYER, CCLIENT):
        if not os.path.exists(tool):
            print(f"chaos: {tool} is missing (make chaos builds it)", file=sys.stderr)
            return 2
    if os.geteuid() != 0:
        print("chaos: needs root (network namespaces)", file=sys.stderr)
        return 2
    run = Run(args)
    tag = netns.make_tag()
    run.net = netns.Network(tag, N, delayer=DELAYER)

    def on_signal(sig, frame):
        INTERRUPTED.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    results = []
    started = time.monotonic()
    failed = False
    try:
        run.net.create()
        enter_netns(run.net.ctl)
        k = 0
        while True:
            if INTERRUPTED.is_set():
                raise KeyboardInterrupt
            if args.schedules and k >= args.schedules:
                break
            if not args.schedules and time.monotonic() - started + args.duration + 25 > args.seconds and k > 0:
                break
            seed = args.seed + k
            k += 1
            run.net.heal()
            sch = Schedule(run, seed, args.duration)
            try:
                sch.execute()
            except KeyboardInterrupt:
                raise
            except Exception as e:  # noqa: BLE001 - a broken schedule is an anomaly, not a crash
                if INTERRUPTED.is_set():
                    raise KeyboardInterrupt
                sch.anomaly(f"the schedule itself failed: {type(e).__name__}: {e}")
            if INTERRUPTED.is_set():
                raise KeyboardInterrupt
            s = sch.summary()
            results.append(s)
            verdict = "ok" if not s["anomalies"] else f"{len(s['anomalies'])} ANOMALIES"
            print(f"schedule {k} seed={seed}: {len(s['faults'])} faults, {s['operations']} checks, "
                  f"{verdict} ({s['seconds']} s); replay: {run.replay_cmd(seed)}", flush=True)
            if s["anomalies"]:
                failed = True
                print(f"  kept: {sch.dir}", flush=True)
            else:
                if not args.keep:
                    shutil.rmtree(sch.dir, ignore_errors=True)
    except KeyboardInterrupt:
        print("chaos: interrupted", flush=True)
        failed = True
    finally:
        run.net.destroy()
    left = netns.leftover_namespaces(tag)
    if left:
        print(f"chaos: namespaces left behind: {left}", file=sys.stderr)
        failed = True
    faults = {}
    for s in results:
        for f in s["faults"]:
            faults[f] = faults.get(f, 0) + 1
    total_ops = sum(s["operations"] for s in results)
    total_anom = sum(len(s["anomalies"]) for s in results)
    checks = {}
    for s in results:
        for name, n in s["checked"].items():
            checks[name] = checks.get(name, 0) + n
    recoveries = [s["recovery_s"] for s in results if s.get("recovery_s") is not None]
    summary = {"schedules": len(results), "faults": sum(faults.values()), "faults_by_kind": faults,
               "max_recovery_s": max(recoveries) if recoveries else None,
               "checks": checks, "operations_checked": total_ops, "anomalies": total_anom,
               "seconds": round(time.monotonic() - started), "server": run.server_name,
               "first_seed": args.seed}
    with open(os.path.join(run.root, "summary.json"), "w") as f:
        json.dump({"summary": summary, "schedules": results}, f, indent=1)
    print(f"chaos: {len(results)} schedules, {summary['faults']} faults "
          f"({', '.join(f'{k} {v}' for k, v in sorted(faults.items()))}), "
          f"{total_ops} operations and states checked, {total_anom} anomalies, "
          f"{summary['seconds']} s; summary in {run.root}/summary.json")
    print(f"chaos: {len(results) - sum(1 for s in results if s['anomalies'])} passed, "
          f"{sum(1 for s in results if s['anomalies'])} failed")
    if args.clean_passed and not failed and not args.keep:
        shutil.rmtree(run.root, ignore_errors=True)   # make test leaves no temp dir behind
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
