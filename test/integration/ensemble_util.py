#!/usr/bin/python3
"""ensemble_util.py - small kazoo commands for the ensemble tests
(test/integration/test_ensemble_*.sh).  Every command connects to the given
connect string, does one thing and exits 0 on success, 1 on a failed check,
2 on a connection or request error (printed on stderr).  Every client wait is
bounded.

Commands:
  create HOSTS PARENT COUNT [PREFIX]  makepath PARENT, create PARENT/PREFIX<i>
                                      for i < COUNT with data b"<i>"
  check HOSTS PARENT COUNT [PREFIX]   after sync: PARENT/PREFIX<i> all exist
                                      with data b"<i>"
  absent HOSTS PATH...                after sync: none of the paths exists
  tree HOSTS [ROOT]                   after sync: print every znode under ROOT
                                      (default /, /zookeeper excluded), one a
                                      line: path, stat fields, data (hex)
  write-fails HOSTS PATH [TIMEOUT [GOFILE]]
                                      a create of PATH must fail within
                                      TIMEOUT s (default 8): exit 0 if it
                                      failed or timed out, 1 if it succeeded.
                                      With GOFILE: connect first, print
                                      "connected", wait (30 s max) until
                                      GOFILE exists, then write
  seq HOSTS PARENT COUNT              makepath PARENT, create COUNT sequential
                                      children PARENT/s- (pipelined)
  count HOSTS PARENT EXPECTED         after sync: PARENT has EXPECTED children
                                      with distinct sequence numbers
  set HOSTS PATH DATA                 set (or create) PATH to DATA
  get HOSTS PATH                      print PATH's data after sync
"""

import os
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.retry import KazooRetry


# Reads (and sync) are retried across a ConnectionLoss for up to 30 s: on a
# loaded machine a member may miss its heartbeats and the ensemble
# re-elect, which closes the clients of the members that left the quorum
# (two flakes of make test were unretried reads across a leader change).
# Writes are not retried (a retried create could answer NodeExists).
READ_RETRY = dict(max_tries=-1, delay=0.2, max_delay=1, deadline=30)


def connect(hosts, timeout=10.0):
    """A started KazooClient on HOSTS; no connection retry beyond timeout;
    zk.retry(...) retries a read across a ConnectionLoss (READ_RETRY)."""
    zk = KazooClient(hosts=hosts, timeout=timeout,
                     connection_retry=KazooRetry(max_tries=3, delay=0.2, max_delay=1),
                     command_retry=KazooRetry(**READ_RETRY))
    zk.start(timeout=timeout)
    return zk


def sync_all(zk, timeout=10.0):
    """Makes the replica current (sync on /), bounded, retried across a
    ConnectionLoss."""
    zk.retry(lambda: zk.sync_async("/").get(timeout=timeout))


def cmd_create(hosts, parent, count, prefix="n"):
    zk = connect(hosts)
    zk.ensure_path(parent)
    count = int(count)
    for start in range(0, count, 50):    # pipelined, 50 at a time
        batch = [zk.create_async(f"{parent}/{prefix}{i}", str(i).encode())
                 for i in range(start, min(start + 50, count))]
        for r in batch:
            r.get(timeout=15)
    zk.stop(); zk.close()
    return 0


def cmd_check(hosts, parent, count, prefix="n"):
    zk = connect(hosts)
    sync_all(zk)
    bad = []
    for i in range(int(count)):
        path = f"{parent}/{prefix}{i}"
        try:
            data, _ = zk.retry(zk.get, path)
            if data != str(i).encode():
                bad.append(f"{path}={data!r}")
        except NoNodeError:
            bad.append(f"{path} missing")
    zk.stop(); zk.close()
    if bad:
        print(f"check {hosts}: {len(bad)} bad: {bad[:10]}", file=sys.stderr)
        return 1
    return 0


def cmd_absent(hosts, *paths):
    zk = connect(hosts)
    sync_all(zk)
    present = [p for p in paths if zk.retry(zk.exists, p) is not None]
    zk.stop(); zk.close()
    if present:
        print(f"absent {hosts}: present: {present}", file=sys.stderr)
        return 1
    return 0


