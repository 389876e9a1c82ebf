#!/usr/bin/python3
"""ensemble_verify.py - checks that replicas agree and lost nothing.

    ensemble_verify.py [--acked FILE]... [--absent PATH]... REPLICA...

REPLICA is one replica's host:port (each is checked through its own
connection, after `sync`, so reads are current).  Checks:
  * every path listed in every --acked FILE (one a line, written by
    ensemble_writer.py) exists on every replica;
  * no --absent PATH exists on any replica;
  * the full trees (every znode but /zookeeper: path, stat, data) are
    identical on every replica.
Prints one line per replica ("host: N znodes"), then "verify: ok" and exits 0,
or prints what differs and exits 1 (2 on a connection error).
"""

import sys
import time

from kazoo.exceptions import ConnectionLoss, SessionExpiredError

from ensemble_util import connect, dump_tree, sync_all


def main():
    args = sys.argv[1:]
    acked_files, absent, replicas = [], [], []
    while args:
        a = args.pop(0)
        if a == "--acked":
            acked_files.append(args.pop(0))
        elif a == "--absent":
            absent.append(args.pop(0))
        else:
            replicas.append(a)
    acked = []
    for f in acked_files:
        with open(f) as fh:
            acked += [line.strip() for line in fh if line.strip()]
    acked_set = set(acked)
    trees = {}
    problems = []
    for r in replicas:
        started = time.monotonic()
        # A dump cut by a ConnectionLoss (a re-election on a loaded
        # machine) is started again, three times at most.
        for attempt in range(3):
            zk = None
            try:
                zk = connect(r)
                sync_all(zk)
                lines = dump_tree(zk)
                break
            except (ConnectionLoss, SessionExpiredError) as e:
                print(f"verify: {r}: {type(e).__name__}, reading again", file=sys.stderr)
                if attempt == 2:
                    return 2
                time.sleep(1)
            except Exception as e:  # noqa: BLE001
                print(f"verify: {r}: {type(e).__name__}: {e}", file=sys.stderr)
                return 2
            finally:
                if zk is not None:
                    try:
                        zk.stop(); zk.close()
                    except Exception:  # noqa: BLE001
                        pass
        paths = {line.split(" ", 1)[0] for line in lines}
        missing = sorted(acked_set - paths)
        if missing:
            problems.append(f"{r}: {len(missing)} acknowledged writes missing, e.g. {missing[:5]}")
        present = [p for p in absent if p in paths]
        if present:
            problems.append(f"{r}: must not exist but does: {present}")
        trees[r] = lines
        print(f"{r}: {len(lines)} znodes, {len(acked_set)} acknowledged writes checked"
              f" ({time.monotonic() - started:.1f} s)")
    first = replicas[0]
    for r in replicas[1:]:
        if trees[r] != trees[first]:
            a, b = set(trees[first]), set(trees[r])
            only_a, only_b = sorted(a - b)[:5], sorted(b - a)[:5]
            problems.append(f"trees differ between {first} and {r}: only on {first}: {only_a}; "
                            f"only on {r}: {only_b}")
    if problems:
        for p in problems:
            print("verify: " + p, file=sys.stderr)
        return 1
    print("verify: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
