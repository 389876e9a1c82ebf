"""zkfs_bench.py — the measurements of tools/bench/zkfs.sh (run with
/usr/bin/python3).  Each subcommand prints one line "name value unit".

  read PATH N               open+read+close of PATH, N times: us per op
  tree HOSTS ROOT DIRS FILES  create ROOT/dNNN/fNNN (DIRS x FILES znodes,
                            8-byte data, "needle" in one of them) via kazoo
  localtree DIR DIRS FILES  the same tree on a local directory
  run SECONDS CMD...        wall time of CMD (output to /dev/null), seconds
  inotify HOSTS ZNODE WATCHDIR RATE SECONDS
                            setData ZNODE through HOSTS at up to RATE/s, one
                            at a time; latency from sending each setData to
                            the IN_MODIFY on WATCHDIR (another replica's
                            mount): p50/p99/max in ms (a miss counts 2 s);
                            the IN_MODIFYs are timed by a watcher process
                            of their own (watch WATCHDIR NAME)
Every loop is bounded in count and time.
"""
import ctypes
import os
import select
import struct
import subprocess
import sys
import time


def cmd_read(path, n):
    n = int(n)
    for _ in range(min(n, 1000)):          # warm: cache and page cache
        fd = os.open(path, os.O_RDONLY)
        os.read(fd, 4096)
        os.close(fd)
    t = time.perf_counter()
    for _ in range(n):
        fd = os.open(path, os.O_RDONLY)
        os.read(fd, 4096)
        os.close(fd)
    us = (time.perf_counter() - t) / n * 1e6
    print("read %.2f us" % us)


