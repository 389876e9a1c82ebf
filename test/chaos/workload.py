#!/usr/bin/python3
"""workload.py - the chaos test's kazoo workload processes.  Each records
its history as JSON lines (one per operation: invocation and completion
times from CLOCK_MONOTONIC in ns, shared by every network namespace, and
the outcome: ok true, false = failed without effect, null = indeterminate).

    workload.py ROLE HOSTS OUT SECONDS SEED NAME [ARG]

Roles:
  register  the compare-and-set register on /chaos/reg/k0..k<ARG-1>:
            sync+get reads, blind setData, setData with the version last
            seen (CAS), plus plain reads (no sync, "pread": checked for
            per-session monotonicity, not for linearizability)
  uniq      creates /chaos/uniq/u<n> with n drawn from a small shared
            range: many clients race for the same names
  queue     sequential-node queue /chaos/queue: enqueue (create
            sequential, data NAME-n) and dequeue (delete the smallest child)
  eph       an ephemeral-owning session: creates /chaos/eph/NAME-<n>
            ephemeral nodes and pings with exists; records its session id,
            negotiated timeout, every successful contact, and the expiry
  wwriter   creates /chaos/w/NAME-<n> one after another (the persistent
            recursive watchers' feed), recording each czxid
  fifo      bursts of 8 pipelined sequential creates under /chaos/fifo/NAME:
            the acknowledged ones must come back in order
Exits 0 (errors are recorded, not raised); SIGTERM ends it early.
"""

import json
import random
import signal
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import (BadVersionError, NoNodeError, NodeExistsError, ZookeeperError)
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.protocol.states import KazooState
from kazoo.retry import KazooRetry

STOP = threading.Event()
REQ_TIMEOUT = 2.0


def now():
    return time.monotonic_ns()


class Recorder:
    def __init__(self, path, name):
        self.f = open(path, "w", buffering=1)
        self.name = name

    def rec(self, **kv):
        kv["p"] = self.name
        self.f.write(json.dumps(kv) + "\n")


def outcome(exc):
    """ok flag for an exception: False = definitely no effect, None = unknown."""
    if isinstance(exc, (BadVersionError, NoNodeError, NodeExistsError)):
        return False
    return None


def connect(hosts, timeout=4.0):
    zk = KazooClient(hosts=hosts, timeout=timeout, randomize_hosts=True,
                     connection_retry=KazooRetry(max_tries=-1, delay=0.1, max_delay=0.5),
                     command_retry=None)
    deadline = time.monotonic() + 20
    while not STOP.is_set():
        try:
            zk.start(timeout=5)
            return zk
        except KazooTimeoutError:
            if time.monotonic() > deadline:
                raise
    raise KazooTimeoutError("stopped")


def call(fn, *args, **kw):
    """Runs an async kazoo call with a bound; returns (result, exception)."""
    try:
        return fn(*args, **kw).get(timeout=REQ_TIMEOUT), None
    except Exception as e:  # noqa: BLE001 - recorded as the outcome
        return None, e


def sid(zk):
    cid = zk.client_id
    return "%x" % cid[0] if cid else "0"


def peer(zk):
    """The address of the server zk is connected to, or None."""
    try:
        return zk._connection._socket.getpeername()[0]
    except Exception:  # noqa: BLE001 - not connected, or kazoo internals changed
        return None


def role_register(zk, out, rnd, name, nkeys):
    known = {}
    n = 0
    while not STOP.is_set():
        k = f"k{rnd.randrange(int(nkeys))}"
        path = f"/chaos/reg/{k}"
        choice = rnd.random()
        s = sid(zk)
        t0 = now()
        if choice < 0.15:
            res, e = call(zk.get_async, path)
            if e is None:
                out.rec(k=k, f="pread", s=s, t0=t0, t1=now(), ok=True, out=res[0].decode(),
                        ver=res[1].version, zx=res[1].mzxid)
                known[k] = res[1].version
        elif choice < 0.4:
            _, e = call(zk.sync_async, "/")
            res = None
            if e is None:
                res, e = call(zk.get_async, path)
            if e is None:
                out.rec(k=k, f="read", s=s, t0=t0, t1=now(), ok=True, out=res[0].decode(),
                        ver=res[1].version, zx=res[1].mzxid)
                known[k] = res[1].version
        else:
            cas = choice >= 0.6
            val = f"{name}-{n}"
            n += 1
            exp = known.get(k, 0) if cas else -1
            st, e = call(zk.set_async, path, val.encode(), exp)
            t1 = now()
            if e is None:
                known[k] = st.version
                out.rec(k=k, f="cas" if cas else "write", s=s, t0=t0, t1=t1, ok=True, val=val,
                        exp=exp, ver=st.version, zx=st.mzxid)
            else:
                ok = outcome(e)
                out.rec(k=k, f="cas" if cas else "write", s=s, t0=t0, t1=t1 if ok is False else None,
                        ok=ok, val=val, exp=exp, err=type(e).__name__)
                if ok is False:
                    known.pop(k, None)
                    r, e2 = call(zk.get_async, path)
                    if e2 is None:
                        known[k] = r[1].version
        if not zk.connected:
            time.sleep(0.05)


