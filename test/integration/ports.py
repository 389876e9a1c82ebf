#!/usr/bin/python3
"""ports.py - free loopback TCP ports for the integration tests, reserved
across the tests that run at the same time (run-integration.sh runs two at
once; other users of the machine may run more).

    ports.py COUNT OWNER_PID [--random-low]
    ports.py --release OWNER_PID

Prints COUNT distinct ports, one a line.  Each port is free when picked
(bound once here, then closed) and is reserved by a file
$ZKIT_PORT_DIR/<port> (default /tmp/zkit-ports) holding OWNER_PID, the
test's shell: another test's ports.py skips a reserved port for as long as
that PID runs, so two tests never get the same port between its pick and
the server's bind.  Reservations of a PID that has died are taken over;
--release removes every reservation of OWNER_PID (harness.sh's cleanup).

Without --random-low the kernel picks each port (bind to port 0, in the
ephemeral range); with it the ports are random below the kernel's
ephemeral range (cluster.sh: a member restarted on a port that some
outgoing connection used as its source port would fail to bind).
Standard library only; every step is bounded (a few thousand tries).
"""

import os
import random
import socket
import sys

PORT_DIR = os.environ.get("ZKIT_PORT_DIR", "/tmp/zkit-ports")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reserve(port, owner):
    """True if PORT is now reserved for OWNER (it was free or stale)."""
    path = os.path.join(PORT_DIR, str(port))
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                with open(path) as f:
                    holder = int(f.read().strip() or "0")
            except (OSError, ValueError):
                holder = 0
            if holder == owner:
                return False          # already ours: not a new distinct port
            if holder > 0 and _alive(holder):
                return False
            try:
                os.unlink(path)       # stale (its test is gone): retry once
            except OSError:
                return False
            continue
        with os.fdopen(fd, "w") as f:
            f.write(f"{owner}\n")
        return True
    return False


def pick(count, owner, random_low):
    os.makedirs(PORT_DIR, mode=0o1777, exist_ok=True)
    low = 32768
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    socks, ports = [], []
    tries = 0
    while len(ports) < count:
        tries += 1
        if tries > 5000:
            raise SystemExit("ports.py: no free port found")
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", random.randrange(10000, max(low, 10001)) if random_low else 0))
        except OSError:
            s.close()
            continue
        port = s.getsockname()[1]
        if port in ports or not _reserve(port, owner):
            s.close()
            continue
        socks.append(s)               # held until all are picked: distinct
        ports.append(port)
    for s in socks:
        s.close()
    return ports


def release(owner):
    try:
        names = os.listdir(PORT_DIR)
    except OSError:
        return
    for name in names:
        path = os.path.join(PORT_DIR, name)
        try:
            with open(path) as f:
                if int(f.read().strip() or "0") == owner:
                    os.unlink(path)
        except (OSError, ValueError):
            pass


def main():
    args = sys.argv[1:]
    if args[:1] == ["--release"] and len(args) == 2:
        release(int(args[1]))
        return 0
    if len(args) not in (2, 3) or (len(args) == 3 and args[2] != "--random-low"):
        print(__doc__, file=sys.stderr)
        return 2
    for p in pick(int(args[0]), int(args[1]), len(args) == 3):
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