def cmd_tree(hosts, root, dirs, files):
    from kazoo.client import KazooClient
    zk = KazooClient(hosts=hosts, timeout=30)
    zk.start(timeout=30)
    zk.ensure_path(root)
    dirs, files = int(dirs), int(files)
    for d in range(dirs):
        dpath = "%s/d%03d" % (root, d)
        zk.create(dpath, b"")
        pending = []
        for f in range(files):
            data = b"needle\n" if (d, f) == (dirs // 2, files // 2) else b"payload\n"
            pending.append(zk.create_async("%s/f%03d" % (dpath, f), data))
        for p in pending:
            p.get(timeout=30)
    zk.stop()
    print("tree %d znodes" % (dirs * files + dirs))


def cmd_localtree(top, dirs, files):
    dirs, files = int(dirs), int(files)
    for d in range(dirs):
        dpath = os.path.join(top, "d%03d" % d)
        os.makedirs(dpath, exist_ok=True)
        for f in range(files):
            data = "needle\n" if (d, f) == (dirs // 2, files // 2) else "payload\n"
            with open(os.path.join(dpath, "f%03d" % f), "w") as fh:
                fh.write(data)
    print("localtree %d files" % (dirs * files))


def cmd_run(seconds, *cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=float(seconds))
    print("run %.3f s" % (time.perf_counter() - t))


IN_MODIFY, IN_CLOSE_WRITE = 0x2, 0x8


def cmd_watch(watchdir, name, limit="900"):
    """The watcher process of cmd_inotify: prints "ready", then the
    CLOCK_MONOTONIC time of every IN_MODIFY of NAME in WATCHDIR, one a line;
    ends when its stdin closes (the parent is gone) or after LIMIT s."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    ifd = libc.inotify_init1(os.O_NONBLOCK)
    if ifd < 0 or libc.inotify_add_watch(ifd, watchdir.encode(), IN_MODIFY | IN_CLOSE_WRITE) < 0:
        raise SystemExit("inotify_add_watch failed")
    want = name.encode()
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    end = time.monotonic() + float(limit)
    while time.monotonic() < end:
        r, _, _ = select.select([ifd, sys.stdin], [], [], 0.5)
        if sys.stdin in r and not os.read(sys.stdin.fileno(), 4096):
            break
        if ifd not in r:
            continue
        now = time.monotonic()
        buf = os.read(ifd, 65536)
        off = 0
        while off + 16 <= len(buf):
            wd, mask, cookie, ln = struct.unpack_from("iIII", buf, off)
            ev_name = buf[off + 16: off + 16 + ln].rstrip(b"\0")
            off += 16 + ln
            if ev_name == want and mask & IN_MODIFY:
                out.write("%.6f\n" % now)
        out.flush()


def cmd_inotify(hosts, znode, watchdir, rate, seconds):
    """The watcher is a process of its own (cmd_watch), as a watcher on
    another replica would be: sharing this one's interpreter with kazoo's
    threads would add their GIL turns to every arrival time."""
    from kazoo.client import KazooClient
    name = os.path.basename(znode)
    watcher = subprocess.Popen([sys.executable, os.path.abspath(__file__), "watch", watchdir, name],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    pending = b""
    events = []                   # arrival times of IN_MODIFY on the file

    def take(timeout):
        """Reads the watcher's lines for up to timeout s (returns at the first)."""
        nonlocal pending
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if line == b"ready":
                    events.append(None)
                elif line:
                    events.append(float(line))
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([watcher.stdout], [], [], left)
            if r:
                chunk = os.read(watcher.stdout.fileno(), 65536)
                if not chunk:
                    return False
                pending += chunk

    try:
        if not take(10.0) or events != [None]:
            raise SystemExit("the inotify watcher did not start")
        events.clear()
        zk = KazooClient(hosts=hosts, timeout=30)
        zk.start(timeout=30)
        if not zk.exists(znode):
            zk.create(znode, b"0")
        time.sleep(0.5)
        while take(0.2):          # whatever the creation raised
            pass
        events.clear()
        lat = []
        commit = []               # the setData's own round trip (ms)
        after = []                # IN_MODIFY minus the setData's reply (ms)
        period = 1.0 / float(rate)
        end = time.monotonic() + float(seconds)
        seq = 0
        while time.monotonic() < end:
            start = time.monotonic()
            before = len(events)
            seq += 1
            zk.set(znode, b"%d" % seq)          # through replica 1
            commit.append((time.monotonic() - start) * 1000)
            wait_end = start + 2.0
            while len(events) <= before and take(max(0.0, wait_end - time.monotonic())):
                pass
            got = events[before] if len(events) > before else None
            del events[before + 1:]             # a duplicate event counts once
            lat.append((got - start) * 1000 if got is not None else 2000.0)
            after.append((got - start) * 1000 - commit[-1] if got is not None else 2000.0)
            pause = start + period - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        zk.stop()
    finally:
        watcher.stdin.close()
        try:
            watcher.wait(timeout=5)
        except subprocess.TimeoutExpired:
            watcher.kill()
            watcher.wait(timeout=5)
    lat.sort()
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print("inotify n=%d p50 %.2f p99 %.2f max %.2f ms" % (len(lat), p(0.5), p(0.99), lat[-1]))
    # The part of it that is the setData's own commit (client -> replica 1
    # -> quorum -> reply), before any watch event exists.
    commit.sort()
    c = lambda q: commit[min(len(commit) - 1, int(q * len(commit)))]
    print("setdata n=%d p50 %.2f p99 %.2f max %.2f ms" % (len(commit), c(0.5), c(0.99), commit[-1]),
          file=sys.stderr)
    # What zkfs adds beyond the commit (negative: the event came first).
    after.sort()
    a = lambda q: after[min(len(after) - 1, int(q * len(after)))]
    print("beyond n=%d p50 %.2f p99 %.2f max %.2f ms" % (len(after), a(0.5), a(0.99), after[-1]),
          file=sys.stderr)


if __name__ == "__main__":
    cmds = {"read": cmd_read, "tree": cmd_tree, "localtree": cmd_localtree, "run": cmd_run,
            "inotify": cmd_inotify, "watch": cmd_watch}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        raise SystemExit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])
