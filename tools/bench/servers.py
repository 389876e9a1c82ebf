"""servers.py — starting, probing and stopping the servers that `make bench`
compares: bin/zkserver and Apache ZooKeeper 3.8 (Debian's `zookeeper`), one
standalone server or a 3-replica ensemble on loopback, each member in its own
directory under the run's temp dir with free ports.

Apache runs as zkServer.sh starts it (QuorumPeerMain, the JVM's default heap
and collector: no -Xmx unless BENCH_APACHE_XMX is set), never with the small
heap and C1-only JIT the integration tests use.  Every process is started
with PR_SET_PDEATHSIG=SIGKILL, so none outlives bench.py even if bench.py is
killed with SIGKILL; Processes.stop_all() ends them by PID on a normal exit.
"""
import ctypes
import os
import re
import signal
import socket
import subprocess
import threading
import time

APACHE_CP = ":".join(["/usr/share/java/zookeeper.jar", "/usr/share/java/slf4j-log4j12.jar",
                      "/usr/share/java/log4j-1.2.jar"])
LOG4J = """log4j.rootLogger=INFO, OUT
log4j.appender.OUT=org.apache.log4j.ConsoleAppender
log4j.appender.OUT.layout=org.apache.log4j.PatternLayout
log4j.appender.OUT.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n
"""
_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Processes:
    """Every process bench.py starts, so that all are ended by PID."""

    def __init__(self):
        self.procs = []
        self.lock = threading.Lock()

    def spawn(self, argv, **kw):
        p = subprocess.Popen(argv, preexec_fn=_die_with_parent, **kw)
        with self.lock:
            self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, wait=15):
        if p.poll() is None:
            try:
                p.send_signal(sig)
                p.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
            except ProcessLookupError:
                pass
        with self.lock:
            if p in self.procs:
                self.procs.remove(p)

    def stop_all(self):
        with self.lock:
            procs = list(self.procs)
        for p in procs:
            self.stop(p, wait=10)


PROCS = Processes()


def free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def four_letter(port, word, timeout=3.0):
    """The whole reply to a four-letter word, or "" if none."""
    out = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(word.encode())
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
    except OSError:
        pass
    return out.decode("utf-8", "replace")


def mode_of(port):
    out = four_letter(port, "srvr", timeout=1.0)
    m = re.search(r"^Mode: (\w+)", out, re.M)
    if m:
        return m.group(1)
    return "none" if out else "down"


def zxid_of(port):
    m = re.search(r"^Zxid: (0x[0-9a-f]+)", four_letter(port, "srvr", timeout=1.0), re.M)
    return int(m.group(1), 16) if m else None


def proc_cpu_ticks(pid):
    """utime+stime+cutime+cstime of pid in clock ticks (None if gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15])
    except (OSError, IndexError, ValueError):
        return None


def rss_bytes(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def dir_bytes(path):
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


class Member:
    """One server process: its dir, zoo.cfg, ports, log."""

    def __init__(self, kind, directory, myid, cport, qport=None, eport=None):
        self.kind, self.dir, self.myid = kind, directory, myid
        self.cport, self.qport, self.eport = cport, qport, eport
        self.data = os.path.join(directory, "data")
        self.cfg = os.path.join(directory, "zoo.cfg")
        self.log = os.path.join(directory, "server.log")
        self.proc = None

    @property
    def pid(self):
        return self.proc.pid if self.proc and self.proc.poll() is None else None

    def start(self, repo, env_extra=None):
        logf = open(self.log, "ab")
        env = dict(os.environ)
        env.update(env_extra or {})
        if self.kind == "apache":
            with open(os.path.join(self.dir, "log4j.properties"), "w") as f:
                f.write(LOG4J)
            argv = ["java", f"-Dzookeeper.log.dir={self.dir}",
                    f"-Dlog4j.configuration=file:{self.dir}/log4j.properties",
                    "-XX:OnOutOfMemoryError=kill -9 %p"]
            if os.environ.get("BENCH_APACHE_XMX"):
                argv.append("-Xmx" + os.environ["BENCH_APACHE_XMX"])
            argv += ["-cp", APACHE_CP, "org.apache.zookeeper.server.quorum.QuorumPeerMain", self.cfg]
        else:
            argv = [os.environ.get("BENCH_ZKSERVER") or os.path.join(repo, "bin/zkserver"), self.cfg]
        self.started_at = time.monotonic()
        self.proc = PROCS.spawn(argv, stdout=logf, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL, cwd=self.dir)
        logf.close()

    def stop(self, sig=signal.SIGTERM):
        if self.proc:
            PROCS.stop(self.proc, sig=sig)
            self.proc = None

    def kill9(self):
        self.stop(sig=signal.SIGKILL)


class Deployment:
    """A standalone server (n=1) or an n-replica ensemble of one kind."""

    def __init__(self, kind, n, root, repo, extra_cfg=()):
        self.kind, self.n, self.repo = kind, n, repo
        self.name = f"{kind}-{'standalone' if n == 1 else f'ensemble{n}'}"
        self.root = os.path.join(root, self.name + f"-{int(time.monotonic() * 1000) % 100000}")
        ports = free_ports(3 * n)
        self.members = []
        for i in range(n):
            d = os.path.join(self.root, f"m{i + 1}")
            os.makedirs(os.path.join(d, "data"))
            self.members.append(Member(kind, d, i + 1, *ports[3 * i:3 * i + 3]))
        for m in self.members:
            lines = ["tickTime=2000", "initLimit=10", "syncLimit=5", f"dataDir={m.data}",
                     f"clientPort={m.cport}", "clientPortAddress=127.0.0.1",
                     # 128 sessions come from one address; the default of 60 would refuse them
                     "maxClientCnxns=0", "forceSync=yes",
                     "4lw.commands.whitelist=*", "admin.enableServer=false"]
            lines += list(extra_cfg)
            if n > 1:
                with open(os.path.join(m.data, "myid"), "w") as f:
                    f.write(f"{m.myid}\n")
                for o in self.members:
                    lines.append(f"server.{o.myid}=127.0.0.1:{o.qport}:{o.eport}")
            with open(m.cfg, "w") as f:
                f.write("\n".join(lines) + "\n")

    def start(self, timeout=120):
        for m in self.members:
            m.start(self.repo)
        if not self.wait_ready(timeout):
            raise RuntimeError(f"{self.name} did not become ready: {self.modes()}")

    def modes(self):
        return [mode_of(m.cport) if m.pid else "dead" for m in self.members]

    def wait_ready(self, timeout=120):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            modes = self.modes()
            if self.n == 1 and modes == ["standalone"]:
                return True
            if self.n > 1 and modes.count("leader") == 1 and modes.count("follower") == self.n - 1:
                return True
            for m in self.members:
                if m.proc and m.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} member {m.myid} died; see {m.log}")
            time.sleep(0.1)
        return False

    def leader(self):
        for m in self.members:
            if m.pid and mode_of(m.cport) == "leader":
                return m
        return None

    def connect_string(self):
        """Followers first: session i of a load client goes to member i mod n."""
        order = sorted(self.members, key=lambda m: mode_of(m.cport) == "leader")
        return ",".join(f"127.0.0.1:{m.cport}" for m in order)

    def pids(self):
        return [m.pid for m in self.members if m.pid]

    def stop(self):
        for m in self.members:
            m.stop()
