#!/usr/bin/python3
"""durability.py — load generator and checker for test_durability.sh.

  durability.py writer HOST:PORT PREFIX LOGFILE
      Creates PREFIX, then loops: a sequential child, a regular child every
      other turn, and a setData on PREFIX.  Every ACKNOWLEDGED write is
      appended to LOGFILE (flushed at once) as a tab-separated line:
          C <path> <data>            (create acknowledged with that path)
          S <path> <version> <data>  (setData acknowledged at that version)
      On the first error (the server was killed) it stops.  Runs at most
      60 s.

  durability.py verify HOST:PORT LOGFILE...
      Checks every acknowledged write in the logs is present with the right
      data (for setData: the node's version is at least the acknowledged
      one, and the data matches when equal), and that sequential counters
      survived: a new sequential child sorts after every existing one.
"""

import logging
import os
import sys
import time

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError


def connect(hosts, **kwargs):
    zk = KazooClient(hosts=hosts, timeout=10.0, **kwargs)
    zk.start(timeout=15)
    return zk


def writer(hosts, prefix, logfile):
    # The connection loss at the kill is expected: keep kazoo quiet about it.
    logging.getLogger("kazoo").setLevel(logging.CRITICAL)
    out = open(logfile, "a", buffering=1)
    # no reconnection attempts once the server is gone
    zk = connect(hosts, connection_retry={"max_tries": 0})
    deadline = time.monotonic() + 60
    try:
        zk.create(prefix, b"0", makepath=True)
        out.write(f"C\t{prefix}\t0\n")
        out.flush()
        i = 0
        while time.monotonic() < deadline:
            i += 1
            data = f"{prefix}#{i}"
            path = zk.create(f"{prefix}/n-", data.encode(), sequence=True)
            out.write(f"C\t{path}\t{data}\n")
            out.flush()
            if i % 2 == 0:
                path = zk.create(f"{prefix}/r{i}", data.encode())
                out.write(f"C\t{path}\t{data}\n")
                out.flush()
            stat = zk.set(prefix, str(i).encode())
            out.write(f"S\t{prefix}\t{stat.version}\t{i}\n")
            out.flush()
    except Exception as exc:  # noqa: BLE001 - the server was killed
        print(f"writer {prefix}: stopped by {type(exc).__name__}",
              flush=True)
    finally:
        out.close()
        # Do not wait for kazoo to give up reconnecting to a dead server.
        os._exit(0)


def verify(hosts, logfiles):
    zk = connect(hosts)
    creates, sets, prefixes = 0, {}, set()
    try:
        for logfile in logfiles:
            with open(logfile) as log:
                for line in log:
                    fields = line.rstrip("\n").split("\t")
                    if fields[0] == "C" and len(fields) == 3:
                        _, path, data = fields
                        # /dur/rRwW is the writer's tree (its data is then
                        # overwritten by setData); deeper paths keep theirs
                        is_tree = path.count("/") == 2
                        try:
                            got = zk.get(path)[0].decode()
                        except NoNodeError:
                            got = None
                        if got is None or (not is_tree and got != data):
                            print(f"FAIL acknowledged create of {path} "
                                  f"lost: expected data {data!r}, got "
                                  f"{got!r}", flush=True)
                            return 1
                        if is_tree:
                            prefixes.add(path)
                        creates += 1
                    elif fields[0] == "S" and len(fields) == 4:
                        _, path, version, data = fields
                        if int(version) >= sets.get(path, (-1, ""))[0]:
                            sets[path] = (int(version), data)
                    # (any other line is malformed and ignored)
        for path, (version, data) in sorted(sets.items()):
            got, stat = zk.get(path)
            if stat.version < version or (stat.version == version and
                                          got.decode() != data):
                print(f"FAIL acknowledged setData of {path} lost: expected "
                      f"version >= {version} (data {data!r} if equal), got "
                      f"version {stat.version} data {got!r}", flush=True)
                return 1
        for prefix in sorted(prefixes):
            names = zk.get_children(prefix)
            seq = sorted(n for n in names if n.startswith("n-"))
            new = zk.create(f"{prefix}/n-", b"probe", sequence=True)
            if seq and new.rsplit("/", 1)[1] <= seq[-1]:
                print(f"FAIL sequential counter of {prefix} went back: new "
                      f"{new} after {seq[-1]}", flush=True)
                return 1
            zk.delete(new)
    finally:
        zk.stop()
        zk.close()
    print(f"verified {creates} acknowledged creates and {len(sets)} "
          f"setData targets in {len(prefixes)} trees", flush=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "writer":
        writer(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "verify":
        sys.exit(verify(sys.argv[2], sys.argv[3:]))
    else:
        sys.exit(f"usage: {sys.argv[0]} writer|verify ...")
