"""zkfs_sessloss.py — helpers of test_zkfs_sessloss.sh (a zkfs mount whose
session expires while the zkfs process is frozen with SIGSTOP); run with
/usr/bin/python3.

  holder EPH LOCK DIR      on the mount: create the ephemeral file EPH
                           (a path in .zk/ephemeral), write "up", take an
                           exclusive flock on LOCK, write DIR/ready; wait
                           (bounded, 120 s) for DIR/go, then report in
                           DIR/result what the old descriptors answer now:
                           a write on EPH, a read and LOCK_UN on LOCK (a
                           read-only descriptor), close of both
                           (errno names or "ok"), and whether a new
                           descriptor of LOCK can be locked again (LOCK_NB).
                           Exits 0 when the report is written.
  kazoo-holder HOSTS PATH DIR
                           a plain kazoo client with a 4 s session creates
                           the ephemeral PATH and writes DIR/kready; it is
                           frozen and thawed by the test; it waits
                           (bounded, 120 s) for DIR/go, then up to 30 s for
                           its session to be reported expired (kazoo's LOST
                           state) and writes "lost" or "not-lost" in
                           DIR/kresult
  wait-expired HOSTS EPH LOCKZ SECONDS
                           through kazoo (not the mount): wait until the
                           znode EPH is gone and LOCKZ has no children,
                           with an exists watch on EPH and polling; print
                           "expired after N s" (exit 0) or exit 1 after
                           SECONDS
  changes HOSTS            the changes made while the mount is frozen:
                           create /s/new, set /s/keep, delete /s/gone,
                           create the directory /s/newdir (with a child),
                           delete the directory /s/olddir
  children HOSTS PATH      print the children of PATH, sorted, one a line

A process that holds a descriptor on a frozen FUSE mount hangs in the
kernel (D state) when it closes it or exits, until zkfs answers: so the
holder never exits before it is told to, and nothing else in the test
holds a descriptor on the mount while zkfs is frozen.
"""
import errno
import fcntl
import os
import sys
import time


def _errname(fn):
    try:
        fn()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def holder(eph, lock, d):
    efd = os.open(eph, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(efd, b"up")
    lfd = os.open(lock, os.O_RDONLY)
    fcntl.flock(lfd, fcntl.LOCK_EX)
    with open(os.path.join(d, "ready.tmp"), "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(os.path.join(d, "ready.tmp"), os.path.join(d, "ready"))
    deadline = time.monotonic() + 120
    while not os.path.exists(os.path.join(d, "go")):
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    res = {}
    res["eph_write"] = _errname(lambda: os.write(efd, b"again"))
    res["lock_read"] = _errname(lambda: os.pread(lfd, 16, 0))
    res["lock_un"] = _errname(lambda: fcntl.flock(lfd, fcntl.LOCK_UN))
    res["eph_close"] = _errname(lambda: os.close(efd))
    res["lock_close"] = _errname(lambda: os.close(lfd))

    def relock():
        fd = os.open(lock, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
    res["relock"] = _errname(relock)
    with open(os.path.join(d, "result.tmp"), "w") as f:
        f.write(" ".join("%s=%s" % kv for kv in sorted(res.items())) + "\n")
    os.rename(os.path.join(d, "result.tmp"), os.path.join(d, "result"))
    return 0


def kazoo_holder(hosts, path, d):
    import threading
    from kazoo.client import KazooClient
    import logging
    from kazoo.protocol.states import KazooState
    logging.getLogger("kazoo").setLevel(logging.ERROR)   # its reconnection is expected
    lost = threading.Event()
    zk = KazooClient(hosts=hosts, timeout=4.0)
    zk.add_listener(lambda state: lost.set() if state == KazooState.LOST else None)
    zk.start(timeout=20)
    zk.create(path, b"k", ephemeral=True)
    open(os.path.join(d, "kready"), "w").close()
    deadline = time.monotonic() + 120
    while not os.path.exists(os.path.join(d, "go")) and time.monotonic() < deadline:
        time.sleep(0.1)
    got = lost.wait(30)
    with open(os.path.join(d, "kresult.tmp"), "w") as f:
        f.write("lost\n" if got else "not-lost\n")
    os.rename(os.path.join(d, "kresult.tmp"), os.path.join(d, "kresult"))
    zk.stop()
    zk.close()
    return 0


def _kazoo(hosts):
    from kazoo.client import KazooClient
    zk = KazooClient(hosts=hosts, timeout=10)
    zk.start(timeout=20)
    return zk


def wait_expired(hosts, eph, lockz, seconds):
    import threading
    zk = _kazoo(hosts)
    gone = threading.Event()
    t0 = time.monotonic()
    try:
        if zk.exists(eph, watch=lambda ev: gone.set()) is None:
            gone.set()
        while time.monotonic() - t0 < float(seconds):
            if gone.wait(0.25) and zk.exists(eph) is None and not zk.get_children(lockz):
                print("expired after %.1f s" % (time.monotonic() - t0), flush=True)
                return 0
        print("still there after %s s: %s %s" % (seconds, zk.exists(eph), zk.get_children(lockz)))
        return 1
    finally:
        zk.stop()
        zk.close()


def changes(hosts):
    zk = _kazoo(hosts)
    try:
        zk.create("/s/new", b"born")
        zk.set("/s/keep", b"v2")
        zk.delete("/s/gone")
        zk.create("/s/newdir/kid", b"k", makepath=True)
        zk.delete("/s/olddir", recursive=True)
    finally:
        zk.stop()
        zk.close()
    return 0


def children(hosts, path):
    zk = _kazoo(hosts)
    try:
        for name in sorted(zk.get_children(path)):
            print(name)
    finally:
        zk.stop()
        zk.close()
    return 0


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    fn = {"holder": holder, "kazoo-holder": kazoo_holder, "wait-expired": wait_expired, "changes": changes,
          "children": children}[cmd]
    sys.exit(fn(*args))
