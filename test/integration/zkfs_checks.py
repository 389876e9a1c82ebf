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


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    fn = {"rmw-conflict": rmw_conflict, "writer": writer, "reader": reader,
          "kazoo": kazoo, "legacy": legacy}[cmd]
    sys.exit(fn(*args))
