#!/usr/bin/python3
"""ensemble_sync_race.py - a sync queued ahead of a write on a learner.

    ensemble_sync_race.py LEADER_HOSTS LEARNER_HOSTS ROUNDS

A load thread keeps proposals in flight on the leader (pipelined creates)
while, through the learner, one session sends ROUNDS pairs of a sync
followed at once by a create (pipelined, so both sit in the learner's
queue of forwarded requests, the sync first).  Every request must be
answered within 10 s and in order.  (The leader used to answer a learner's
sync only after it had applied the sync point itself, which put the
SYNCED behind a COMMIT that also covered the create: the learner applied
the create while the sync headed its queue, lost the create's reply and
answered nothing forwarded after it.)  Exit 0 if all were answered, 1 if
one was not (with what), 2 on a connection error.
"""

import sys
import threading

from ensemble_util import connect


def main():
    leader_hosts, learner_hosts, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    lz = connect(leader_hosts)
    fz = connect(learner_hosts)
    lz.ensure_path("/syncrace/load")
    fz.ensure_path("/syncrace/via-learner")
    stop = threading.Event()

    def load():
        n = 0
        while not stop.is_set():
            batch = [lz.create_async(f"/syncrace/load/n{n + i}", b"") for i in range(20)]
            n += 20
            for b in batch:
                b.get(timeout=10)
    t = threading.Thread(target=load, daemon=True)
    t.start()
    try:
        for i in range(rounds):
            s = fz.sync_async("/syncrace")
            c = fz.create_async(f"/syncrace/via-learner/c{i}", b"")
            try:
                s.get(timeout=10)
                c.get(timeout=10)
            except Exception as e:  # noqa: BLE001
                print(f"sync-race: round {i}: {type(e).__name__}: a forwarded request was not "
                      "answered within 10 s", file=sys.stderr)
                return 1
    finally:
        stop.set()
        t.join(timeout=15)
    kids = fz.get_children("/syncrace/via-learner")
    lz.stop(); fz.stop()
    if len(kids) != rounds:
        print(f"sync-race: {len(kids)} creates, expected {rounds}", file=sys.stderr)
        return 1
    print(f"sync-race: {rounds} sync+create pairs answered through the learner")
    return 0


if __name__ == "__main__":
    sys.exit(main())
