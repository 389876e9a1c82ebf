#!/usr/bin/python3
"""ensemble_sessions.py - session checks across replicas for
test_ensemble_sessions.sh.  Exit 0 on success, 1 on a failed check (the
reason on stderr).  Every wait is bounded.

Commands:
  hold HOSTS TIMEOUT_MS PATH...
      Open a session (kazoo, on HOSTS) with the given timeout, create each
      PATH as an ephemeral (makepath), print "session 0x<id> <passwd hex>"
      and sleep (120 s max) until killed.
  keepalive HOSTS TIMEOUT_MS SECONDS
      Open a session on HOSTS (a follower or observer), create an
      ephemeral, stay connected (kazoo pings) for SECONDS, several times the
      session timeout: the session must survive (same id, ephemeral still
      there, owned by it) - the replica keeps it alive at the leader.
  survive HOSTS TIMEOUT_MS GOFILE
      Open a session (kazoo, HOSTS in order, not randomized), create the
      ephemeral /survivor, print "ready", wait (60 s max) until GOFILE
      exists (the test kills the leader meanwhile and waits for a new
      one), then, through the same client, check the session id did not
      change and /survivor is still there, owned by it; close the session.
  resume HOSTS SID PASSWD_HEX PATH...
      A new kazoo client on HOSTS with client_id=(SID, PASSWD): it must get
      the same session back, each PATH must exist and be owned by it; then
      close the session.
  move HOST_A HOST_B HOST_C
      Raw protocol (zkwire), under a fresh /run<pid>: a session on A sets a
      data watch on mv/w and mv/w2, an exists watch on mv/new and a child
      watch on mv, owns the ephemeral mv/eph; it drops its connection; /mv/w2 is changed through
      B while it is away; it reconnects to C with its session id, password
      and last zxid and re-sends its watches (setWatches): the missed change
      of /mv/w2 fires at once, then changes made through B (set /mv/w,
      create /mv/new) fire on C; the session and /mv/eph survive 3 session
      timeouts of pings through C; closing it removes /mv/eph (seen via B).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zkwire  # noqa: E402
from kazoo.client import KazooClient  # noqa: E402


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def kazoo(hosts, timeout_s=10.0, client_id=None):
    zk = KazooClient(hosts=hosts, timeout=timeout_s, client_id=client_id)
    zk.start(timeout=15)
    return zk


def cmd_hold(hosts, timeout_ms, *paths):
    zk = kazoo(hosts, int(timeout_ms) / 1000.0)
    for p in paths:
        zk.create(p, b"held", ephemeral=True, makepath=True)
    sid, passwd = zk.client_id
    print(f"session 0x{sid:x} {passwd.hex()}", flush=True)
    time.sleep(120)
    return 0


def cmd_keepalive(hosts, timeout_ms, seconds):
    zk = kazoo(hosts, int(timeout_ms) / 1000.0)
    sid = zk.client_id[0]
    zk.create("/keepalive-eph", b"x", ephemeral=True)
    time.sleep(float(seconds))
    if zk.client_id[0] != sid:
        fail("the session changed from 0x%x to 0x%x" % (sid, zk.client_id[0]))
    st = zk.exists("/keepalive-eph")
    if st is None or st.ephemeralOwner != sid:
        fail(f"ephemeral of live session 0x{sid:x} gone or not owned by it: {st}")
    zk.stop(); zk.close()
    print(f"session 0x{sid:x} alive after {seconds} s")
    return 0


def cmd_survive(hosts, timeout_ms, gofile):
    zk = KazooClient(hosts=hosts, timeout=int(timeout_ms) / 1000.0, randomize_hosts=False)
    zk.start(timeout=15)
    sid = zk.client_id[0]
    zk.create("/survivor", b"x", ephemeral=True)
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    while not os.path.exists(gofile) and time.monotonic() < deadline:
        time.sleep(0.1)
    st = None
    end = time.monotonic() + 15     # the client may still be reconnecting
    while time.monotonic() < end:
        try:
            st = zk.exists("/survivor")
            break
        except Exception:  # noqa: BLE001 - ConnectionLoss while it reconnects
            time.sleep(0.2)
    if zk.client_id is None or zk.client_id[0] != sid:
        fail("session 0x%x was lost across the leader change (now %s)" % (sid, zk.client_id))
    if st is None or st.ephemeralOwner != sid:
        fail(f"/survivor of session 0x{sid:x} gone across the leader change: {st}")
    zk.stop(); zk.close()
    print(f"session 0x{sid:x} survived the leader change")
    return 0


def cmd_resume(hosts, sid_text, passwd_hex, *paths):
    sid = int(sid_text, 16)
    zk = kazoo(hosts, 10.0, client_id=(sid, bytes.fromhex(passwd_hex)))
    if zk.client_id[0] != sid:
        fail("resumed session is 0x%x, not 0x%x" % (zk.client_id[0], sid))
    for p in paths:
        st = zk.exists(p)
        if st is None:
            fail(f"{p} of session 0x{sid:x} is gone after the move")
        if st.ephemeralOwner != sid:
            fail(f"{p} owned by 0x{st.ephemeralOwner:x}, not 0x{sid:x}")
    zk.create("/resumed-write", b"ok", ephemeral=True)
    zk.stop(); zk.close()
    print(f"session 0x{sid:x} resumed on {hosts}")
    return 0


def expect_events(conn, want, timeout=10.0):
    """Receive until every (type, path) in want has arrived; return them."""
    want = set(want)
    got = []
    deadline = time.monotonic() + timeout
    while want - {(e.type, e.path) for e in got}:
        left = deadline - time.monotonic()
        if left <= 0:
            fail(f"watch events missing: {sorted(want - {(e.type, e.path) for e in got})}; "
                 f"got {got}")
        try:
            conn.recv(timeout=min(left, 1.0))
        except zkwire.ConnectionClosed as e:
            if "timeout" not in str(e):
                raise
        got += conn.take_events()
    return got


def cmd_move(host_a, host_b, host_c):
    ha, pa = zkwire.parse_hostport(host_a)
    hc, pc = zkwire.parse_hostport(host_c)
    B = "/run%d" % os.getpid()       # a fresh subtree per run
    other = kazoo(host_b)
    other.ensure_path(B + "/mv")
    for p in (B + "/mv/w", B + "/mv/w2"):
        if other.exists(p) is None:
            other.create(p, b"0")

    timeout_ms = 3000
    a = zkwire.Conn(ha, pa, timeout_ms=timeout_ms)
    resp = a.connect()
    sid, passwd = resp["sessionId"], resp["passwd"]
    if sid == 0:
        fail("no session on " + host_a)
    ok = zkwire.ERR
    r = a.call("sync", zkwire.enc_path(B + "/mv"))
    for op, body in (("create", zkwire.enc_create(B + "/mv/eph", b"e", flags=zkwire.EPHEMERAL)),
                     ("getData", zkwire.enc_path_watch(B + "/mv/w", True)),
                     ("getData", zkwire.enc_path_watch(B + "/mv/w2", True)),
                     ("exists", zkwire.enc_path_watch(B + "/mv/new", True)),
                     ("getChildren", zkwire.enc_path_watch(B + "/mv", True))):
        r = a.call(op, body)
        if r.err not in (0, -101):
            fail(f"{op} on {host_a}: {ok.get(r.err, r.err)}")
    last_zxid = a.last_zxid
    a.disconnect()

    # A change while the client is away: must fire when the watch is re-set.
    other.set(B + "/mv/w2", b"changed-while-away")

    c = zkwire.Conn(hc, pc, timeout_ms=timeout_ms, session_id=sid, passwd=passwd,
                    last_zxid=last_zxid)
    resp = c.connect()
    if resp["sessionId"] != sid:
        fail("reconnect to %s gave session 0x%x, not 0x%x (expired or refused)"
             % (host_c, resp["sessionId"], sid))
    r = c.set_watches(last_zxid, data=[B + "/mv/w", B + "/mv/w2"], exist=[B + "/mv/new"],
                      child=[B + "/mv"])
    if r.err != 0:
        fail(f"setWatches on {host_c}: {ok.get(r.err, r.err)}")
    expect_events(c, {(3, B + "/mv/w2")})             # NodeDataChanged, missed while away
    other.set(B + "/mv/w", b"changed-after-move")
    other.create(B + "/mv/new", b"n")
    expect_events(c, {(3, B + "/mv/w"), (1, B + "/mv/new"), (4, B + "/mv")})
    # The session lives on through C (pings) for 3 timeouts.
    end = time.monotonic() + 3 * timeout_ms / 1000.0
    while time.monotonic() < end:
        c.ping(timeout=5)
        time.sleep(0.5)
    r = c.call("exists", zkwire.enc_path_watch(B + "/mv/eph", False))
    if r.err != 0:
        fail(f"{B}/mv/eph gone after the move: {ok.get(r.err, r.err)}")
    st = other.exists(B + "/mv/eph")
    if st is None or st.ephemeralOwner != sid:
        fail(f"{B}/mv/eph not owned by 0x{sid:x} as seen via {host_b}: {st}")
    c.close_session(timeout=10)
    other.sync("/")
    if other.exists(B + "/mv/eph") is not None:
        fail(B + "/mv/eph survives the close of its session")
    other.stop(); other.close()
    print(f"session 0x{sid:x} moved {host_a} -> {host_c} with its watches and ephemeral")
    return 0


COMMANDS = {"hold": cmd_hold, "keepalive": cmd_keepalive, "resume": cmd_resume,
            "survive": cmd_survive,
            "move": cmd_move}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(COMMANDS[sys.argv[1]](*sys.argv[2:]))
