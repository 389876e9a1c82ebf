#!/usr/bin/python3
"""fourlw_ensemble.py - the checks of test_fourlw_ensemble.sh: the
four-letter words of ensemble members compared with Apache ZooKeeper 3.8's
captures test/vectors/fourlw/{leader,follower,observer,looking}-*.txt
(taken from a 2-voter + 1-observer ensemble by capture.py --ensemble).

Two modes:

  looking VECTORS LABEL PORT
      The member on PORT has no quorum: every word that needs a running
      server answers "This ZooKeeper instance is not currently serving
      requests\\n" byte for byte (looking-*.txt), ruok "imok", isro "null".

  formed VECTORS SID:ROLE:CPORT:QPORT:EPORT ...
      One argument per member (ROLE leader, follower or observer).  Runs the
      capture's workload through a kazoo session on the observer (create
      /app and the ephemeral /app/eph, a data watch on /app), then checks
      every word of every member against <role>-<word>.txt: same lines in
      the same order with the same labels and keys, values normalised as
      docs/fourlw-formats.md section 13 says (the normalisers and the
      stat/cons/wch*/dump comparisons of fourlw_exact.py are reused), plus
      exact checks of what the topology and the workload decide: Mode,
      zk_server_state, zk_peer_state, zk_observer_master_id,
      zk_quorum_size, zk_learners, zk_synced_followers,
      zk_synced_observers, znode and session counts, the conf membership.
      Last, srst on the leader resets its proposal sizes to -1/-1/-1.

Prints one "ok: ..." or "FAIL: ..." line per check and, last,
"COUNTS <passed> <failed>".  Every socket operation has a timeout.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fourlw_exact as fx  # noqa: E402  (shared checks; read-only use)

check, fail, send_word, capture, show = fx.check, fx.fail, fx.send_word, fx.capture, fx.show
lines_of = fx.lines_of

NOT_SERVING = b"This ZooKeeper instance is not currently serving requests\n"
# words that print NOT_SERVING without a running server (docs section 0)
NOT_SERVING_WORDS = ("srvr", "stat", "mntr", "conf", "cons", "crst", "srst",
                     "wchs", "wchc", "wchp", "dump", "dirs")
PEER_STATE = {"leader": "leading - broadcast", "follower": "following - broadcast",
              "observer": "observing - broadcast"}


# --- looking -----------------------------------------------------------

def run_looking(vectors, label, port):
    for w in NOT_SERVING_WORDS:
        got = send_word(port, w)
        path = os.path.join(vectors, "looking-%s.txt" % w)
        want = capture(vectors, "looking-" + w) if os.path.exists(path) else NOT_SERVING
        check("%s %s is Apache's not-serving reply" % (label, w), got == want,
              "got %s want %s" % (show(got), show(want)))
    for w, want in (("ruok", b"imok"), ("isro", b"null")):
        got = send_word(port, w)
        check("%s %s" % (label, w), got == capture(vectors, "looking-" + w) == want, show(got))
    got = send_word(port, "envi")
    check("%s envi still answers" % label, got.startswith(b"Environment:\n"), show(got))
    got = send_word(port, "gtmk")
    check("%s gtmk still answers" % label, re.fullmatch(rb"[0-9]+", got) is not None, show(got))


# --- formed ensemble ---------------------------------------------------

class Member:
    def __init__(self, arg):
        sid, role, cport, qport, eport = arg.split(":")
        self.sid, self.role = int(sid), role
        self.cport, self.qport, self.eport = int(cport), int(qport), int(eport)


def membership_lines(members):
    """The server.N lines every member's conf must list, ascending sid."""
    out = []
    for m in sorted(members, key=lambda m: m.sid):
        out.append("server.%d=127.0.0.1:%d:%d:%s;127.0.0.1:%d" % (
            m.sid, m.qport, m.eport, "observer" if m.role == "observer" else "participant", m.cport))
    return out


def norm_conf_line(line):
    """conf: ports, sizes, paths and ids become placeholders (exact values
    are checked separately)."""
    line = re.sub(r"^(clientPort|dataDirSize|dataLogSize|electionPort|quorumPort|serverId)=[0-9]+$",
                  r"\1=N", line)
    line = re.sub(r"^(dataDir|dataLogDir)=/.*$", r"\1=<PATH>", line)
    line = re.sub(r"^server\.[0-9]+=127\.0\.0\.1:[0-9]+:[0-9]+:", "server.N=127.0.0.1:QP:EP:", line)
    line = re.sub(r";127\.0\.0\.1:[0-9]+$", ";127.0.0.1:CP", line)
    return line


