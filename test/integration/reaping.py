"""reaping.py HOST:PORT — container and TTL reaping (ContainerManager).

Expects the server to run with znode.container.checkIntervalMs=200 and
extendedTypesEnabled=true.  Prints one line per observation; exits 1 on
the first wrong one.  The same script runs against Apache and zkserver."""
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
import zkwire as z  # noqa: E402

host, port = sys.argv[1].split(":")
c = z.Conn(host, int(port)); c.connect()
OPEN = [(31, "world", "anyone")]


def call(op, body):
    r = c.call(op, body)
    return r.err if hasattr(r, "err") else r


def exists(path):
    r = c.call(z.OP["exists"], z.enc_path_watch(path, False))
    return r.err == "OK" or r.err == 0


def check(name, got, want):
    print(f"{'ok  ' if got == want else 'FAIL'} {name}: {got}")
    if got != want:
        sys.exit(1)


def wait_gone(path, limit):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if not exists(path):
            return True
        time.sleep(0.1)
    return False


c.call(z.OP["create"], z.enc_create("/reap", b"", OPEN, 0))
# a container that had a child is deleted once it is empty again
c.call(z.OP["createContainer"], z.enc_create("/reap/used", b"", OPEN, 4))
c.call(z.OP["create"], z.enc_create("/reap/used/child", b"", OPEN, 0))
c.call(z.OP["delete"], z.enc_path_version("/reap/used/child", -1))
check("emptied container reaped", wait_gone("/reap/used", 10), True)
# a container that never had a child stays
c.call(z.OP["createContainer"], z.enc_create("/reap/fresh", b"", OPEN, 4))
time.sleep(1.5)
check("never-used container kept", exists("/reap/fresh"), True)
# a container with a child stays
c.call(z.OP["createContainer"], z.enc_create("/reap/busy", b"", OPEN, 4))
c.call(z.OP["create"], z.enc_create("/reap/busy/c", b"", OPEN, 0))
# TTL nodes: an expired childless one goes, one with a child stays
c.call(z.OP["createTTL"], z.enc_create("/reap/ttl", b"x", OPEN, 5, ttl=500))
c.call(z.OP["createTTL"], z.enc_create("/reap/ttlp", b"x", OPEN, 5, ttl=500))
c.call(z.OP["create"], z.enc_create("/reap/ttlp/c", b"", OPEN, 0))
check("expired TTL node reaped", wait_gone("/reap/ttl", 10), True)
check("TTL node with a child kept", exists("/reap/ttlp"), True)
check("container with a child kept", exists("/reap/busy"), True)
c.close_session()
print("reaping: all checks passed")
