"""admin_observers.py — the AdminServer's `observers` command on the leader
of an ensemble with one observer (test_ensemble_4lw.sh): Apache 3.8's
SyncedObserverConsCommand lists its observingLearners, each as
LearnerHandler.getLearnerHandlerInfo (remote_socket_address, sid,
established, queued_packets, queued_packets_size, packets_received,
packets_sent, requests, last_zxid, in that order); a write sent to the
observer is forwarded and counted in "requests"; observer_connection_stat_reset
zeroes the counts; a follower answers synced_observers 0 and [].

Usage: admin_observers.py LEADER_ADMIN_PORT FOLLOWER_ADMIN_PORT OBSERVER_CLIENT_PORT
Exit status 0 when every check passed.  Every wait is bounded.
"""
import json
import sys
import time
import urllib.request

from kazoo.client import KazooClient

KEYS = ["remote_socket_address", "sid", "established", "queued_packets", "queued_packets_size",
        "packets_received", "packets_sent", "requests", "last_zxid"]
failed = 0


def check(cond, what):
    global failed
    if not cond:
        failed += 1
        print("FAIL:", what)


def command(port, name):
    with urllib.request.urlopen("http://127.0.0.1:%d/commands/%s" % (port, name), timeout=10) as r:
        return json.loads(r.read().decode())


def observer_entry(port):
    doc = command(port, "observers")
    obs = doc.get("observers") or []
    return doc, (obs[0] if len(obs) == 1 else None)


def main():
    lport, fport, ocport = (int(a) for a in sys.argv[1:4])
    doc, ob = None, None
    deadline = time.monotonic() + 30
    while ob is None and time.monotonic() < deadline:
        doc, ob = observer_entry(lport)
        if ob is None:
            time.sleep(0.3)
    check(ob is not None, "the leader lists one observer: %r" % doc)
    if ob is None:
        return 1
    check(doc.get("synced_observers") == 1 and doc.get("command") == "observers" and doc.get("error") is None,
          "observers head: %r" % doc)
    check(list(ob.keys()) == KEYS, "observer keys in Apache's order: %r" % list(ob.keys()))
    check(ob.get("sid") == 4, "the observer is sid 4: %r" % ob)
    check(str(ob.get("remote_socket_address", "")).startswith("/127.0.0.1:"), "remote_socket_address %r" % ob)
    check(isinstance(ob.get("established"), int) and abs(ob["established"] / 1000 - time.time()) < 3600,
          "established is epoch ms: %r" % ob)
    check(all(isinstance(ob.get(k), int) and ob[k] >= 0 for k in KEYS[3:8]), "counts are integers: %r" % ob)
    check(isinstance(ob.get("last_zxid"), int), "last_zxid is a number: %r" % ob)
    before = ob.get("requests", 0)

    zk = KazooClient(hosts="127.0.0.1:%d" % ocport, timeout=10)
    zk.start(timeout=30)
    try:
        zk.create("/admin_observers_probe", b"x")
    finally:
        zk.stop()
        zk.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        _, ob = observer_entry(lport)
        if ob and ob.get("requests", 0) > before and ob.get("last_zxid", -1) > 0:
            break
        time.sleep(0.3)
    check(ob is not None and ob.get("requests", 0) > before,
          "the observer's forwarded requests are counted (%r before): %r" % (before, ob))
    check(ob is not None and ob.get("last_zxid", -1) > 0, "last_zxid is the write's INFORM: %r" % ob)

    command(lport, "orst")
    _, ob = observer_entry(lport)
    check(ob is not None and ob.get("requests") == 0, "orst zeroes requests: %r" % ob)
    check(ob is not None and ob.get("last_zxid", 0) < (1 << 62), "last_zxid after orst: %r" % ob)

    doc = command(fport, "observers")
    check(doc.get("synced_observers") == 0 and doc.get("observers") == [], "a follower lists none: %r" % doc)
    print("admin_observers: %s" % ("ok" if failed == 0 else "%d failed" % failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
