"""checkers.py - the chaos test's checkers: each takes the recorded
histories (lists of dicts, see workload.py and chaos_client.c) and the
final state read from every replica, and returns a list of anomaly strings
(empty = the property held) plus a count of what it checked.

  register_linearizable  CAS register histories, per key (lincheck.py)
  session_order          per session: versions read never go back, a
                         session reads its own writes, acknowledged zxids
                         increase (sequential consistency, no older view
                         after a reconnect)
  unique_creates         at most one winner per name; winners present at
                         the end with their data; no loser's data there
  queue                  unique sequence numbers, per-session increasing;
                         every acknowledged item dequeued or still there
                         (never lost), none dequeued twice, no phantoms
  fifo                   pipelined creates acknowledged in issue order
  watch_streams          persistent recursive watch events: within every
                         connected stretch a gap-free run of the creates'
                         commit order, never backwards across reconnects
  ephemerals             a session's ephemerals vanish only after its
                         timeout, and are gone everywhere at the end when
                         the session is gone; a session cut off from every
                         server for longer than its timeout expires
  leaders                no epoch established by two servers (server logs)
  replicas_identical     every replica's final /chaos tree is the same
"""

import re

from lincheck import check as lin_check


def register_linearizable(ops, final_values, init=("0", 0)):
    """ops: every register operation of every client; final_values:
    key -> (value, version) read after sync at the end (through each
    replica; all must agree, see replicas_identical).  The final read is
    added as one more operation after everything else."""
    anomalies, checked = [], 0
    by_key = {}
    for o in ops:
        if o["f"] in ("read", "write", "cas"):
            by_key.setdefault(o["k"], []).append(o)
    end = max([o["t1"] or o["t0"] for o in ops] + [0]) + 1
    for k in sorted(set(by_key) | set(final_values)):
        hist = list(by_key.get(k, []))
        if k in final_values:
            v, ver = final_values[k]
            hist.append({"f": "read", "t0": end, "t1": end + 1, "ok": True, "out": v, "ver": ver,
                         "p": "final"})
        checked += len(hist)
        ok, why = lin_check(hist, init)
        if not ok:
            anomalies.append(f"register {k}: {why}")
    return anomalies, checked


def session_order(ops):
    anomalies, checked = [], 0
    per = {}
    for o in sorted((o for o in ops if o.get("ok") is True and "s" in o), key=lambda o: o["t1"]):
        per.setdefault((o["p"], o["s"]), []).append(o)
    for (p, s), lst in per.items():
        seen = {}      # key -> highest version seen or written
        last_zx = 0
        for o in lst:
            checked += 1
            k = o["k"]
            ver = o.get("ver", -1)
            if o["f"] in ("read", "pread"):
                if ver < seen.get(k, -1):
                    anomalies.append(f"session {s} ({p}): read version {ver} of {k} after having "
                                     f"seen version {seen[k]} (older view)")
            if ver > seen.get(k, -1):
                seen[k] = ver
            if o["f"] in ("write", "cas") and o.get("zx"):
                if o["zx"] <= last_zx:
                    anomalies.append(f"session {s} ({p}): write acknowledged with zxid {o['zx']:#x}"
                                     f" after one with {last_zx:#x}")
                last_zx = o["zx"]
    return anomalies, checked


def unique_creates(ops, final_nodes):
    """final_nodes: path -> data (bytes->str) under /chaos/uniq."""
    anomalies, checked = [], 0
    winners, tried = {}, {}
    for o in ops:
        checked += 1
        tried.setdefault(o["u"], set()).add(o["p"])
        if o["ok"] is True:
            winners.setdefault(o["u"], []).append(o["p"])
    for u, ws in winners.items():
        if len(ws) > 1:
            anomalies.append(f"uniq {u}: created by {len(ws)} clients ({ws})")
        got = final_nodes.get(f"/chaos/uniq/{u}")
        if got is None:
            anomalies.append(f"uniq {u}: acknowledged create by {ws[0]} lost")
        elif len(ws) == 1 and got != ws[0]:
            anomalies.append(f"uniq {u}: holds {got!r}, but {ws[0]} was told it created it")
    for path, data in final_nodes.items():
        u = path.rsplit("/", 1)[1]
        if u not in tried or data not in tried[u]:
            anomalies.append(f"uniq {u}: exists with data {data!r} nobody tried to create")
    return anomalies, checked


