"""reconfig_probe.py — drives reconfig (opcode 16) through kazoo against a
running 3-voter ensemble whose zoo.cfg has reconfigEnabled=true and whose
super user is super:test, and prints one normalised line per case (the
error class, or the returned config text and the Stat fields that do not
depend on timing).  test_reconfig.sh runs it against zkserver and Apache
3.8 and requires identical output.

usage: reconfig_probe.py HOSTS Q1 E1 C1 Q2 E2 C2 Q3 E3 C3 FREE1 FREE2 FREE3
(the members' quorum/election/client ports, then three unused ports)."""
import sys
import time

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.security import ACL, ANYONE_ID_UNSAFE, Permissions, make_digest_acl

hosts = sys.argv[1]
ports = [int(p) for p in sys.argv[2:]]
names = {}
for i, p in enumerate(ports[:9]):
    names[str(p)] = "%s%d" % ("QEC"[i % 3], i // 3 + 1)
for i, p in enumerate(ports[9:]):
    names[str(p)] = "F%d" % (i + 1)
F1, F2, F3 = ports[9:12]


def norm(text):
    """The config text with ports replaced by their names and the version
    line checked against the Stat's mzxid."""
    out = []
    for line in text.split("\n"):
        if line.startswith("version="):
            out.append("version=<v>")
            continue
        for p, n in sorted(names.items(), key=lambda kv: -len(kv[0])):
            line = line.replace(":" + p, ":" + n)
        out.append(line)
    return "|".join(out)


def client(auth=None):
    zk = KazooClient(hosts=hosts, timeout=20, auth_data=auth)
    zk.start(timeout=30)
    return zk


def stat_line(st):
    return "version=%d aversion=%d cversion=%d eph=%d len=%d nchild=%d" % (
        st.version, st.aversion, st.cversion, st.ephemeralOwner, st.dataLength,
        st.numChildren)


def run(name, zk, joining=None, leaving=None, new_members=None, from_config=-1):
    try:
        data, st = zk.reconfig(joining=joining, leaving=leaving,
                               new_members=new_members, from_config=from_config)
    except KazooException as e:
        print("%s: %s" % (name, type(e).__name__))
        return None
    text = data.decode()
    last = text.split("\n")[-1]
    ok = last == "version=%x" % st.mzxid
    print("%s: ok %s [%s] version-line-is-mzxid=%s" % (name, norm(text), stat_line(st), ok))
    return text


def current(zk):
    data, st = zk.get("/zookeeper/config")
    return data.decode(), st


plain = client()
su = client([("digest", "super:test")])
d, st = current(plain)
print("initial: %s [%s] version-line-is-mzxid=%s" % (norm(d), stat_line(st),
      d.split("\n")[-1] == "version=%x" % st.mzxid))
print("acl: %s" % (plain.get_acls("/zookeeper/config")[0],))
obs = "server.100=0.0.0.0:%d:%d:observer;0.0.0.0:%d" % (F1, F2, F3)
Q, E, C = ports[0:9:3], ports[1:9:3], ports[2:9:3]
# kazoo's test_no_super_auth and test_bad_input
run("no-super", plain, joining="server.999=0.0.0.0:1234:2345:observer;3456")
run("bad-input", plain, joining="some thing")
run("bad-input-super", su, joining="some thing")
run("no-client-port", su, joining="server.100=127.0.0.1:%d:%d" % (F1, F2))
run("two-ports", su, joining="server.100=127.0.0.1:%d;%d" % (F1, F3))
run("sid-not-number", su, joining="server.x=127.0.0.1:%d:%d;%d" % (F1, F2, F3))
run("leaving-not-number", su, leaving="abc")
run("dup-address", su, joining="server.100=127.0.0.1:%d:%d;%d" % (Q[0], F2, F3))
run("dup-of-self-ok", su, leaving="999")
run("too-few-voters", su, leaving="2,3")
run("bad-version", su, leaving="999", from_config=12345)
run("new-members-garbage", su, new_members="garbage")
run("new-members-one", su, new_members="server.1=127.0.0.1:%d:%d;%d" % (Q[0], E[0], C[0]))
run("no-quorum", su, joining=",".join(
    "server.%d=127.0.0.1:%d:%d:participant;%d" % (200 + k, 40000 + k, 41000 + k, 42000 + k)
    for k in range(3)))
run("empty-joining", su, joining="")
run("all-none", su)
# kazoo's test_add_remove_observer
t = run("add-observer", su, joining=obs)
d, st = current(plain)
print("after-add: %s [%s]" % (norm(d), stat_line(st)))
t = run("remove-observer", su, leaving="100")
cur = int(t.split("\n")[-1].split("=")[1], 16) if t else 0
run("future-version", plain, joining=obs, from_config=cur + 1)
run("future-version-super", su, joining=obs, from_config=cur + 1)
run("right-version", su, joining=obs, from_config=cur)
run("spaces-and-commas", su, leaving=" 100 , ,")
# the ACL on /zookeeper/config decides for a user who is not the super user
su.set_acls("/zookeeper/config", [make_digest_acl("bob", "pw", all=True)])
bob = client([("digest", "bob:pw")])
run("acl-user", bob, joining=obs)
run("acl-user-leave", bob, leaving="100")
run("acl-plain", plain, joining=obs)
d, st = current(su)
print("final: %s [%s]" % (norm(d), stat_line(st)))
su.set_acls("/zookeeper/config", [ACL(Permissions.READ, ANYONE_ID_UNSAFE)])
print("acl-restored: %s" % (plain.get_acls("/zookeeper/config")[0],))
for zk in (plain, su, bob):
    zk.stop()
    zk.close()
