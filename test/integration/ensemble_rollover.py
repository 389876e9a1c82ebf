#!/usr/bin/python3
"""ensemble_rollover.py - zxid counter exhaustion (ZOOKEEPER-1277) driver for
test/integration/test_ensemble_rollover.sh.

Usage: ensemble_rollover.py ALLHOSTS COUNT HOSTS_1 [HOSTS_2 ...]

Writes COUNT znodes /rollover/n<i> (data b"<i>") one after another through
ALLHOSTS with bounded retries: a create answered by a lost connection is
retried, and a NodeExists on the retry counts as acknowledged only when the
data is ours.  Then, on every HOSTS_k separately (after sync), checks that
every znode is there with its data, and prints the epochs (high 32 bits of
czxid) and the largest counter (low 32 bits) seen.  Exits 0 when every write
was acknowledged and readable everywhere, the writes span at least 3 epochs
and no counter is above 0xfffffffe; 1 on a failed check, 2 on a connection
error.  Every wait is bounded.
"""

import sys
import time

from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionLoss, NodeExistsError, SessionExpiredError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.retry import KazooRetry

LAST_COUNTER = 0xfffffffe


def client(hosts):
    zk = KazooClient(hosts=hosts, timeout=20,
                     connection_retry=KazooRetry(max_tries=-1, delay=0.1, max_delay=1))
    zk.start(timeout=30)
    return zk


def retrying(fn, *args, deadline_s=60):
    """fn(*args), retried on a lost connection or a timeout: a leader that
    used up its counter steps down and closes every connection, so any call
    may meet a ConnectionLoss while the next epoch starts (bounded)."""
    deadline = time.time() + deadline_s
    while True:
        try:
            return fn(*args)
        except (ConnectionLoss, KazooTimeoutError):
            if time.time() >= deadline:
                raise
            time.sleep(0.2)


def create_acked(zk, path, data, deadline):
    """Creates path; True once acknowledged (or found with our data)."""
    first = True
    while time.time() < deadline:
        try:
            if first:
                zk.create(path, data)
                return True
            got, _ = retrying(zk.get, path)
            return got == data
        except (ConnectionLoss, KazooTimeoutError):
            first = False
            time.sleep(0.2)
        except NodeExistsError:
            got, _ = retrying(zk.get, path)
            return got == data
        except SessionExpiredError:
            return False
        except Exception as e:  # the no-node case on a retry: try again
            if type(e).__name__ == "NoNodeError" and not first:
                first = True
                continue
            raise
    return False


def main():
    allhosts, count, members = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    try:
        zk = client(allhosts)
    except KazooTimeoutError as e:
        print("connect failed: %s" % e, file=sys.stderr)
        return 2
    deadline = time.time() + 90
    KazooRetry(max_tries=50, delay=0.2, max_delay=1)(zk.ensure_path, "/rollover")
    for i in range(count):
        if not create_acked(zk, "/rollover/n%d" % i, b"%d" % i, deadline):
            print("write %d not acknowledged" % i, file=sys.stderr)
            return 1
    zk.stop()
    zk.close()
    for hosts in members:
        try:
            m = client(hosts)
        except KazooTimeoutError as e:
            print("connect to %s failed: %s" % (hosts, e), file=sys.stderr)
            return 2
        KazooRetry(max_tries=50, delay=0.2, max_delay=1)(m.sync, "/rollover")
        epochs, top = set(), 0
        for i in range(count):
            data, st = retrying(m.get, "/rollover/n%d" % i)
            if data != b"%d" % i:
                print("%s: n%d has %r" % (hosts, i, data), file=sys.stderr)
                return 1
            epochs.add(st.czxid >> 32)
            top = max(top, st.czxid & 0xffffffff)
        m.stop()
        m.close()
        print("%s: %d writes readable, epochs %s, largest counter 0x%x"
              % (hosts, count, sorted(epochs), top))
        if len(epochs) < 3 or top > LAST_COUNTER:
            print("%s: expected >= 3 epochs and counters <= 0x%x" % (hosts, LAST_COUNTER),
                  file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