def queue(ops, final_items):
    """final_items: path -> data of /chaos/queue's children at the end."""
    anomalies, checked = [], 0
    enq_ok = [o for o in ops if o.get("f") == "enq" and o["ok"] is True]
    attempted = {o["data"] for o in ops if o.get("f") == "enq" and o["ok"] is not False}
    paths = {}
    for o in enq_ok:
        checked += 1
        if o["path"] in paths:
            anomalies.append(f"queue: {o['path']} handed out twice ({paths[o['path']]}, {o['data']})")
        paths[o["path"]] = o["data"]
    per_session = {}
    for o in sorted(enq_ok, key=lambda o: o["t1"]):
        per_session.setdefault((o["p"], o["s"]), []).append(o["path"])
    for key, ps in per_session.items():
        if ps != sorted(ps):
            anomalies.append(f"queue: session {key[1]} got sequence numbers out of order")
    deq = {}
    maybe_deq = set()
    for o in ops:
        if o.get("f") == "deq":
            checked += 1
            if o["ok"] is True:
                deq.setdefault(o["path"], []).append(o["p"])
            elif o["ok"] is None:
                maybe_deq.add(o["path"])
    for path, who in deq.items():
        if len(who) > 1:
            anomalies.append(f"queue: {path} dequeued {len(who)} times ({who})")
    for path, data in paths.items():
        if path not in final_items and path not in deq and path not in maybe_deq:
            anomalies.append(f"queue: acknowledged item {path} ({data}) lost")
    for path, data in final_items.items():
        if data not in attempted:
            anomalies.append(f"queue: {path} holds {data!r}, which nobody enqueued")
        elif path in paths and paths[path] != data:
            anomalies.append(f"queue: {path} holds {data!r}, acknowledged as {paths[path]!r}")
    return anomalies, checked


def fifo(ops):
    anomalies, checked = [], 0
    for o in ops:
        if "burst" not in o:
            continue
        checked += 1
        oks = [r for r in o["results"] if r]
        if oks != sorted(oks):
            anomalies.append(f"fifo {o['p']} burst {o['burst']}: acknowledged out of order: {oks}")
        if len(set(oks)) != len(oks):
            anomalies.append(f"fifo {o['p']} burst {o['burst']}: one path twice: {oks}")
        order = o["order"]
        if order != sorted(order):
            anomalies.append(f"fifo {o['p']} burst {o['burst']}: completions in order {order}")
    return anomalies, checked


def parse_watch_file(lines):
    """Segments of events between connection state changes: a list of
    lists of paths, in delivery order."""
    segments, cur, connected = [], [], False
    for line in lines:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "S":
            if cur:
                segments.append(cur)
            cur = []
            connected = parts[2] == "3"      # ZK_STATE_SYNC_CONNECTED
        elif parts[0] == "E" and len(parts) >= 4:
            # ZK_EVENT_CREATED = 1; data/child events of /chaos/w itself ignored
            if parts[2] == "1" and parts[3].startswith("/chaos/w/"):
                cur.append(parts[3])
    if cur:
        segments.append(cur)
    del connected
    return segments


def watch_streams(watch_files, czxid):
    """watch_files: name -> lines of a chaos-client watch output;
    czxid: path -> creation zxid of every node under /chaos/w at the end
    (the commit order of all creates that took effect)."""
    anomalies, checked = [], 0
    order = sorted(czxid, key=lambda p: czxid[p])
    pos = {p: i for i, p in enumerate(order)}
    for name, lines in watch_files.items():
        last = -1
        for seg in parse_watch_file(lines):
            prev = None
            for path in seg:
                checked += 1
                if path not in pos:
                    anomalies.append(f"watch {name}: event for {path}, which does not exist")
                    continue
                i = pos[path]
                if i <= last:
                    anomalies.append(f"watch {name}: {path} (#{i}) after #{last}: reordered or "
                                     "repeated (older view after a reconnect?)")
                elif prev is not None and i != prev + 1:
                    anomalies.append(f"watch {name}: gap while connected: #{prev} then #{i} "
                                     f"({order[prev + 1]} missing)")
                prev = i
                last = max(last, i)
    return anomalies, checked


def epoch_at(events, t):
    """events: [(ns, epoch or None)] of one replica (serving_epochs); the
    epoch it served at t, or None."""
    e = None
    for te, ep in events:
        if te > t:
            break
        e = ep
    return e


