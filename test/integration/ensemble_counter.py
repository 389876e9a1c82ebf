#!/usr/bin/python3
"""ensemble_counter.py - no lost update across replicas.

    ensemble_counter.py INCREMENTS HOST...

Two kazoo clients per HOST (each a replica's host:port) increment the
counter /ctr concurrently by read-modify-write with a version check
(setData with the version read; BadVersion -> read again), INCREMENTS times
each.  Conditional writes through different replicas are checked by the
leader against every change still in flight, so the final value must be
exactly 2 x INCREMENTS x number of hosts, and /ctr's version one more (the
initial set).  Prints "final V version N expected E"; exit 0 if exact, 1
otherwise.  Each client is bounded (120 s).
"""

import sys
import threading

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError


def main():
    increments, hosts = int(sys.argv[1]), sys.argv[2:]
    zk0 = KazooClient(hosts=hosts[0], timeout=10)
    zk0.start(timeout=10)
    zk0.ensure_path("/ctr")
    zk0.set("/ctr", b"0")
    start_version = zk0.exists("/ctr").version
    failures = []

    def worker(host):
        try:
            zk = KazooClient(hosts=host, timeout=10)
            zk.start(timeout=10)
            done = 0
            while done < increments:
                data, st = zk.get("/ctr")
                try:
                    zk.set("/ctr", str(int(data) + 1).encode(), version=st.version)
                    done += 1
                except BadVersionError:
                    pass
            zk.stop(); zk.close()
        except Exception as e:  # noqa: BLE001
            failures.append(f"{host}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=worker, args=(h,), daemon=True) for h in hosts for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    zk0.sync("/")
    value, st = zk0.get("/ctr")
    expected = increments * len(threads)
    print(f"final {int(value)} version {st.version} expected {expected}")
    zk0.stop(); zk0.close()
    if failures or any(t.is_alive() for t in threads):
        print("counter: client failures: %s" % failures, file=sys.stderr)
        return 1
    return 0 if int(value) == expected and st.version == start_version + expected else 1


if __name__ == "__main__":
    sys.exit(main())
