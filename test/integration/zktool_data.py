#!/usr/bin/python3
"""zktool_data.py - builds and inspects the databases the zktool tests use.

  zktool_data.py workload HOST:PORT SESSIONFILE
      A deterministic mix of every transaction type (creates of every mode,
      containers, TTLs, sequential nodes, binary and non-ASCII data and
      paths, digest/ip ACLs, setACL, multi that succeeds and fails, deletes,
      errors, 15 sessions of which some keep ephemerals) through kazoo and
      the raw wire client.  Leaves one session with ephemerals alive (its
      TCP connection dropped, not closed) and writes "ID PASSWDHEX" to
      SESSIONFILE so a later step can resume it.
  zktool_data.py view HOST:PORT
      Prints the whole tree (pre-order, children in server order): every
      znode's stat, data and ACL, then the `dump` four-letter word (sessions
      with ephemerals) - a view two servers serving the same database print
      identically.
  zktool_data.py resume HOST:PORT SESSIONFILE
      Reconnects the saved session, checks it is alive and still owns its
      ephemerals (prints them), then closes it.
"""

import socket
import sys
import time

from kazoo.client import KazooClient
from kazoo.security import make_digest_acl, ACL, Id

import zkwire

SESSION_TIMEOUT_MS = 30000


def hostport(s):
    h, p = s.rsplit(':', 1)
    return h, int(p)


def client(hosts):
    zk = KazooClient(hosts=hosts, timeout=15)
    zk.start(timeout=15)
    return zk


def workload(hosts, session_file):
    zk = client(hosts)
    digest = make_digest_acl('alice', 'secret', all=True)
    reader = make_digest_acl('bob', 'pw', read=True)
    ip = ACL(31, Id('ip', '127.0.0.1'))
    zk.create('/app', b'port=80')
    zk.create('/app/conf', b'a,b}c%d\nline2\r\x00end', acl=[digest, reader])
    zk.create('/bin', bytes(range(256)))
    zk.create('/null')                      # empty data
    zk.create('/\u00fcber', '\u65e5\u672c'.encode())
    zk.create('/\u00fcber/\u65e5\u672c,x', b'')
    zk.create('/ipnode', b'ip', acl=[ip])
    zk.create('/q"uote\\back', b'"\\')     # JSON escapes in SnapshotFormatter -json
    for i in range(40):                     # enough children to show HashSet order
        zk.create('/many/n%d' % i, str(i).encode() * (i % 5), makepath=(i == 0))
    for i in range(5):
        zk.create('/queue/item-', b'q%d' % i, sequence=True, makepath=(i == 0))
    zk.set('/app', b'port=8080')
    zk.set('/app', b'port=8081', version=1)
    zk.set_acls('/app', [digest, ACL(1, Id('world', 'anyone'))])
    zk.delete('/many/n7')
    zk.delete('/queue/item-0000000001')
    t = zk.transaction()
    t.create('/multi', b'm')
    t.set_data('/app', b'multi-set')
    t.check('/bin', 0)
    t.delete('/many/n8')
    t.commit()
    t = zk.transaction()                    # fails: an error multi
    t.create('/multi-fail', b'x')
    t.delete('/does-not-exist')
    t.commit()
    try:
        zk.delete('/does-not-exist')        # an error txn
    except Exception:
        pass

    # Containers and TTL nodes (extended types) through the wire client.
    host, port = hostport(hosts)
    w = zkwire.Conn(host, port)
    w.connect()
    rep = w.call('createContainer', zkwire.enc_create('/cont', b'c', flags=4))
    assert rep.err == 0, rep
    rep = w.call('create', zkwire.enc_create('/cont/child', b'in container'))
    assert rep.err == 0, rep
    rep = w.call('createTTL', zkwire.enc_create('/ttl', b't', flags=5, ttl=3600000))
    assert rep.err == 0, rep
    rep = w.call('createTTL', zkwire.enc_create('/ttlseq-', b't', flags=6, ttl=7200000))
    assert rep.err == 0, rep
    w.call('closeSession')
    w.disconnect()

    # Twenty sessions: some close, some keep ephemerals (more than twelve
    # exercise HashMap resizing in SnapshotFormatter's session list).
    extra = []
    for i in range(20):
        c = zkwire.Conn(host, port, timeout_ms=SESSION_TIMEOUT_MS)
        c.connect()
        if i % 3 == 0:
            rep = c.call('create', zkwire.enc_create('/eph-%d' % i, b'e', flags=1))
            assert rep.err == 0, rep
        if i % 4 == 1:
            c.call('closeSession')
            c.disconnect()
        else:
            extra.append(c)
    for i in range(30):                     # more writes: more snapshots and log files
        zk.set('/many/n1', b'round %d' % i)
    zk.stop()
    zk.close()

    # The session a migration must carry over: alive, owning ephemerals.
    keep = zkwire.Conn(host, port, timeout_ms=SESSION_TIMEOUT_MS)
    keep.connect()
    for p in ('/held', '/queue/held-lock'):
        rep = keep.call('create', zkwire.enc_create(p, b'owner', flags=1))
        assert rep.err == 0, rep
    rep = keep.call('create', zkwire.enc_create('/held-seq-', b's', flags=3))
    assert rep.err == 0, rep
    keep.call('sync', zkwire.enc_path('/'))
    with open(session_file, 'w') as f:
        f.write('%d %s\n' % (keep.session_id, keep.passwd.hex()))
    keep.disconnect()
    for c in extra:
        c.disconnect()