def ephemerals(eph_ops, absent_since, final_eph, leader_starts=(), slack_ns=150_000_000,
               grace_ns=1_500_000_000, serving=None, present_until=None):
    """eph_ops: the eph workload records; absent_since: path -> first time
    (ns) the monitor saw it missing (after having seen it); final_eph: the
    ephemeral paths that exist at the end (on every replica); leader_starts:
    the times (ns) a leader started serving (a new leader gives every
    session a full timeout from then, as Apache's does); serving: replica
    address -> [(ns, epoch it serves from then or None)]; present_until:
    path -> the last time (ns) the monitor saw it.

    An ephemeral vanishes when the leader of the epoch serving at that
    moment expires its session.  That leader started with a full timeout
    for every session (at its start S) and heard only the touches of the
    servers serving in its epoch: a reply after S from a server that was
    not (an isolated old leader answers reads until it notices, after
    syncLimit ticks, that it has lost its quorum) is no contact that leader
    knew of, so it does not move the earliest allowed vanishing time."""
    anomalies, checked = [], 0
    sessions = {}
    for o in eph_ops:
        s = o.get("s")
        if s is None:
            continue
        d = sessions.setdefault(s, {"timeout": None, "alive": 0, "paths": [], "expired": None,
                                    "end": None, "p": o["p"], "contacts": []})
        if o["f"] == "session":
            d["timeout"] = o["timeout"]
        elif o["f"] == "alive":
            d.setdefault("alive_list", []).append((o["t0"], o["t1"], o.get("srv", "?")))
            d["alive"] = max(d["alive"], o["t0"])
            d["contacts"].append((o["t0"], o["t1"]))
        elif o["f"] == "state" and o["state"] == "LOST":
            d["lost"] = True      # kazoo goes on with a new session
        elif o["f"] == "state" and o["state"] == "CONNECTED" and not d.get("lost"):
            d["contacts"].append((o["t"], o["t"]))
        elif o["f"] == "create" and o["ok"] is not False:
            d["paths"].append((o["path"], o["ok"], o["t0"]))
        elif o["f"] == "expired":
            d["expired"] = o["t"]
        elif o["f"] == "end":
            d["end"] = o
    for s, d in sessions.items():
        if d["timeout"] is None:
            continue
        # Between two contacts (a reply, or a reconnect that kept the
        # session) no server heard from the client after the first reply
        # arrived... at the latest; if that silence exceeds the timeout, the
        # second contact must not have found the session alive.
        cs = sorted(d["contacts"])
        for (a0, a1), (b0, b1) in zip(cs, cs[1:]):
            checked += 1
            ref = max([a1] + [t for t in leader_starts if t < b0])
            if b0 - ref > d["timeout"] * 1_000_000 + grace_ns:
                anomalies.append(f"session {s} ({d['p']}) was still alive after {(b0 - a1) / 1e6:.0f} ms "
                                 f"without any contact ({(b0 - ref) / 1e6:.0f} ms since a leader started "
                                 f"serving or the last contact; timeout {d['timeout']} ms)")
                break
        for path, ok, t0 in d["paths"]:
            checked += 1
            gone = absent_since.get(path)
            alive_ok = max(d["alive"], t0 if ok else 0)
            if gone is not None and serving is not None:
                alive_ok = last_known_contact(d, gone, t0 if ok else 0, serving,
                                              (present_until or {}).get(path))
            if gone is not None and ok and gone < alive_ok + d["timeout"] * 1_000_000 - slack_ns \
                    and d["expired"] is not None:
                anomalies.append(f"ephemeral {path} of session {s} vanished "
                                 f"{(gone - alive_ok) / 1e6:.0f} ms after the session's last "
                                 f"contact, before its {d['timeout']} ms timeout")
            if d["expired"] is not None and path in final_eph:
                anomalies.append(f"ephemeral {path} of expired session {s} still exists")
    return anomalies, checked


def quorum_end(serving, ep):
    """The last moment a majority of the replicas served epoch ep (after it,
    that epoch's leader commits nothing); inf if the run ends so."""
    ev = []
    for e in serving.values():
        for k, (t, x) in enumerate(e):
            if x == ep:
                ev.append((t, 1))
                ev.append((e[k + 1][0] if k + 1 < len(e) else float("inf"), -1))
    need, n, last = len(serving) // 2 + 1, 0, None
    for t, dn in sorted(ev):
        if n >= need and n + dn < need:
            last = t
        n += dn
    return float("inf") if n >= need else last if last is not None else float("-inf")


def last_known_contact(d, gone, created, serving, seen=None):
    """The latest moment by which the leader that expired session d must
    have heard of it, for the likeliest such leader.  The closeSession was
    committed by the leader of some epoch that served between the create
    (`created`, its call) and `gone` (the monitor may see the deletion
    late, after a later leader started; `seen`: when it last saw the node).  That leader gave the session a
    full timeout at its start and heard only the touches of the servers
    serving in its epoch: its bound is the latest of its start, the create
    and the replies from those servers.  The deletion is early only if it
    is early for every such epoch, so this returns the smallest bound."""
    start = {}
    for ev in serving.values():
        for t, ep in ev:
            if ep is not None:
                start[ep] = min(start.get(ep, t), t)
    # The deletion came after the monitor last saw the node (`seen`), by an
    # epoch with a quorum then.
    after = max(created, seen or 0)
    candidates = [ep for ep in start if start[ep] <= gone and quorum_end(serving, ep) >= after]
    if not candidates:
        return max(d["alive"], created)
    best = None
    for ep in candidates:
        ref = max(start[ep], created)
        for t0, t1, srv in d.get("alive_list", []):
            if t0 <= gone and srv in serving and epoch_at(serving[srv], t0) == ep \
                    and epoch_at(serving[srv], t1) == ep:
                ref = max(ref, t0)
        best = ref if best is None else min(best, ref)
    return best


