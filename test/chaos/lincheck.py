"""lincheck.py - a linearizability checker for a versioned register (the
compare-and-set register of the chaos test: a znode's data and version,
changed by setData with or without an expected version).

The search is Wing & Gong's, with Lowe's memoisation as Porcupine does it:
the history becomes a list of call and return entries in time order; the
search repeatedly picks a call that may be linearized now (no return entry
precedes it in the list), applies it to the model, and backtracks when a
return entry is reached whose operation is not yet linearized.  A state is
(set of linearized operations, model state); a state seen before is not
explored again, which makes the search practical.

Indeterminate operations (a timeout or a lost connection: "info") may take
effect at any time after their invocation, or never: they have no return
entry, so they can be linearized anywhere after their call and need not be
linearized at all; the search succeeds once every determinate operation is.

Operations (dicts, as the workload clients write them):
  f     "read" | "write" | "cas"
  t0    invocation time (ns);  t1  completion time, None if indeterminate
  ok    True (succeeded), False (cas: BadVersion, no effect), None (info)
  read: out (value read), ver (version read)
  write/cas: val (new value); cas: exp (expected version);
             ok ones: ver (the version they produced)
Model state: (value, version); the initial state is given by the caller.

check(ops, init) -> (True, None) or (False, explanation).
P-compositionality: the caller checks each key on its own.
"""


def step(state, op):
    """The state after op, or None if op cannot happen in state."""
    value, version = state
    f, ok = op["f"], op["ok"]
    if f == "read":
        if op["out"] == value and op["ver"] == version:
            return state
        return None
    if f == "write":
        if ok is True and op.get("ver", -1) not in (-1, version + 1):
            return None
        return (op["val"], version + 1)
    if f == "cas":
        if ok is False:
            return state if version != op["exp"] else None
        if version != op["exp"]:
            return None
        if ok is True and op.get("ver", -1) not in (-1, version + 1):
            return None
        return (op["val"], version + 1)
    raise ValueError(f"unknown operation {f!r}")


class _Entry:
    __slots__ = ("op", "idx", "is_call", "match", "prev", "next")

    def __init__(self, op, idx, is_call):
        self.op, self.idx, self.is_call = op, idx, is_call
        self.match = None
        self.prev = self.next = None


def check(ops, init, max_states=2_000_000):
    """Is the history linearizable from state init?  Reads that failed and
    indeterminate reads must be left out by the caller (they change
    nothing)."""
    ops = [o for o in ops if not (o["f"] == "read" and o["ok"] is not True)]
    events = []
    for i, o in enumerate(ops):
        events.append((o["t0"], 0, i, True))
        if o["t1"] is not None:
            events.append((o["t1"], 1, i, False))
    # At equal times calls come first: such operations count as concurrent.
    events.sort(key=lambda e: (e[0], e[1]))
    head = _Entry(None, -1, False)
    prev = head
    calls = {}
    returns_left = 0
    for _, _, i, is_call in events:
        e = _Entry(ops[i], i, is_call)
        e.prev, prev.next = prev, e
        prev = e
        if is_call:
            calls[i] = e
        else:
            calls[i].match = e
            e.match = calls[i]
            returns_left += 1

    def lift(call):
        call.prev.next = call.next
        if call.next:
            call.next.prev = call.prev
        r = call.match
        if r:
            r.prev.next = r.next
            if r.next:
                r.next.prev = r.prev

    def unlift(call):
        r = call.match
        if r:
            r.prev.next = r
            if r.next:
                r.next.prev = r
        call.prev.next = call
        if call.next:
            call.next.prev = call

    state = init
    linearized = 0
    cache = set()
    stack = []
    best = 0
    entry = head.next
    explored = 0
    while returns_left > 0:
        if entry is None:
            # Only indeterminate calls are left ahead of us, yet some return
            # entry is behind: impossible (returns follow their calls).
            break
        if entry.is_call:
            new_state = step(state, entry.op)
            if new_state is not None:
                bits = linearized | (1 << entry.idx)
                key = (bits, new_state)
                if key not in cache:
                    cache.add(key)
                    explored += 1
                    if explored > max_states:
                        return False, f"search gave up after {max_states} states (history too concurrent)"
                    stack.append((entry, state))
                    state = new_state
                    linearized = bits
                    if entry.match:
                        returns_left -= 1
                    lift(entry)
                    best = max(best, len(stack))
                    entry = head.next
                    continue
            entry = entry.next
        else:
            if not stack:
                return False, _explain(ops, entry, best)
            entry, state = stack.pop()
            linearized &= ~(1 << entry.idx)
            if entry.match:
                returns_left += 1
            unlift(entry)
            entry = entry.next
    return True, None


def _explain(ops, stuck, best):
    o = stuck.op
    return (f"not linearizable: at most {best} of {len(ops)} operations could be ordered; "
            f"no order explains {o['f']} by {o.get('p', '?')} "
            f"(t0={o['t0']}, t1={o['t1']}, ok={o['ok']}, "
            + ", ".join(f"{k}={o[k]!r}" for k in ("out", "val", "exp", "ver") if k in o) + ")")


def _self_test():
    r = lambda t0, t1, out, ver: {"f": "read", "t0": t0, "t1": t1, "ok": True, "out": out, "ver": ver}
    w = lambda t0, t1, val, ok=True: {"f": "write", "t0": t0, "t1": t1, "ok": ok, "val": val}
    c = lambda t0, t1, exp, val, ok: {"f": "cas", "t0": t0, "t1": t1, "ok": ok, "exp": exp, "val": val}
    init = ("0", 0)
    cases = [
        ("sequential", [w(0, 1, "a"), r(2, 3, "a", 1)], True),
        ("stale read", [w(0, 1, "a"), r(2, 3, "0", 0)], False),
        ("concurrent read", [w(0, 5, "a"), r(1, 2, "0", 0), r(3, 4, "a", 1)], True),
        ("read reverts", [w(0, 5, "a"), r(1, 2, "a", 1), r(3, 4, "0", 0)], False),
        ("cas chain", [c(0, 1, 0, "a", True), c(2, 3, 1, "b", True), r(4, 5, "b", 2)], True),
        ("lost cas", [c(0, 1, 0, "a", True), r(2, 3, "0", 0)], False),
        ("badversion ok", [c(0, 1, 5, "x", False), r(2, 3, "0", 0)], True),
        ("badversion impossible", [c(0, 1, 0, "x", False), r(2, 3, "0", 0)], False),
        ("info may apply late", [w(0, None, "a", None), r(1, 2, "0", 0), r(3, 4, "a", 1)], True),
        ("info may never apply", [w(0, None, "a", None), r(5, 6, "0", 0)], True),
        ("info not before call", [r(0, 1, "a", 1), w(2, None, "a", None)], False),
        ("two cas winners", [c(0, 2, 0, "a", True), c(0, 2, 0, "b", True)], False),
    ]
    for name, hist, want in cases:
        got, why = check(hist, init)
        assert got == want, f"lincheck self-test '{name}': got {got} ({why}), want {want}"
    return len(cases)


if __name__ == "__main__":
    print(f"lincheck self-test: {_self_test()} cases ok")