def check_conf(name, got, want, me, members):
    fx.compare_lines(name, got, want, norm_conf_line)
    text = got.decode("utf-8", "replace")
    for key, value in (("clientPort", me.cport), ("serverId", me.sid), ("electionPort", me.eport),
                       ("quorumPort", me.qport), ("peerType", 1 if me.role == "observer" else 0),
                       ("initLimit", 10), ("syncLimit", 5), ("electionAlg", 3)):
        check("%s %s=%d" % (name, key, value), ("\n%s=%d\n" % (key, value)) in "\n" + text, show(got))
    tail = "membership: \n" + "\n".join(membership_lines(members)) + "\nversion=0"
    check(name + " membership (exact, no final newline)", text.endswith(tail),
          "got %r want tail %r" % (text[-400:], tail))


def learner_key_map(keys, leader_sid):
    """zk_*_<sid>_learner_handler_* keys name learners by sid: rename them by
    rank among the learner sids seen, so that runs with another leader
    compare."""
    sids = sorted({int(m.group(1)) for k in keys
                   for m in [re.match(r"zk_[a-z0-9]+_([0-9]+)_learner_handler_", k)] if m})
    rank = {sid: "L%d" % i for i, sid in enumerate(sids)}
    def rename(k):
        m = re.match(r"(zk_[a-z0-9]+_)([0-9]+)(_learner_handler_.*)", k)
        return m.group(1) + rank[int(m.group(2))] + m.group(3) if m else k
    return rename, sids


def check_mntr(name, got, want, me, members, leader_sid, expect):
    gk, gv, gbad, gend = fx.mntr_map(got)
    wk, wv, _, _ = fx.mntr_map(want)
    check(name + " line format", not gbad and gend, "bad lines %r" % gbad[:5])
    head = ["zk_version", "zk_server_state", "zk_peer_state"]
    if me.role == "observer":
        head.append("zk_observer_master_id")
    check(name + " head keys", gk[:len(head)] == head == wk[:len(head)], "got %r want %r" % (gk[:5], head))
    check(name + " zk_version", fx.VERSION_RE.fullmatch(gv.get("zk_version", "")) is not None,
          gv.get("zk_version"))
    # the capture's keys minus the per-namespace summary sets (their keys
    # depend on the data written: zk_*_app_write_per_namespace ...)
    grename, gsids = learner_key_map(gk, leader_sid)
    wrename, _ = learner_key_map(wk, 2)
    want_keys = [wrename(k) for k in wk if not k.endswith("_per_namespace")]
    got_keys = [grename(k) for k in gk if not k.endswith("_per_namespace")]
    gmap = {grename(k): v for k, v in gv.items()}
    wmap = {wrename(k): v for k, v in wv.items()}
    missing = [k for k in want_keys if k not in gmap]
    extra = [k for k in got_keys if k not in wmap]
    check(name + " keys", not missing and not extra, "missing %r extra %r" % (missing[:10], extra[:10]))
    check(name + " key order", got_keys == want_keys, "first difference at %r" % next(
        ((a, b) for a, b in zip(got_keys, want_keys) if a != b), None))
    if me.role == "leader":
        learners = sorted(m.sid for m in members if m.sid != leader_sid)
        check(name + " learner handler metrics name the learners", gsids == learners,
              "got sids %r want %r" % (gsids, learners))
    # number formats: the capture decides long vs double
    badfmt = []
    for k in want_keys:
        if k not in gmap or k in ("zk_version", "zk_peer_state", "zk_server_state"):
            continue
        if re.fullmatch(r"-?[0-9]+", wmap[k]):
            if not re.fullmatch(r"-?[0-9]+", gmap[k]):
                badfmt.append((k, gmap[k]))
        elif re.fullmatch(r"-?[0-9]+\.[0-9]+", wmap[k]):
            if not re.fullmatch(r"-?[0-9]+\.[0-9]+", gmap[k]):
                badfmt.append((k, gmap[k]))
        elif gmap[k] != wmap[k]:
            badfmt.append((k, gmap[k]))
    check(name + " value formats", not badfmt, "%r" % badfmt[:10])
    # values the topology and the workload decide
    diffs = [(k, gv.get(k), v) for k, v in expect.items() if gv.get(k) != v]
    check(name + " role and workload values", not diffs, "(key, got, want) %r" % diffs)
    # Apache keeps the membership text (conf's "server.N=..." lines and
    # "version=0") as the data of /zookeeper/config in an ensemble, and
    # zk_approximate_data_size counts it: reported, not counted, until the
    # data tree does the same.
    config_len = len("\n".join(membership_lines(members)) + "\nversion=0")
    base = 1 + len("/zookeeper") + len("/zookeeper/quota") + len("/zookeeper/config") \
        + len("/app") + len("hello") + len("/app/eph")
    if gv.get("zk_approximate_data_size") != str(base + config_len) and me.role == "leader":
        print("NOTE: zk_approximate_data_size is %s, Apache would print %d (%d + the %d-byte "
              "membership text it keeps in /zookeeper/config)"
              % (gv.get("zk_approximate_data_size"), base + config_len, base, config_len), flush=True)
    return gv


