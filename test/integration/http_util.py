"""http_util.py — helpers shared by the HTTP checks of the AdminServer
(admin_check.py) and of the /metrics endpoint (metrics_check.py).

close_wait(port): how many TCP sockets whose local port is port are in
CLOSE-WAIT (the peer closed, the server has not), read from
/proc/net/tcp and /proc/net/tcp6.  wait_no_close_wait(port, seconds):
polls until there is none, for a bounded time; returns the last count.
"""
import time

CLOSE_WAIT = "08"   # TCP_CLOSE_WAIT in /proc/net/tcp's "st" column


def close_wait(port):
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 4:
                continue
            local, state = fields[1], fields[3]
            if state == CLOSE_WAIT and int(local.rsplit(":", 1)[1], 16) == port:
                n += 1
    return n


def wait_no_close_wait(port, seconds=20.0):
    deadline = time.monotonic() + seconds
    n = close_wait(port)
    while n and time.monotonic() < deadline:
        time.sleep(0.2)
        n = close_wait(port)
    return n