def dump_tree(zk, root="/", window=500, timeout=30.0):
    """Lines describing every znode under root (excluding /zookeeper).

    The reads are pipelined: up to `window` znodes are asked for at once,
    breadth first: getData for each, then getChildren for those whose stat
    says they have children (a leaf's "kids=0" is in its line; a replica
    that miscounted would differ from the others in that field, and an
    acknowledged write under a miscounted parent would be reported
    missing).  One request at a time made a full-tree check of a few
    thousand znodes take seconds per replica; skipping the leaves'
    getChildren halves what is left (most znodes of the ensemble tests are
    leaves)."""
    lines = []
    todo = [root]
    while todo:
        batch, todo = todo[:window], todo[window:]
        batch = [p for p in batch if p != "/zookeeper" and not p.startswith("/zookeeper/")]
        asks = [(p, zk.get_async(p)) for p in batch]
        got = []
        for path, ask in asks:
            try:
                data, st = ask.get(timeout=timeout)
            except NoNodeError:
                continue
            got.append((path, data, st, zk.get_children_async(path) if st.numChildren else None))
        for path, data, st, children in got:
            try:
                kids = children.get(timeout=timeout) if children is not None else []
            except NoNodeError:
                continue
            lines.append(" ".join([
                path, "czxid=%x" % st.czxid, "mzxid=%x" % st.mzxid, "pzxid=%x" % st.pzxid,
                "ctime=%d" % st.ctime, "mtime=%d" % st.mtime, "v=%d" % st.version,
                "cv=%d" % st.cversion, "av=%d" % st.aversion, "eph=%x" % st.ephemeralOwner,
                "len=%d" % st.dataLength, "kids=%d" % st.numChildren, "data=" + data.hex()]))
            todo.extend(("" if path == "/" else path) + "/" + k for k in kids)
    lines.sort()
    return lines


def cmd_tree(hosts, root="/"):
    zk = connect(hosts)
    sync_all(zk)
    for line in dump_tree(zk, root):
        print(line)
    zk.stop(); zk.close()
    return 0


def cmd_write_fails(hosts, path, timeout="8", gofile=None):
    """Exit 0 if a create of PATH fails or does not complete in time."""
    try:
        zk = KazooClient(hosts=hosts, timeout=4.0,
                         connection_retry=KazooRetry(max_tries=1, delay=0.2),
                         command_retry=None)
        zk.start(timeout=4.0)
    except Exception as e:  # noqa: BLE001 - no connection at all is a failed write
        print(f"write-fails: no connection ({type(e).__name__})")
        return 0
    if gofile:
        print("connected", flush=True)
        deadline = time.monotonic() + 30
        while not os.path.exists(gofile) and time.monotonic() < deadline:
            time.sleep(0.05)
    result = {}

    def attempt():
        try:
            zk.create(path, b"must-not-commit")
            result["ok"] = True
        except Exception as e:  # noqa: BLE001
            result["err"] = type(e).__name__

    t = threading.Thread(target=attempt, daemon=True)
    t.start()
    t.join(float(timeout))
    try:
        zk.stop(); zk.close()
    except Exception:  # noqa: BLE001
        pass
    if result.get("ok"):
        print(f"write-fails: create {path} succeeded on {hosts}", file=sys.stderr)
        return 1
    print(f"write-fails: {result.get('err', 'no reply within %s s' % timeout)}")
    return 0


def cmd_seq(hosts, parent, count):
    zk = connect(hosts)
    zk.ensure_path(parent)
    count = int(count)
    for start in range(0, count, 25):
        batch = [zk.create_async(parent + "/s-", b"", sequence=True)
                 for _ in range(start, min(start + 25, count))]
        for r in batch:
            r.get(timeout=15)
    zk.stop(); zk.close()
    return 0


def cmd_count(hosts, parent, expected):
    zk = connect(hosts)
    sync_all(zk)
    kids = zk.retry(zk.get_children, parent)
    zk.stop(); zk.close()
    seqs = {k[-10:] for k in kids}
    if len(kids) != int(expected) or len(seqs) != len(kids):
        print(f"count {hosts} {parent}: {len(kids)} children, {len(seqs)} distinct "
              f"suffixes, expected {expected}", file=sys.stderr)
        return 1
    return 0


def cmd_set(hosts, path, data):
    zk = connect(hosts)
    if zk.exists(path) is None:
        zk.create(path, data.encode(), makepath=True)
    else:
        zk.set(path, data.encode())
    zk.stop(); zk.close()
    return 0


def cmd_get(hosts, path):
    zk = connect(hosts)
    sync_all(zk)
    print(zk.retry(zk.get, path)[0].decode())
    zk.stop(); zk.close()
    return 0


COMMANDS = {"create": cmd_create, "check": cmd_check, "absent": cmd_absent,
            "tree": cmd_tree, "write-fails": cmd_write_fails, "set": cmd_set,
            "seq": cmd_seq, "count": cmd_count,
            "get": cmd_get}


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return COMMANDS[sys.argv[1]](*sys.argv[2:])
    except (KazooTimeoutError, Exception) as e:  # noqa: BLE001
        print(f"{sys.argv[1]} {sys.argv[2]}: {type(e).__name__}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
