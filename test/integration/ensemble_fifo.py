#!/usr/bin/python3
"""ensemble_fifo.py - a client's pipelined requests through one replica
are answered in order and reads see the client's own earlier writes.

    ensemble_fifo.py HOST

On a fresh /fifo<pid>, 10 rounds of 30 pipelined groups (setData i, getData,
create child i, getChildren) are sent without waiting; every getData must
return the value of the setData just before it and every getChildren must
list the child created just before it (a follower or observer must hold
the reads behind the session's own forwarded writes).  Prints "fifo: N
violations"; exit 0 if none.  Every wait is bounded (10 s per reply).
"""

import os
import sys

from kazoo.client import KazooClient


def main():
    zk = KazooClient(hosts=sys.argv[1], timeout=10)
    zk.start(timeout=10)
    base = "/fifo%d" % os.getpid()
    zk.ensure_path(base)
    bad = []
    for rnd in range(10):
        pending = []
        for i in range(30):
            child = "c%d-%d" % (rnd, i)
            pending.append(("set", i, zk.set_async(base, str(i).encode())))
            pending.append(("get", i, zk.get_async(base)))
            pending.append(("create", child, zk.create_async(base + "/" + child, b"")))
            pending.append(("children", child, zk.get_children_async(base)))
        for kind, arg, result in pending:
            value = result.get(timeout=10)
            if kind == "get" and value[0] != str(arg).encode():
                bad.append(f"getData after setData {arg} returned {value[0]!r}")
            if kind == "children" and arg not in value:
                bad.append(f"getChildren after create {arg} misses it")
    zk.stop(); zk.close()
    print(f"fifo: {len(bad)} violations {bad[:5]}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
