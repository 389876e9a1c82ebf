#!/usr/bin/python3
"""kazoo_suite.py — ZooKeeper semantics checked through kazoo (python3-kazoo
2.8), asserting exact results.  Proven against Apache ZooKeeper 3.8; used as
the acceptance test of bin/zkserver.

Usage: /usr/bin/python3 kazoo_suite.py HOST:PORT
Prints one "ok ..." line per check and stops at the first mismatch with
"FAIL <check>: expected ..., got ..." and exit status 1.

Not covered here because kazoo 2.8 has no API for them (left to the raw
protocol / diff tests): addWatch (persistent and persistent-recursive
watches), getEphemerals, getAllChildrenNumber.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo import exceptions as zkerr
from kazoo.protocol.states import EventType, KazooState
from kazoo.security import (OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, make_acl,
                            make_digest_acl)

HOSTS = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:2181"
ROOT = "/kz"
clients = []          # every KazooClient we started; stopped at the end


# ---------------------------------------------------------------- helpers

def fail(name, expected, got):
    print(f"FAIL {name}: expected {expected!r}, got {got!r}", flush=True)
    raise SystemExit(1)


def check(name, got, expected):
    """Assert got == expected."""
    if got != expected:
        fail(name, expected, got)
    print(f"ok   {name}", flush=True)


def check_true(name, cond, detail=""):
    """Assert a condition; detail describes what was seen."""
    if not cond:
        fail(name, "condition true", detail)
    print(f"ok   {name}", flush=True)


def raises(name, exc_type, fn, *args, **kwargs):
    """Assert fn(*args, **kwargs) raises exactly exc_type."""
    try:
        res = fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - we compare the type below
        if type(exc) is not exc_type:
            fail(name, exc_type.__name__, f"{type(exc).__name__}: {exc}")
        print(f"ok   {name}", flush=True)
        return
    fail(name, exc_type.__name__, f"no exception, returned {res!r}")


def wait_until(cond, seconds=10.0, step=0.05):
    """Poll cond() until true or the bound expires; return its last value."""
    deadline = time.monotonic() + seconds
    while True:
        value = cond()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


def new_client(timeout=10.0, **kwargs):
    """Start a KazooClient on HOSTS (bounded) and remember it for cleanup."""
    zk = KazooClient(hosts=HOSTS, timeout=timeout, **kwargs)
    zk.start(timeout=15)
    clients.append(zk)
    return zk


class EventLog:
    """Collects WatchedEvents delivered to a watch callback."""

    def __init__(self):
        self.events = []
        self.lock = threading.Lock()

    def __call__(self, event):
        with self.lock:
            self.events.append((event.type, event.path))

    def wait(self, count=1, seconds=10.0):
        wait_until(lambda: len(self.events) >= count, seconds)
        time.sleep(0.3)   # give a duplicate event the chance to show up
        with self.lock:
            return list(self.events)


def stat_dict(stat):
    return stat._asdict()


def hook_wire_order(zk):
    """Record, in the connection thread, the order in which watch events
    and replies arrive on the wire.  Returns the shared list of entries
    ("event", type, path) / ("reply", request class, path)."""
    wire = []
    conn = zk._connection
    orig_event, orig_reply = conn._read_watch_event, conn._read_response

    def on_event(buffer, offset):
        from kazoo.protocol.serialization import Watch
        watch, _ = Watch.deserialize(buffer, offset)
        wire.append(("event", watch.type, watch.path))
        return orig_event(buffer, offset)

    def on_reply(header, buffer, offset):
        request = zk._pending[0][0] if zk._pending else None
        wire.append(("reply", type(request).__name__,
                     getattr(request, "path", None)))
        return orig_reply(header, buffer, offset)

    conn._read_watch_event = on_event
    conn._read_response = on_reply
    return wire


def session_timeout_of(zk, session_id):
    """Negotiated timeout (ms) of a session, from the `cons` four-letter word."""
    cons = zk.command(b"cons")
    match = re.search(r"sid=0x%x\b[^)]*?\bto=(\d+)" % session_id, cons)
    return int(match.group(1)) if match else None


# ---------------------------------------------------------------- tests

def test_create_modes(zk):
    path = zk.create(f"{ROOT}/p", b"pdata")
    check("create persistent returns path", path, f"{ROOT}/p")
    data, st = zk.get(f"{ROOT}/p")
    check("persistent data", data, b"pdata")
    check("new node version", st.version, 0)
    check("new node cversion", st.cversion, 0)
    check("new node aversion", st.aversion, 0)
    check("new node numChildren", st.numChildren, 0)
    check("new node dataLength", st.dataLength, 5)
    check("new node ephemeralOwner", st.ephemeralOwner, 0)
    check("new node mzxid == czxid", st.mzxid, st.czxid)
    check("new node pzxid == czxid", st.pzxid, st.czxid)
    check("new node mtime == ctime", st.mtime, st.ctime)
    now_ms = time.time() * 1000
    check_true("ctime is wall-clock ms", abs(st.ctime - now_ms) < 120000,
               f"ctime {st.ctime} now {now_ms:.0f}")
    check("create returns zxid of creation", zk.last_zxid, st.czxid)

    # empty data
    zk.create(f"{ROOT}/empty")
    data, st = zk.get(f"{ROOT}/empty")
    check("empty data", (data, st.dataLength), (b"", 0))

    # ephemeral
    zk.create(f"{ROOT}/eph", b"e", ephemeral=True)
    st = zk.exists(f"{ROOT}/eph")
    check("ephemeralOwner == session id", st.ephemeralOwner, zk.client_id[0])
    raises("child of ephemeral -> NoChildrenForEphemeralsError",
           zkerr.NoChildrenForEphemeralsError, zk.create, f"{ROOT}/eph/c")
    raises("sequential child of ephemeral -> NoChildrenForEphemeralsError",
           zkerr.NoChildrenForEphemeralsError, zk.create, f"{ROOT}/eph/c",
           sequence=True)

    # sequential: the suffix (%010d) counts the children ever CREATED under
    # the parent.  Apache stores that count as the parent's cversion and
    # reports Stat.cversion = 2 * creates - numChildren (= creates + deletes),
    # so after a delete the next suffix is lower than the reported cversion.
    zk.create(f"{ROOT}/seq")
    p0 = zk.create(f"{ROOT}/seq/n-", b"0", sequence=True)
    check("first sequential name", p0, f"{ROOT}/seq/n-0000000000")
    p1 = zk.create(f"{ROOT}/seq/n-", b"1", sequence=True)
    check("second sequential name", p1, f"{ROOT}/seq/n-0000000001")
    zk.create(f"{ROOT}/seq/plain")                      # cversion -> 3
    zk.delete(f"{ROOT}/seq/plain")                      # cversion -> 4
    st = zk.exists(f"{ROOT}/seq")
    check("parent cversion counts creates and deletes", st.cversion, 4)
    check("parent numChildren", st.numChildren, 2)
    p3 = zk.create(f"{ROOT}/seq/", b"3", sequence=True)
    check("sequential suffix counts creates, not deletes", p3,
          f"{ROOT}/seq/0000000003")
    check("reported cversion = 2 * creates - numChildren",
          zk.exists(f"{ROOT}/seq").cversion, 5)
    pe = zk.create(f"{ROOT}/seq/e-", b"e", ephemeral=True, sequence=True)
    check("ephemeral sequential name", pe, f"{ROOT}/seq/e-0000000004")
    st = zk.exists(pe)
    check("ephemeral sequential owner", st.ephemeralOwner, zk.client_id[0])
    # a sequential node of another prefix shares the counter
    px = zk.create(f"{ROOT}/seq/x-", sequence=True)
    check("counter shared by prefixes", px, f"{ROOT}/seq/x-0000000005")
    children = sorted(zk.get_children(f"{ROOT}/seq"))
    check("sequential children", children,
          ["0000000003", "e-0000000004", "n-0000000000", "n-0000000001",
           "x-0000000005"])

    # makepath
    path = zk.create(f"{ROOT}/mk/a/b", b"leaf", makepath=True)
    check("makepath returns path", path, f"{ROOT}/mk/a/b")
    check("makepath parent data empty", zk.get(f"{ROOT}/mk/a")[0], b"")
    check("makepath leaf data", zk.get(f"{ROOT}/mk/a/b")[0], b"leaf")

    # create2: the stat of the new node
    path, st = zk.create(f"{ROOT}/c2", b"abc", include_data=True)
    check("create2 path", path, f"{ROOT}/c2")
    check("create2 stat version", st.version, 0)
    check("create2 stat dataLength", st.dataLength, 3)
    check("create2 stat czxid == mzxid", st.czxid, st.mzxid)
    check("create2 stat == exists stat", stat_dict(st),
          stat_dict(zk.exists(f"{ROOT}/c2")))
    path, st = zk.create(f"{ROOT}/c2/s-", b"", sequence=True, ephemeral=True,
                         include_data=True)
    check("create2 sequential ephemeral path", path, f"{ROOT}/c2/s-0000000000")
    check("create2 stat ephemeralOwner", st.ephemeralOwner, zk.client_id[0])


def test_errors(zk):
    raises("create existing -> NodeExistsError", zkerr.NodeExistsError,
           zk.create, f"{ROOT}/p")
    raises("create under missing parent -> NoNodeError", zkerr.NoNodeError,
           zk.create, f"{ROOT}/missing/child")
    raises("get missing -> NoNodeError", zkerr.NoNodeError, zk.get,
           f"{ROOT}/missing")
    raises("set missing -> NoNodeError", zkerr.NoNodeError, zk.set,
           f"{ROOT}/missing", b"x")
    raises("delete missing -> NoNodeError", zkerr.NoNodeError, zk.delete,
           f"{ROOT}/missing")
    raises("get_children missing -> NoNodeError", zkerr.NoNodeError,
           zk.get_children, f"{ROOT}/missing")
    raises("get_acls missing -> NoNodeError", zkerr.NoNodeError,
           zk.get_acls, f"{ROOT}/missing")
    check("exists missing -> None", zk.exists(f"{ROOT}/missing"), None)
    raises("delete non-empty -> NotEmptyError", zkerr.NotEmptyError,
           zk.delete, f"{ROOT}/seq")
    raises("delete root -> BadArgumentsError", zkerr.BadArgumentsError,
           zk.delete, "/")
    raises("create root -> NodeExistsError", zkerr.NodeExistsError,
           zk.create, "/")


def test_set_delete_versions(zk):
    base = f"{ROOT}/ver"
    zk.create(base, b"v0")
    st0 = zk.exists(base)
    st1 = zk.set(base, b"v1-longer")
    check("set returns version 1", st1.version, 1)
    check("set dataLength", st1.dataLength, 9)
    check("set keeps czxid", st1.czxid, st0.czxid)
    check_true("set advances mzxid", st1.mzxid > st0.mzxid,
               f"{st1.mzxid} vs {st0.mzxid}")
    check("set mzxid is the reply zxid", st1.mzxid, zk.last_zxid)
    check("set keeps pzxid", st1.pzxid, st0.pzxid)
    check("set keeps cversion", st1.cversion, 0)
    check_true("set mtime >= ctime", st1.mtime >= st1.ctime, str(st1))
    raises("set with wrong version -> BadVersionError", zkerr.BadVersionError,
           zk.set, base, b"x", version=5)
    st2 = zk.set(base, b"v2", version=1)
    check("set with right version", st2.version, 2)
    st3 = zk.set(base, b"v3", version=-1)
    check("set with version -1", st3.version, 3)
    check("get after sets", zk.get(base)[0], b"v3")
    st4 = zk.set(base, b"v3")
    check("set same data still bumps version", st4.version, 4)

    # parent bookkeeping on child create / delete
    parent = zk.exists(ROOT)
    zk.create(f"{base}/c1")
    c1 = zk.exists(f"{base}/c1")
    pst = zk.exists(base)
    check("parent pzxid == child czxid", pst.pzxid, c1.czxid)
    check("parent cversion +1", pst.cversion, 1)
    check("parent numChildren", pst.numChildren, 1)
    check("parent mzxid unchanged by child create", pst.mzxid, st4.mzxid)
    check("parent version unchanged by child create", pst.version, 4)
    raises("delete with wrong version -> BadVersionError",
           zkerr.BadVersionError, zk.delete, f"{base}/c1", version=3)
    zk.delete(f"{base}/c1", version=0)
    delete_zxid = zk.last_zxid
    pst = zk.exists(base)
    check("parent pzxid == zxid of delete", pst.pzxid, delete_zxid)
    check("parent cversion +1 on delete", pst.cversion, 2)
    check("parent numChildren after delete", pst.numChildren, 0)
    check("grandparent unaffected", zk.exists(ROOT).cversion,
          parent.cversion)
    zk.delete(base, version=-1)
    check("deleted", zk.exists(base), None)

    # get_children with stat
    zk.create(f"{ROOT}/kids")
    for name in ("b", "a", "c"):
        zk.create(f"{ROOT}/kids/{name}", name.encode())
    kids, st = zk.get_children(f"{ROOT}/kids", include_data=True)
    check("get_children names", sorted(kids), ["a", "b", "c"])
    check("get_children stat numChildren", st.numChildren, 3)
    check("get_children stat == exists stat", stat_dict(st),
          stat_dict(zk.exists(f"{ROOT}/kids")))

    # sync
    check("sync returns path", zk.sync(ROOT), ROOT)


def test_watches(zk, other):
    base = f"{ROOT}/w"
    zk.create(base, b"0")

    # data watch (getData) fires once on setData by another client
    ev = EventLog()
    zk.get(base, watch=ev)
    other.set(base, b"1")
    other.set(base, b"2")
    check("get watch fires CHANGED once", ev.wait(),
          [(EventType.CHANGED, base)])

    # exists watch on an existing node, fired by delete
    zk.create(f"{base}/d", b"")
    ev = EventLog()
    zk.exists(f"{base}/d", watch=ev)
    other.delete(f"{base}/d")
    check("exists watch fires DELETED once", ev.wait(),
          [(EventType.DELETED, f"{base}/d")])

    # exists watch on a missing node fires on create
    ev = EventLog()
    check("exists missing sets watch", zk.exists(f"{base}/new", watch=ev), None)
    other.create(f"{base}/new", b"n")
    other.set(f"{base}/new", b"m")
    check("exists watch on missing node fires CREATED once", ev.wait(),
          [(EventType.CREATED, f"{base}/new")])

    # child watch fires on child create, on child delete
    ev = EventLog()
    zk.get_children(base, watch=ev)
    other.create(f"{base}/k1")
    other.create(f"{base}/k2")
    check("child watch fires CHILD once on create", ev.wait(),
          [(EventType.CHILD, base)])
    ev = EventLog()
    zk.get_children(base, watch=ev)
    other.delete(f"{base}/k1")
    check("child watch fires CHILD on child delete", ev.wait(),
          [(EventType.CHILD, base)])
    # setData on the parent does not fire a child watch; on a child neither
    ev = EventLog()
    zk.get_children(base, watch=ev)
    other.set(base, b"x")
    other.set(f"{base}/k2", b"x")
    check("child watch ignores setData", ev.wait(0, 0.2), [])
    other.delete(f"{base}/k2")
    check("child watch then fires on delete", ev.wait(),
          [(EventType.CHILD, base)])

    # delete of a watched node fires both its data and child watches
    other.create(f"{base}/gone")
    dev, cev = EventLog(), EventLog()
    zk.get(f"{base}/gone", watch=dev)
    zk.get_children(f"{base}/gone", watch=cev)
    other.delete(f"{base}/gone")
    check("data watch on deleted node", dev.wait(),
          [(EventType.DELETED, f"{base}/gone")])
    check("child watch on deleted node", cev.wait(),
          [(EventType.DELETED, f"{base}/gone")])

    # the watching client's own change fires its watch too
    ev = EventLog()
    zk.get(base, watch=ev)
    zk.set(base, b"self")
    check("own setData fires own watch", ev.wait(),
          [(EventType.CHANGED, base)])

    # create of a child does not fire a data watch on the parent
    ev = EventLog()
    zk.get(base, watch=ev)
    other.create(f"{base}/quiet")
    check("child create does not fire parent data watch", ev.wait(0, 0.2), [])
    other.set(base, b"loud")
    check("then parent setData fires it", ev.wait(),
          [(EventType.CHANGED, base)])

    # ordering: the event reaches the client before the reply of a read
    # that observes the change.
    wire = hook_wire_order(zk)
    ev = EventLog()
    zk.get(base, watch=ev)
    other.set(base, b"ordered")              # acknowledged to `other`
    data, _ = zk.get(base)                   # must observe the new data
    check("read after acknowledged write sees it", data, b"ordered")
    events = [i for i, e in enumerate(wire)
              if e[0] == "event" and e[2] == base]
    replies = [i for i, e in enumerate(wire)
               if e[0] == "reply" and e[1] == "GetData" and e[2] == base]
    check_true("event arrives before the reply that shows the change",
               len(events) == 1 and len(replies) == 2
               and replies[0] < events[0] < replies[1], repr(wire))
    check("ordered event type", ev.wait(), [(EventType.CHANGED, base)])


def test_transactions(zk):
    base = f"{ROOT}/tx"
    zk.create(base, b"t")
    t = zk.transaction()
    t.create(f"{base}/a", b"A")
    t.create(f"{base}/s-", b"S", sequence=True)
    t.set_data(base, b"t2")
    t.check(base, 1)
    t.create(f"{base}/b", b"B")
    t.delete(f"{base}/b")
    res = t.commit()
    described = [r if isinstance(r, (str, bool)) else type(r).__name__
                 for r in res]
    check("multi success results", described,
          [f"{base}/a", f"{base}/s-0000000001", "ZnodeStat", True,
           f"{base}/b", True])
    check("multi setData stat version", res[2].version, 1)
    check("multi applied", (zk.get(f"{base}/a")[0], zk.get(base)[0]),
          (b"A", b"t2"))
    st = zk.exists(base)
    check("multi one zxid for all ops", st.mzxid, zk.exists(f"{base}/a").czxid)

    # failure: nothing applied; the failing op carries the error, earlier
    # ones RolledBackError, later ones RuntimeInconsistency (Apache).
    t = zk.transaction()
    t.create(f"{base}/c", b"C")
    t.set_data(base, b"t3")
    t.check(base, 7)
    t.delete(f"{base}/a")
    res = t.commit()
    check("multi failure results", [type(r).__name__ for r in res],
          ["RolledBackError", "RolledBackError", "BadVersionError",
           "RuntimeInconsistency"])
    check("multi failure: create rolled back", zk.exists(f"{base}/c"), None)
    check("multi failure: setData rolled back", zk.get(base)[0], b"t2")
    check("multi failure: delete not applied",
          zk.exists(f"{base}/a") is not None, True)

    t = zk.transaction()
    t.create(f"{base}/d")
    t.create(f"{base}/missing/x")
    res = t.commit()
    check("multi NoNode results", [type(r).__name__ for r in res],
          ["RolledBackError", "NoNodeError"])
    check("multi NoNode: nothing created", zk.exists(f"{base}/d"), None)

    t = zk.transaction()
    t.delete(f"{base}/a")
    t.create(f"{base}/a", b"again")      # sees the effect of the delete
    res = t.commit()
    check("multi later op sees earlier op", res, [True, f"{base}/a"])
    check("recreated data", zk.get(f"{base}/a")[0], b"again")

    t = zk.transaction()
    t.check(f"{base}/a", 0)
    t.delete(base)                        # not empty
    res = t.commit()
    check("multi NotEmpty results", [type(r).__name__ for r in res],
          ["RolledBackError", "NotEmptyError"])


def test_acls(zk, other):
    base = f"{ROOT}/acl"
    zk.create(base)
    digest_acl = make_digest_acl("alice", "secret", all=True)
    zk.create(f"{base}/digest", b"hidden", acl=[digest_acl])
    raises("no auth -> NoAuthError on get", zkerr.NoAuthError, other.get,
           f"{base}/digest")
    raises("no auth -> NoAuthError on set", zkerr.NoAuthError, other.set,
           f"{base}/digest", b"x")
    raises("no auth -> NoAuthError on create child", zkerr.NoAuthError,
           other.create, f"{base}/digest/c")
    check("exists needs no permission",
          other.exists(f"{base}/digest").dataLength, 6)
    raises("no auth -> NoAuthError on get_acls (needs READ or ADMIN)",
           zkerr.NoAuthError, other.get_acls, f"{base}/digest")

    auth = new_client()
    auth.add_auth("digest", "alice:wrong")
    raises("wrong password -> NoAuthError", zkerr.NoAuthError, auth.get,
           f"{base}/digest")
    auth.add_auth("digest", "alice:secret")
    acls, st = auth.get_acls(f"{base}/digest")
    check("get_acls of digest ACL",
          [(a.perms, a.id.scheme, a.id.id) for a in acls],
          [(31, "digest", digest_acl.id.id)])
    check("get_acls stat aversion", st.aversion, 0)
    check("after add_auth get works", auth.get(f"{base}/digest")[0], b"hidden")
    auth.set(f"{base}/digest", b"seen")
    auth.create(f"{base}/digest/c")
    auth.delete(f"{base}/digest/c")

    # world:anyone read-only
    zk.create(f"{base}/ro", b"r", acl=READ_ACL_UNSAFE)
    check("read-only node readable", other.get(f"{base}/ro")[0], b"r")
    raises("read-only node: set -> NoAuthError", zkerr.NoAuthError,
           other.set, f"{base}/ro", b"w")
    raises("read-only node: create child -> NoAuthError", zkerr.NoAuthError,
           other.create, f"{base}/ro/c")
    raises("read-only node: set_acls -> NoAuthError", zkerr.NoAuthError,
           other.set_acls, f"{base}/ro", OPEN_ACL_UNSAFE)
    # delete needs DELETE on the parent, not on the node
    other.delete(f"{base}/ro")
    check("delete governed by parent ACL", other.exists(f"{base}/ro"), None)

    # set_acls with versions
    zk.create(f"{base}/sa", b"", acl=OPEN_ACL_UNSAFE)
    st = zk.set_acls(f"{base}/sa", [make_acl("world", "anyone", read=True,
                                             write=True, admin=True)])
    check("set_acls aversion", st.aversion, 1)
    check("get_acls perms READ|WRITE|ADMIN",
          [a.perms for a in zk.get_acls(f"{base}/sa")[0]], [19])
    raises("no CREATE perm -> NoAuthError", zkerr.NoAuthError, zk.create,
           f"{base}/sa/c")
    raises("set_acls wrong version -> BadVersionError", zkerr.BadVersionError,
           zk.set_acls, f"{base}/sa", OPEN_ACL_UNSAFE, version=0)
    zk.set_acls(f"{base}/sa", OPEN_ACL_UNSAFE, version=1)
    acls, st = zk.get_acls(f"{base}/sa")
    check("get_acls after set_acls", [(a.perms, a.id.scheme, a.id.id)
                                      for a in acls],
          [(31, "world", "anyone")])
    check("aversion 2, version untouched", (st.aversion, st.version), (2, 0))

    # ip ACLs
    zk.create(f"{base}/ip-ok", b"i",
              acl=[make_acl("ip", "127.0.0.1", all=True)])
    check("ip 127.0.0.1 ACL admits localhost", other.get(f"{base}/ip-ok")[0],
          b"i")
    zk.create(f"{base}/ip-net", b"n",
              acl=[make_acl("ip", "127.0.0.0/8", read=True)])
    check("ip 127.0.0.0/8 ACL admits localhost",
          other.get(f"{base}/ip-net")[0], b"n")
    zk.create(f"{base}/ip-no", b"x",
              acl=[make_acl("ip", "10.1.2.3", all=True)])
    raises("ip 10.1.2.3 ACL refuses localhost", zkerr.NoAuthError, other.get,
           f"{base}/ip-no")

    # "auth" scheme: needs an authenticated identity on the session
    raises("auth ACL without identity -> InvalidACLError",
           zkerr.InvalidACLError, other.create, f"{base}/authless",
           acl=[make_acl("auth", "", all=True)])
    auth.create(f"{base}/authed", b"a", acl=[make_acl("auth", "", all=True)])
    acls, _ = auth.get_acls(f"{base}/authed")
    # add_auth digest never fails: the session holds both identities
    wrong_acl = make_digest_acl("alice", "wrong", all=True)
    check("auth ACL expands to every digest identity of the session",
          sorted((a.perms, a.id.scheme, a.id.id) for a in acls),
          sorted([(31, "digest", digest_acl.id.id),
                  (31, "digest", wrong_acl.id.id)]))
    raises("bad ACL scheme -> InvalidACLError", zkerr.InvalidACLError,
           zk.create, f"{base}/bad", acl=[make_acl("nosuch", "x", all=True)])
    # (an empty ACL list cannot be sent through kazoo: it substitutes its
    # default ACL for a false value)


def test_sessions(zk):
    base = f"{ROOT}/sess"
    zk.create(base)

    # close deletes ephemerals immediately and fires watches
    c = new_client()
    c.create(f"{base}/e1", b"", ephemeral=True)
    ev = EventLog()
    zk.exists(f"{base}/e1", watch=ev)
    c.stop()
    c.close()
    check("close: ephemeral gone at once", zk.exists(f"{base}/e1"), None)
    check("close: watch fired DELETED", ev.wait(),
          [(EventType.DELETED, f"{base}/e1")])

    # negotiated timeout is clamped to [2, 20] x tickTime (tickTime=2000)
    c = new_client(timeout=1.0)
    check("timeout 1s negotiated up to 4000 ms",
          session_timeout_of(zk, c.client_id[0]), 4000)
    c.stop(); c.close()
    c = new_client(timeout=100.0)
    check("timeout 100s negotiated down to 40000 ms",
          session_timeout_of(zk, c.client_id[0]), 40000)
    c.stop(); c.close()

    # a second client attaches to the same session with id + password
    c = new_client()
    c.create(f"{base}/shared", b"", ephemeral=True)
    sid, passwd = c.client_id
    c2 = new_client(client_id=(sid, passwd))
    check("reattach keeps the session id", c2.client_id[0], sid)
    check("ephemeral owned by the shared session",
          c2.exists(f"{base}/shared").ephemeralOwner, sid)
    c2.create(f"{base}/shared2", b"", ephemeral=True)
    check("new ephemeral owned by the same session",
          zk.exists(f"{base}/shared2").ephemeralOwner, sid)
    c2.stop(); c2.close()                 # closes the session for both
    check("closing the reattached session deletes its ephemerals",
          (zk.exists(f"{base}/shared"), zk.exists(f"{base}/shared2")),
          (None, None))
    c.stop(); c.close()

    # wrong password: the session is reported expired, a new one is made
    c = new_client()
    sid, passwd = c.client_id
    states = []
    bad = KazooClient(hosts=HOSTS, timeout=10.0,
                      client_id=(sid, bytes(16)))
    bad.add_listener(states.append)
    try:
        bad.start(timeout=15)
        clients.append(bad)
        got = bad.client_id[0]
    except Exception as exc:  # noqa: BLE001
        got = f"start raised {type(exc).__name__}"
    check_true("wrong password does not reattach", got != sid,
               f"session {got!r} states {states}")
    c.stop(); c.close()

    # expiry: a process with a 4 s session is killed -9; its ephemeral
    # survives the crash for about the timeout, then is deleted.
    script = (
        "import sys,time\n"
        "from kazoo.client import KazooClient\n"
        "zk=KazooClient(hosts=sys.argv[1],timeout=4.0)\n"
        "zk.start(timeout=15)\n"
        "zk.create(sys.argv[2],b'x',ephemeral=True)\n"
        "print('0x%x' % zk.client_id[0],flush=True)\n"
        "time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", script, HOSTS,
                             f"{base}/victim"], stdout=subprocess.PIPE)
    try:
        line = b""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not line:
            line = proc.stdout.readline()
        check_true("victim session started", line.startswith(b"0x"),
                   repr(line))
        victim_sid = int(line, 16)
        check("victim ephemeral owner",
              zk.exists(f"{base}/victim").ephemeralOwner, victim_sid)
        ev = EventLog()
        zk.exists(f"{base}/victim", watch=ev)
        os.kill(proc.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        proc.wait(timeout=10)
        time.sleep(1.0)
        check_true("ephemeral survives 1 s after the crash",
                   zk.exists(f"{base}/victim") is not None, "node gone")
        gone = wait_until(lambda: zk.exists(f"{base}/victim") is None, 15.0,
                          0.2)
        elapsed = time.monotonic() - killed_at
        check_true("ephemeral deleted after session expiry (<= 15 s)",
                   gone, f"still present {elapsed:.1f}s after kill")
        check_true("expiry not before the 4 s timeout", elapsed >= 3.5,
                   f"{elapsed:.1f}s")
        check("expiry fires DELETED watch", ev.wait(),
              [(EventType.DELETED, f"{base}/victim")])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        proc.stdout.close()


def test_sizes(zk, other):
    base = f"{ROOT}/big"
    zk.create(base)
    big = bytes((i * 7) % 251 for i in range(1000000))
    zk.create(f"{base}/n", big)
    data, st = other.get(f"{base}/n")
    check("1000000-byte create/get round-trips", (len(data), data == big,
                                                  st.dataLength),
          (1000000, True, 1000000))
    zk.set(f"{base}/n", big[::-1])
    check("1000000-byte set round-trips", other.get(f"{base}/n")[0],
          big[::-1])

    # A request bigger than jute.maxbuffer (0xfffff) is refused: Apache
    # closes the connection; the client gets ConnectionLoss, then
    # reconnects (same session) and works.  Others are unaffected.
    states = []
    victim = new_client()
    victim.add_listener(states.append)
    sid = victim.client_id[0]
    too_big = b"z" * (1024 * 1024 + 16)
    try:
        victim.set(f"{base}/n", too_big)
        got = "no error"
    except zkerr.ConnectionLoss:
        got = "ConnectionLoss"
    except Exception as exc:  # noqa: BLE001
        got = type(exc).__name__
    check("over-limit set -> ConnectionLoss", got, "ConnectionLoss")
    check("other client unaffected", other.get(f"{base}/n")[0][:4],
          big[::-1][:4])
    check("node unchanged", other.exists(f"{base}/n").dataLength, 1000000)
    check_true("client saw SUSPENDED", KazooState.SUSPENDED in states,
               repr(states))
    wait_until(lambda: victim.connected, 15)
    check("client reconnects with its session",
          (victim.connected, victim.client_id[0]), (True, sid))
    check("client works again", victim.exists(f"{base}/n").dataLength,
          1000000)


def main():
    zk = new_client()
    other = new_client()
    if zk.exists(ROOT):
        zk.delete(ROOT, recursive=True)
    zk.create(ROOT)
    test_create_modes(zk)
    test_errors(zk)
    test_set_delete_versions(zk)
    test_watches(zk, other)
    test_transactions(zk)
    test_acls(zk, other)
    test_sessions(zk)
    test_sizes(zk, other)
    print("kazoo suite: all checks passed", flush=True)


if __name__ == "__main__":
    try:
        main()
    finally:
        for client in clients:
            try:
                client.stop()
                client.close()
            except Exception:  # noqa: BLE001 - best effort cleanup
                pass