def check_learner_dump(name, got, want, sid):
    """Follower/observer dump: "Global Sessions(<n>):" and one
    "0x<id>\\t<timeout>ms" line per session, then the common part (checked
    as fourlw_exact.check_dump does, with an empty Session Sets head)."""
    def split(data):
        text = data.decode("utf-8", "replace")
        head, sep, rest = text.partition("ephemeral nodes dump:\n")
        return head.split("\n"), (sep + rest).encode()
    gh, grest = split(got)
    wh, wrest = split(want)
    def norm(ls):
        return [re.sub(r"^0x[0-9a-f]+\t", "0x<SID>\t", x) for x in ls]
    check(name + " Global Sessions part", norm(gh) == norm(wh), "got %r want %r" % (gh, wh))
    check(name + " lists our session with its timeout", ("0x%x\t10000ms" % sid) in gh, "got %r" % gh)
    fake = b"SessionTracker dump:\nSession Sets (0)/(0):\n"
    fx.check_dump(name, fake + grest, fake + wrest)


def workload(port):
    from kazoo.client import KazooClient
    zk = KazooClient(hosts="127.0.0.1:%d" % port, timeout=10)
    zk.start(timeout=15)
    zk.create("/app", b"hello")
    zk.create("/app/eph", b"", ephemeral=True)
    zk.get("/app", watch=lambda e: None)
    time.sleep(0.5)
    return zk


def proposal_sizes(data):
    m = re.search(rb"\nProposal sizes last/min/max: (-?[0-9]+)/(-?[0-9]+)/(-?[0-9]+)\n$", data)
    return tuple(int(x) for x in m.groups()) if m else None