LEADING = re.compile(r"leading epoch (\d+) with a synced quorum")


def leaders(logs):
    """logs: sid -> server log text (all runs appended)."""
    anomalies, by_epoch = [], {}
    for sid, text in logs.items():
        for m in LEADING.finditer(text):
            by_epoch.setdefault(int(m.group(1)), set()).add(sid)
    for e, sids in sorted(by_epoch.items()):
        if len(sids) > 1:
            anomalies.append(f"epoch {e} established by servers {sorted(sids)}")
    return anomalies, len(by_epoch)


def replicas_identical(trees):
    """trees: replica name -> sorted list of node lines."""
    anomalies = []
    names = sorted(trees)
    for n in names[1:]:
        if trees[n] != trees[names[0]]:
            a, b = set(trees[names[0]]), set(trees[n])
            anomalies.append(f"replicas {names[0]} and {n} differ: only on {names[0]}: "
                             f"{sorted(a - b)[:3]}; only on {n}: {sorted(b - a)[:3]}")
    return anomalies, sum(len(t) for t in trees.values())


def _self_test():
    """The ephemerals checker on the history of seed 305982 (reconstructed:
    its directory was not kept) and its neighbours; returns the case count."""
    s = 1_000_000_000
    start = 10 * s          # replica 1 leads epoch 3 from here, 2 follows it
    serving = {"10.77.0.11": [(1 * s, 2), (9 * s, None), (start, 3)],
               "10.77.0.12": [(1 * s, 2), (9 * s, None), (start + s // 10, 3)],
               # the isolated old leader answers reads until it steps down
               "10.77.0.13": [(1 * s, 2), (start + 2 * s, None)]}

    def hist(srv, alive_at):
        ops = [{"s": "a", "p": "eph", "f": "session", "timeout": 4000},
               {"s": "a", "p": "eph", "f": "create", "path": "/chaos/eph/x", "ok": True,
                "t0": 2 * s, "t1": 2 * s + s // 10}]
        ops += [{"s": "a", "p": "eph", "f": "alive", "t0": t, "t1": t + s // 100, "srv": srv}
                for t in alive_at]
        return ops + [{"s": "a", "p": "eph", "f": "expired", "t": 30 * s}]
    cases = [
        # 305982: last replies from the isolated old leader 2 s into the new
        # epoch; the new leader expires the session 4.1 s after its start
        ("old leader's replies", hist("10.77.0.13", [3 * s, start + s, start + 19 * s // 10]),
         start + 41 * s // 10, True),
        ("gone before the new leader's start + timeout",
         hist("10.77.0.13", [3 * s, start + 19 * s // 10]),
         start + 35 * s // 10, False),
        ("reply from the new epoch's follower", hist("10.77.0.12", [3 * s, start + 19 * s // 10]),
         start + 41 * s // 10, False),
        ("reply from an unknown server", hist(None, [start + 19 * s // 10]),
         start + 41 * s // 10, True),
        # expired by the old epoch's leader, seen missing only after the new
        # leader started
        ("expired in the old epoch, seen late", hist("10.77.0.12", [3 * s, 4 * s]),
         start + s // 2, True, 8 * s),
        ("early in the old epoch", hist("10.77.0.12", [3 * s, 7 * s]), 8 * s, False),
    ]
    for name, ops, gone, want_ok, *seen in cases:
        seen = seen[0] if seen else gone - s // 5   # the monitor's last view of it
        anomalies, _ = ephemerals(ops, {"/chaos/eph/x": gone}, set(), [start], serving=serving,
                                  present_until={"/chaos/eph/x": seen})
        assert (not anomalies) == want_ok, f"ephemerals self-test '{name}': {anomalies}"
    # Without the servers' epochs every reply counts (the old, wrong, verdict).
    anomalies, _ = ephemerals(cases[0][1], {"/chaos/eph/x": cases[0][2]}, set(), [start])
    assert anomalies, "ephemerals self-test: replies without servers"
    return len(cases) + 1


if __name__ == "__main__":
    print(f"checkers self-test: {_self_test()} cases ok")
