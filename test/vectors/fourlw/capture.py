#!/usr/bin/python3
"""capture.py - records the raw four-letter-word output of a real Apache
ZooKeeper 3.8 (the Debian package) for docs/fourlw-formats.md.

Starts ZooKeeper standalone (QuorumPeerMain with a temp zoo.cfg) on a free
loopback port, connects kazoo, creates persistent + ephemeral znodes and sets
watches, then sends every word and saves the bytes to OUTDIR/<word>.txt.
A second run with the default whitelist records the "not in the whitelist"
replies as OUTDIR/notwhitelisted-<word>.txt.

With --ensemble it instead starts a 3-server ensemble (1 and 2 voters, 3 an
observer): it records words from server 1 alone while it is LOOKING (the
"not currently serving requests" replies) as OUTDIR/looking-<word>.txt, then
from the leader, the follower and the observer as
OUTDIR/<role>-<word>.txt.

Usage: /usr/bin/python3 capture.py [--ensemble] OUTDIR   (bounded: ~90 s max)
"""
import os, shutil, signal, socket, subprocess, sys, tempfile, time

WORDS = ["ruok", "srvr", "stat", "mntr", "conf", "cons", "crst", "srst",
         "wchs", "wchc", "wchp", "dump", "envi", "isro", "gtmk", "dirs"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def send_word(port, word, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(word.encode())
    chunks = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        if not b:
            break
        chunks.append(b)
    s.close()
    return b"".join(chunks)


def start_zk(tmp, port, extra_cfg, wait=True, myid=None):
    data = os.path.join(tmp, "data")
    os.makedirs(data, exist_ok=True)
    cfg = os.path.join(tmp, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write("tickTime=2000\ninitLimit=10\nsyncLimit=5\n")
        f.write("dataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n" % (data, port))
        f.write("admin.enableServer=false\n" + extra_cfg)
    if myid is not None:
        with open(os.path.join(data, "myid"), "w") as f:
            f.write("%d\n" % myid)
    log = open(os.path.join(tmp, "zk.log"), "w")
    cmd = ["java", "-Xmx128m", "-Dzookeeper.log.dir=" + tmp,
           "-Dzookeeper.root.logger=INFO,CONSOLE",
           "-cp", "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar",
           "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    if not wait:
        return proc
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            # srvr is the one word the default whitelist enables.
            if send_word(port, "srvr", 1.0).startswith(b"Zookeeper version"):
                return proc
        except OSError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("zookeeper did not start; see " + log.name)


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def ensemble(out):
    from kazoo.client import KazooClient
    top = tempfile.mkdtemp(prefix="zkcap-ens-")
    procs = {}
    try:
        ports = {sid: (free_port(), free_port(), free_port()) for sid in (1, 2, 3)}
        servers = ""
        for sid, (cp, qp, ep) in ports.items():
            servers += "server.%d=127.0.0.1:%d:%d%s;127.0.0.1:%d\n" % (
                sid, qp, ep, ":observer" if sid == 3 else "", cp)
        extra = "4lw.commands.whitelist=*\n" + servers
        dirs = {sid: os.path.join(top, "s%d" % sid) for sid in ports}
        for sid in ports:
            os.makedirs(dirs[sid])
        procs[1] = start_zk(dirs[1], ports[1][0], extra, wait=False, myid=1)
        time.sleep(6)  # server 1 alone: LOOKING, no quorum
        for w in ("srvr", "stat", "mntr", "cons", "conf", "dump", "wchs", "isro", "ruok"):
            with open(os.path.join(out, "looking-" + w + ".txt"), "wb") as f:
                f.write(send_word(ports[1][0], w))
        procs[2] = start_zk(dirs[2], ports[2][0], extra, wait=False, myid=2)
        procs[3] = start_zk(dirs[3], ports[3][0], extra, wait=False, myid=3)
        roles = {}
        deadline = time.time() + 45
        while time.time() < deadline and len(roles) < 3:
            time.sleep(1)
            for sid in ports:
                try:
                    r = send_word(ports[sid][0], "srvr", 1.0)
                except OSError:
                    continue
                for line in r.decode(errors="replace").splitlines():
                    if line.startswith("Mode: "):
                        roles[sid] = line[6:]
        if len(roles) < 3:
            raise SystemExit("ensemble did not form: %r" % roles)
        hosts = ",".join("127.0.0.1:%d" % ports[s][0] for s in (3,))
        zk = KazooClient(hosts=hosts, timeout=10)
        zk.start(timeout=15)
        zk.create("/app", b"hello")
        zk.create("/app/eph", b"", ephemeral=True)
        zk.get("/app", watch=lambda e: None)
        time.sleep(0.5)
        for sid, role in roles.items():
            for w in WORDS:
                if w in ("crst", "srst"):
                    continue
                with open(os.path.join(out, "%s-%s.txt" % (role, w)), "wb") as f:
                    f.write(send_word(ports[sid][0], w))
        zk.stop()
        zk.close()
    finally:
        for p in procs.values():
            stop(p)
        shutil.rmtree(top, ignore_errors=True)


def main():
    if sys.argv[1] == "--ensemble":
        os.makedirs(sys.argv[2], exist_ok=True)
        return ensemble(sys.argv[2])
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    from kazoo.client import KazooClient
    tmp = tempfile.mkdtemp(prefix="zkcap-")
    proc = None
    try:
        port = free_port()
        proc = start_zk(tmp, port, "4lw.commands.whitelist=*\n")
        zk = KazooClient(hosts="127.0.0.1:%d" % port, timeout=10)
        zk.start(timeout=15)
        zk.create("/app", b"hello")
        zk.create("/app/conf", b"port=80")
        zk.create("/app/eph", b"", ephemeral=True)
        zk.get("/app", watch=lambda e: None)          # data watch
        zk.get_children("/app", watch=lambda e: None)  # child watch
        zk.exists("/missing", watch=lambda e: None)    # exists watch
        zk.get("/app/conf", watch=lambda e: None)
        time.sleep(0.5)
        for w in WORDS:
            if w in ("crst", "srst"):
                continue  # reset words last, so stat/cons show non-zero counters
            with open(os.path.join(out, w + ".txt"), "wb") as f:
                f.write(send_word(port, w))
        for w in ("crst", "srst"):
            with open(os.path.join(out, w + ".txt"), "wb") as f:
                f.write(send_word(port, w))
        with open(os.path.join(out, "cons-after-crst.txt"), "wb") as f:
            f.write(send_word(port, "cons"))
        with open(os.path.join(out, "srvr-after-srst.txt"), "wb") as f:
            f.write(send_word(port, "srvr"))
        with open(os.path.join(out, "unknown-word.txt"), "wb") as f:
            f.write(send_word(port, "abcd"))
        zk.stop()
        zk.close()
        stop(proc)
        proc = None
        # Default whitelist: only srvr is enabled.
        shutil.rmtree(os.path.join(tmp, "data"))
        port = free_port()
        proc = start_zk(tmp, port, "")
        for w in ("ruok", "stat", "srvr", "mntr"):
            with open(os.path.join(out, "defaultwl-" + w + ".txt"), "wb") as f:
                f.write(send_word(port, w))
        stop(proc)
        proc = None
    finally:
        if proc is not None:
            stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