def run_formed(vectors, members):
    by_role = {m.role: m for m in members}
    if sorted(by_role) != ["follower", "leader", "observer"]:
        fail("roles", "expected one leader, follower and observer, got %r" % [m.role for m in members])
        return
    leader = by_role["leader"]
    observer = by_role["observer"]
    voters = sum(1 for m in members if m.role != "observer")
    zk = workload(observer.cport)
    try:
        sid = zk.client_id[0]
        for m in sorted(members, key=lambda m: m.sid):
            role, port = m.role, m.cport
            got = {w: send_word(port, w) for w in fx_words()}
            p = role + " (server %d) " % m.sid
            for w in ("ruok", "isro", "gtmk", "wchs"):
                check(p + w + " exact", got[w] == capture(vectors, role + "-" + w),
                      "got %s want %s" % (show(got[w]), show(capture(vectors, role + "-" + w))))
            # srvr / stat: every line but the counters exactly as Apache's
            fx.compare_lines(p + "srvr", normalise_proposals(got["srvr"]),
                             normalise_proposals(capture(vectors, role + "-srvr")), fx.norm_stats_line)
            fx.check_stat(p + "stat", normalise_proposals(got["stat"]),
                          normalise_proposals(capture(vectors, role + "-stat")))
            check(p + "Mode", ("\nMode: %s\n" % role).encode() in got["srvr"], show(got["srvr"]))
            if role == "leader":
                sizes = proposal_sizes(got["srvr"])
                check(p + "proposal sizes after the workload",
                      sizes is not None and 0 < sizes[1] <= sizes[0] <= sizes[2], show(got["srvr"]))
            fx.check_cons(p + "cons", got["cons"], capture(vectors, role + "-cons"))
            fx.check_blocks(p + "wchc", got["wchc"], capture(vectors, role + "-wchc"), True)
            fx.check_blocks(p + "wchp", got["wchp"], capture(vectors, role + "-wchp"), False)
            if role == "leader":
                fx.check_dump(p + "dump", got["dump"], capture(vectors, role + "-dump"))
                check(p + "dump names our session", (b"\t0x%x\n" % sid) in got["dump"], show(got["dump"]))
            else:
                check_learner_dump(p + "dump", got["dump"], capture(vectors, role + "-dump"), sid)
            if role == "observer":
                check(p + "cons shows our session", ("sid=0x%x," % sid).encode() in got["cons"],
                      show(got["cons"]))
                check(p + "wchc names our session", got["wchc"].startswith(b"0x%x\n" % sid), show(got["wchc"]))
            check_conf(p + "conf", got["conf"], capture(vectors, role + "-conf"), m, members)
            fx.compare_lines(p + "envi", got["envi"], capture(vectors, role + "-envi"),
                             lambda x: fx.norm_envi(fx.norm_common(x)))
            fx.compare_lines(p + "dirs", got["dirs"], capture(vectors, role + "-dirs"), fx.norm_dirs)
            expect = {"zk_server_state": role, "zk_peer_state": PEER_STATE[role],
                      "zk_quorum_size": str(voters), "zk_ephemerals_count": "1",
                      "zk_znode_count": "7", "zk_global_sessions": "1", "zk_local_sessions": "0",
                      "zk_outstanding_requests": "0",
                      "zk_watch_count": "1" if role == "observer" else "0",
                      "zk_num_alive_connections": "2" if role == "observer" else "1"}
            if role == "observer":
                expect["zk_observer_master_id"] = str(leader.sid)
            if role == "leader":
                expect["zk_proposal_count"] = "3"  # createSession, /app, /app/eph
                expect.update({"zk_learners": str(len(members) - 1),
                               "zk_synced_followers": str(voters - 1),
                               "zk_synced_non_voting_followers": "0",
                               "zk_synced_observers": str(len(members) - voters),
                               "zk_pending_syncs": "0"})
            check_mntr(p + "mntr", got["mntr"], capture(vectors, role + "-mntr"), m, members,
                       leader.sid, expect)
        # srst on the leader also forgets the proposal sizes
        got = send_word(leader.cport, "srst")
        check("leader srst", got == b"Server stats reset.\n", show(got))
        got = send_word(leader.cport, "srvr")
        check("leader proposal sizes after srst", proposal_sizes(got) == (-1, -1, -1), show(got))
        for m in members:
            if m.role != "leader":
                got = send_word(m.cport, "srvr")
                check("%s srvr has no Proposal sizes line" % m.role, b"Proposal sizes" not in got, show(got))
    finally:
        zk.stop()
        zk.close()


def fx_words():
    return ("ruok", "srvr", "stat", "mntr", "conf", "cons", "wchs", "wchc", "wchp", "dump",
            "envi", "isro", "gtmk", "dirs")


def normalise_proposals(data):
    """Proposal sizes depend on the encoding of each proposal packet."""
    return re.sub(rb"\nProposal sizes last/min/max: -?[0-9]+/-?[0-9]+/-?[0-9]+\n",
                  b"\nProposal sizes last/min/max: N/N/N\n", data)


def main():
    mode, vectors = sys.argv[1], sys.argv[2]
    try:
        if mode == "looking":
            run_looking(vectors, sys.argv[3], int(sys.argv[4]))
        elif mode == "formed":
            run_formed(vectors, [Member(a) for a in sys.argv[3:]])
        else:
            fail("usage", "unknown mode %r" % mode)
    except Exception as e:  # a crash of the checker is a failure, not a hang
        fail("%s run" % mode, "%s: %s" % (type(e).__name__, e))
    print("COUNTS %d %d" % (fx.PASSED, fx.FAILED), flush=True)


if __name__ == "__main__":
    main()