def role_uniq(zk, out, rnd, name, space):
    while not STOP.is_set():
        u = f"u{rnd.randrange(int(space))}"
        t0 = now()
        res, e = call(zk.create_async, f"/chaos/uniq/{u}", name.encode())
        out.rec(u=u, t0=t0, t1=now(), ok=True if e is None else outcome(e),
                err=None if e is None else type(e).__name__)
        if not zk.connected:
            time.sleep(0.05)


def role_queue(zk, out, rnd, name, _arg):
    n = 0
    while not STOP.is_set():
        if rnd.random() < 0.6:
            data = f"{name}-{n}"
            n += 1
            t0 = now()
            path, e = call(zk.create_async, "/chaos/queue/q-", data.encode(), sequence=True)
            out.rec(f="enq", s=sid(zk), data=data, t0=t0, t1=now(),
                    ok=True if e is None else outcome(e), path=path)
        else:
            kids, e = call(zk.get_children_async, "/chaos/queue")
            if e is None and kids:
                head = "/chaos/queue/" + min(kids)
                t0 = now()
                _, e = call(zk.delete_async, head)
                out.rec(f="deq", s=sid(zk), path=head, t0=t0, t1=now(),
                        ok=True if e is None else outcome(e))
        if not zk.connected:
            time.sleep(0.05)


def role_eph(zk, out, rnd, name, _arg):
    expired = threading.Event()

    s = sid(zk)

    def listener(state):
        out.rec(f="state", s=s, state=str(state), t=now())
        if state == KazooState.LOST:
            expired.set()
    zk.add_listener(listener)
    out.rec(f="session", s=s, timeout=int(zk._session_timeout), t=now())
    n = 0
    while not STOP.is_set() and not expired.is_set():
        path = f"/chaos/eph/{name}-{n}"
        n += 1
        t0 = now()
        _, e = call(zk.create_async, path, b"", ephemeral=True)
        out.rec(f="create", s=s, path=path, t0=t0, t1=now(), ok=True if e is None else outcome(e))
        for _ in range(10):
            if STOP.is_set() or expired.is_set():
                break
            t0 = now()
            srv0 = peer(zk)
            _, e = call(zk.exists_async, "/chaos")
            srv1 = peer(zk)
            if e is None and sid(zk) == s:
                # The server that answered (None if the connection changed
                # meanwhile): a reply from a server cut off from the leader
                # (an isolated old leader still serving reads) is no touch
                # the leader that later expires the session ever heard.
                out.rec(f="alive", s=s, t0=t0, t1=now(), srv=srv0 if srv0 == srv1 else None)
            time.sleep(0.1)
    if expired.is_set():
        out.rec(f="expired", s=s, t=now())
    else:
        out.rec(f="end", s=s, t=now(), connected=bool(zk.connected))


def role_wwriter(zk, out, rnd, name, _arg):
    n = 0
    while not STOP.is_set():
        path = f"/chaos/w/{name}-{n:06d}"
        n += 1
        t0 = now()
        res, e = call(zk.create_async, path, b"", include_data=True)
        if e is None:
            out.rec(path=path, t0=t0, t1=now(), ok=True, zx=res[1].czxid)
        else:
            out.rec(path=path, t0=t0, t1=None, ok=outcome(e), err=type(e).__name__)
        if not zk.connected:
            time.sleep(0.05)
        time.sleep(0.01)


def role_fifo(zk, out, rnd, name, _arg):
    parent = f"/chaos/fifo/{name}"
    zk.ensure_path(parent)
    burst = 0
    while not STOP.is_set():
        order = []
        asyncs = []
        for i in range(8):
            a = zk.create_async(f"{parent}/b{burst}-", b"", sequence=True)
            a.rawlink(lambda r, i=i: order.append(i))
            asyncs.append(a)
        results = []
        for a in asyncs:
            try:
                results.append(a.get(timeout=REQ_TIMEOUT))
            except Exception:  # noqa: BLE001 - not acknowledged
                results.append(None)
        time.sleep(0.05)
        out.rec(burst=burst, s=sid(zk), results=results, order=list(order))
        burst += 1
        if not zk.connected:
            time.sleep(0.1)


ROLES = {"register": role_register, "uniq": role_uniq, "queue": role_queue, "eph": role_eph,
         "wwriter": role_wwriter, "fifo": role_fifo}


def main():
    role, hosts, outp, seconds, seed, name = sys.argv[1:7]
    arg = sys.argv[7] if len(sys.argv) > 7 else "4"
    signal.signal(signal.SIGTERM, lambda *a: STOP.set())
    threading.Timer(float(seconds), STOP.set).start()
    out = Recorder(outp, name)
    rnd = random.Random(int(seed))
    try:
        zk = connect(hosts, timeout=4.0)
    except Exception as e:  # noqa: BLE001
        out.rec(f="noconnect", err=type(e).__name__)
        return 0
    try:
        ROLES[role](zk, out, rnd, name, arg)
    except ZookeeperError as e:
        out.rec(f="error", err=type(e).__name__)
    finally:
        STOP.set()
        try:
            zk.stop()
            zk.close()
        except Exception:  # noqa: BLE001
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