def view(hosts):
    zk = client(hosts)
    zk.add_auth('digest', 'alice:secret')   # /app/conf is readable by alice and bob only
    out = []

    def walk(path):
        data, st = zk.get(path)
        acls = zk.get_acls(path)[0]
        out.append('%s czxid=%#x mzxid=%#x pzxid=%#x ctime=%d mtime=%d version=%d cversion=%d '
                   'aversion=%d owner=%#x dataLength=%d numChildren=%d' % (
                       path, st.czxid, st.mzxid, st.pzxid, st.ctime, st.mtime, st.version,
                       st.cversion, st.aversion, st.ephemeralOwner, st.dataLength, st.numChildren))
        out.append('  data=%s' % ('null' if data is None else data.hex()))
        out.append('  acl=%s' % ','.join('%s:%s:%d' % (a.id.scheme, a.id.id, a.perms) for a in acls))
        for child in zk.get_children(path):
            walk(path.rstrip('/') + '/' + child)

    walk('/')
    zk.stop()
    zk.close()
    host, port = hostport(hosts)
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b'dump')
    dump = b''
    while True:
        b = s.recv(65536)
        if not b:
            break
        dump += b
    s.close()
    # The dump's session list: keep "Sessions with Ephemerals" and its lines.
    lines = dump.decode().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith('Sessions with Ephemerals'))
    end = next((i for i, l in enumerate(lines) if l.startswith('Connections dump')), len(lines))
    # Sessions in id order: Apache lists them in ConcurrentHashMap order,
    # which depends on the map's history (it changes across a restart).
    blocks = []
    for l in lines[start + 1:end]:
        if not l.strip():
            continue
        if l.startswith('\t'):
            blocks[-1].append(l)
        else:
            blocks.append([l])
    out.append(lines[start])
    for b in sorted(blocks, key=lambda b: int(b[0].rstrip(':'), 16)):
        out.extend(b)
    print('\n'.join(out))


def resume(hosts, session_file):
    sid, pw = open(session_file).read().split()
    host, port = hostport(hosts)
    c = zkwire.Conn(host, port, timeout_ms=SESSION_TIMEOUT_MS, session_id=int(sid),
                    passwd=bytes.fromhex(pw))
    resp = c.connect()
    if resp['sessionId'] != int(sid):
        print('session %#x was not resumed: %r' % (int(sid), resp))
        sys.exit(1)
    rep = c.call('getEphemerals', zkwire.enc_path('/'))
    assert rep.err == 0, rep
    print('resumed session %#x, ephemerals %s' % (int(sid), sorted(rep.decoded['ephemerals'])))
    c.call('closeSession')
    c.disconnect()


if __name__ == '__main__':
    cmd = sys.argv[1]
    if cmd == 'workload':
        workload(sys.argv[2], sys.argv[3])
    elif cmd == 'session':
        # One session opened and closed: two transactions and nothing else.
        host, port = hostport(sys.argv[2])
        c = zkwire.Conn(host, port)
        c.connect()
        c.call('closeSession')
        c.disconnect()
    elif cmd == 'view':
        view(sys.argv[2])
    elif cmd == 'resume':
        resume(sys.argv[2], sys.argv[3])
    else:
        sys.exit('unknown command ' + cmd)
