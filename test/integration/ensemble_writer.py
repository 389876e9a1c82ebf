#!/usr/bin/python3
"""ensemble_writer.py - one write-load process for the ensemble failover test.

    ensemble_writer.py HOSTS WRITER_ID SECONDS ACKED_FILE

Connects to HOSTS in the given order (randomize_hosts off, so the first
replica is the one it writes through while it is up), then for SECONDS
creates /load/w<ID>-<seq> (data b"<ID>:<seq>") one after another, each with
a 5 s bound.  Every create the server acknowledged is appended to ACKED_FILE
(path, one a line, flushed at once) before the next is sent, so the file
holds exactly the acknowledged writes even if this process is killed.
A failed or timed-out create (ConnectionLoss, SessionExpired, ...) is not
recorded; the writer moves on to the next sequence number.  It prints one
summary line "writer ID: N acked, M failed" and exits 0 (also when it could
not connect at all within 15 s: then nothing was acknowledged).
"""

import sys
import time

from kazoo.client import KazooClient
from kazoo.retry import KazooRetry


def main():
    hosts, wid, seconds, acked_path = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    zk = KazooClient(hosts=hosts, timeout=4.0, randomize_hosts=False,
                     connection_retry=KazooRetry(max_tries=-1, delay=0.1, max_delay=0.5),
                     command_retry=None)
    try:
        zk.start(timeout=15)
    except Exception as e:  # noqa: BLE001 - no quorum reachable: nothing acknowledged
        print(f"writer {wid}: 0 acked, no connection ({type(e).__name__})", flush=True)
        return 0
    try:
        zk.ensure_path("/load")
    except Exception:  # noqa: BLE001 - another writer may race us; a retry below copes
        pass
    acked = failed = 0
    deadline = time.monotonic() + seconds
    seq = 0
    with open(acked_path, "a", buffering=1) as out:
        while time.monotonic() < deadline:
            path = f"/load/w{wid}-{seq:06d}"
            seq += 1
            try:
                zk.create_async(path, f"{wid}:{seq - 1}".encode()).get(timeout=5)
            except Exception:  # noqa: BLE001 - unacknowledged; may or may not exist
                failed += 1
                time.sleep(0.05)
                continue
            out.write(path + "\n")
            acked += 1
    print(f"writer {wid}: {acked} acked, {failed} failed", flush=True)
    try:
        zk.stop()
        zk.close()
    except Exception:  # noqa: BLE001
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
