"""zkfs_checks.py — small checks for the zkfs integration tests that are
easier in Python than in shell (run with /usr/bin/python3).

  rmw-conflict PATH OTHER      open PATH read-write (no O_TRUNC), read it,
                               change the same znode through OTHER (a path on
                               another mount), write, close: expect ESTALE
  writer PATH CHAR N ROUNDS    write N copies of CHAR with O_TRUNC, ROUNDS times
  reader PATH ROUNDS           read PATH ROUNDS times; fail on a mixed content
  kazoo HOSTS ACTION PATH [DATA]  create|set|delete|mkdir through kazoo;
                               secret: create PATH readable and writable only
                               by digest user "bob:pw" (DATA = its data)
  legacy PATH WANT SECONDS     a "legacy program": re-reads its config file by
                               path every 0.1 s until it equals WANT (exit 0)
                               or SECONDS pass (exit 1)
  fcntl-locks PATH OTHER       POSIX locks: a helper process holds F_WRLCK on
                               OTHER (the same znode on another mount); on
                               PATH F_SETLK fails EAGAIN, F_GETLK reports
                               F_WRLCK, F_SETLKW is interrupted by a signal
                               (EINTR) and then waits until the helper lets
                               go; two F_RDLCK holders share, F_WRLCK waits
  kazoo-lock HOSTS PATH MODE   kazoo's Lock: "hold SECONDS" (prints "held"),
                               "try" (prints "got" or "busy"), "wait SECONDS"
                               (prints "got" or exits 1)
Every operation is bounded; exit status 0 = pass.
"""
import errno
import os
import sys
import time


def rmw_conflict(path, other):
    fd = os.open(path, os.O_RDWR)
    before = os.read(fd, 1 << 20)
    with open(other, "w") as f:          # another client's change in between
        f.write("changed elsewhere\n")
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, before + b"local edit\n")
    try:
        os.close(fd)
    except OSError as e:
        if e.errno == errno.ESTALE:
            print("close: ESTALE as documented")
            return 0
        print("close failed with", errno.errorcode.get(e.errno, e.errno))
        return 1
    print("close succeeded: the conflict was not detected")
    return 1


def writer(path, char, n, rounds):
    data = (char * int(n)).encode()
    for _ in range(int(rounds)):
        with open(path, "wb") as f:
            f.write(data)
    return 0


def reader(path, rounds):
    for _ in range(int(rounds)):
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            continue
        if data and len(set(data)) != 1:
            print("mixed content seen:", data[:40], "...")
            return 1
    return 0


def kazoo(hosts, action, path, data=""):
    from kazoo.client import KazooClient
    zk = KazooClient(hosts=hosts, timeout=10)
    zk.start(timeout=10)
    try:
        if action == "create":
            zk.create(path, data.encode(), makepath=True)
        elif action == "set":
            zk.set(path, data.encode())
        elif action == "delete":
            zk.delete(path, recursive=True)
        elif action == "mkdir":
            zk.create(path, b"", makepath=True)
        elif action == "secret":
            from kazoo.security import make_digest_acl
            zk.create(path, data.encode(), acl=[make_digest_acl("bob", "pw", all=True)],
                      makepath=True)
        else:
            print("unknown action", action)
            return 2
    finally:
        zk.stop()
        zk.close()
    return 0


def legacy(path, want, seconds):
    deadline = time.time() + float(seconds)
    got = None
    while time.time() < deadline:
        try:
            with open(path) as f:
                got = f.read().strip()
        except OSError:
            got = None
        if got == want:
            return 0
        time.sleep(0.1)
    print("legacy program still reads", repr(got), "wanted", repr(want))
    return 1


def _lock_helper(path, kind, hold):
    """A process holding a POSIX lock of kind on path for hold seconds."""
    import subprocess
    code = ("import fcntl,sys,time\n"
            "f=open(sys.argv[1],'r+')\n"
            "fcntl.lockf(f, %s)\n"
            "print('held', flush=True)\n"
            "time.sleep(float(sys.argv[2]))\n" % kind)
    p = subprocess.Popen([sys.executable, "-c", code, path, str(hold)], stdout=subprocess.PIPE)
    if p.stdout.readline().strip() != b"held":
        raise SystemExit("helper could not lock " + path)
    return p


def fcntl_locks(path, other):
    import fcntl
    import signal
    import struct
    holder = _lock_helper(other, "fcntl.LOCK_EX", 2.5)
    f = open(path, "r+")
    try:
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        print("F_SETLK succeeded while another mount holds the lock")
        return 1
    except OSError as e:
        if e.errno not in (errno.EAGAIN, errno.EACCES):
            print("F_SETLK failed with", e)
            return 1
    query = struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0)
    got = struct.unpack("hhqqi", fcntl.fcntl(f, fcntl.F_GETLK, query))[0]
    if got != fcntl.F_WRLCK:
        print("F_GETLK reported type", got, "not F_WRLCK")
        return 1

    class Alarm(Exception):
        pass

    def on_alarm(*_):
        raise Alarm()
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    t = time.monotonic()
    try:
        fcntl.lockf(f, fcntl.LOCK_EX)
        print("F_SETLKW returned while the lock was held")
        return 1
    except Alarm:
        pass
    if time.monotonic() - t > 2:
        print("F_SETLKW took %.1f s to be interrupted" % (time.monotonic() - t))
        return 1
    t = time.monotonic()
    fcntl.lockf(f, fcntl.LOCK_EX)            # waits for the holder to exit
    waited = time.monotonic() - t
    holder.wait(timeout=10)
    if waited < 0.5:
        print("F_SETLKW did not wait for the holder (%.2f s)" % waited)
        return 1
    fcntl.lockf(f, fcntl.LOCK_UN)
    # Shared locks share; an exclusive one waits for them.
    reader = _lock_helper(other, "fcntl.LOCK_SH", 1.5)
    fcntl.lockf(f, fcntl.LOCK_SH | fcntl.LOCK_NB)      # must not block
    try:
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        print("F_WRLCK granted beside another reader")
        return 1
    except OSError:
        pass
    reader.wait(timeout=10)
    f.close()
    print("fcntl locks: F_SETLK, F_GETLK, F_SETLKW (interrupted, then granted), F_RDLCK ok")
    return 0


def kazoo_lock(hosts, path, mode, arg="0"):
    from kazoo.client import KazooClient
    zk = KazooClient(hosts=hosts, timeout=10)
    zk.start(timeout=10)
    lock = zk.Lock(path)
    try:
        if mode == "hold":
            lock.acquire(timeout=20)
            print("held", flush=True)
            time.sleep(float(arg))
            lock.release()
        elif mode == "try":
            got = lock.acquire(blocking=False)
            print("got" if got else "busy", flush=True)
            if got:
                lock.release()
        else:
            lock.acquire(timeout=float(arg))
            print("got", flush=True)
            lock.release()
    finally:
        zk.stop()
        zk.close()
    return 0


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    fn = {"rmw-conflict": rmw_conflict, "writer": writer, "reader": reader,
          "kazoo": kazoo, "legacy": legacy, "fcntl-locks": fcntl_locks,
          "kazoo-lock": kazoo_lock}[cmd]
    sys.exit(fn(*args))
