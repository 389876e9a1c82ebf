#!/usr/bin/python3
"""diff_test.py - differential test of two ZooKeeper servers.

    diff_test.py --a HOST:PORT --b HOST:PORT --seed N --ops M [--sessions K]

Generates ONE seeded random sequence of client operations over a small path
space (so that NONODE, NODEEXISTS, NOTEMPTY, BADVERSION, NOAUTH,
NOCHILDRENFOREPHEMERALS, bad paths, ... happen often) and runs it in lockstep
against server A and server B, each with K sessions playing the same roles.
After every operation every session is flushed (sync + ping round trip) so
the watch events it triggered have arrived; then the normalised observation
of A (reply + events on every session) is compared with B's.  Stops at the
first difference (exit 1) with the op history; prints a summary (exit 0)
when both servers behaved identically.

Normalisation rules are documented in docs/testing-differential.md.
"""

import argparse
import base64
import collections
import hashlib
import json
import random
import sys
import time

import zkwire as zw
from zkwire import OP

BASE = '/diff'
# --quota: StatsTrack text of a quota set on BASE (each observation then
# also holds the quota's stats znode data)
QUOTA_LIMITS = None
IO_TIMEOUT = 5.0
SESSION_TIMEOUT_MS = 30000


# --------------------------------------------------------------- ACL sets
def digest_id(user, password):
    raw = hashlib.sha1(('%s:%s' % (user, password)).encode()).digest()
    return '%s:%s' % (user, base64.b64encode(raw).decode())


ACLS = {
    'open': [(zw.PERM_ALL, 'world', 'anyone')],
    'read': [(zw.PERM_READ, 'world', 'anyone')],
    'nocreate': [(zw.PERM_ALL & ~zw.PERM_CREATE, 'world', 'anyone')],
    'nodelete': [(zw.PERM_ALL & ~zw.PERM_DELETE, 'world', 'anyone')],
    'user1': [(zw.PERM_ALL, 'digest', digest_id('user1', 'pw1'))],
    'user1read': [(zw.PERM_ALL, 'digest', digest_id('user1', 'pw1')),
                  (zw.PERM_READ, 'world', 'anyone')],
    'auth': [(zw.PERM_ALL, 'auth', '')],
    'ip': [(zw.PERM_ALL, 'ip', '127.0.0.1')],
    'ipnet': [(zw.PERM_ALL, 'ip', '10.0.0.0/8')],
    'empty': [],
    'badscheme': [(zw.PERM_ALL, 'nosuchscheme', 'x')],
    'baddigest': [(zw.PERM_ALL, 'digest', 'nocolon')],
}
ACL_WEIGHTS = [('open', 60), ('read', 5), ('nocreate', 4), ('nodelete', 4),
               ('user1', 5), ('user1read', 4), ('auth', 5), ('ip', 4),
               ('ipnet', 3), ('empty', 2), ('badscheme', 2), ('baddigest', 2)]

AUTHS = [('digest', b'user1:pw1', 5), ('digest', b'user2:pw2', 3),
         ('nosuchscheme', b'whatever', 1), ('ip', b'127.0.0.1', 1)]


def weighted(rng, pairs):
    total = sum(w for _, w in pairs)
    x = rng.uniform(0, total)
    for item, w in pairs:
        x -= w
        if x <= 0:
            return item
    return pairs[-1][0]


# ----------------------------------------------------------- path space
L1 = ['a', 'b', 'c']
L2 = ['x', 'y']
PLAIN_PATHS = SEQ_PREFIXES = SEQ_PATHS = BAD_PATHS = []


def build_paths(base):
    """Sets the path space below base (chosen so that it is fresh on both servers)."""
    global BASE, PLAIN_PATHS, SEQ_PREFIXES, SEQ_PATHS, BAD_PATHS
    BASE = base
    PLAIN_PATHS = ([base] + ['%s/%s' % (base, a) for a in L1] +
                   ['%s/%s/%s' % (base, a, b) for a in L1 for b in L2] +
                   ['%s/a/x/p' % base, '%s/b/y/p' % base] +
                   # non-ASCII names: Apache counts a path in UTF-16 units
                   # (mntr's approximate_data_size, the 'mntr' op below)
                   ['%s/\u00fc' % base, '%s/a/\u65e5\u672c' % base, '%s/\U0001d11e' % base])
    SEQ_PREFIXES = ['%s/s' % base, '%s/a/s' % base, '%s/b/x/s' % base]
    SEQ_PATHS = ['%s%010d' % (pfx, i) for pfx in SEQ_PREFIXES for i in range(6)]
    BAD_PATHS = [base[1:], base + '/', base + '//a', base + '/./a', base + '/a/..',
                 base + '/a\x01', base + '/a\u0000b', base + '/\ufff0', base + '/\ud800x',
                 base + '/..']


class Gen:
    """The seeded generator of operations.  Depends only on the seed, never on
    server replies, so both sides see the same sequence."""

    def __init__(self, seed, sessions):
        self.rng = random.Random(seed)
        self.seed = seed
        self.k = sessions

    def path(self, allow_bad=True, allow_root=False):
        """A path: mostly from the small plain space, some sequential
        names, some invalid ones.  The root is only offered to ops whose
        outcome does not depend on what earlier runs did to it."""
        r = self.rng.random()
        if r < 0.80 or not allow_bad:
            return self.rng.choice(PLAIN_PATHS)
        if r < 0.94:
            return self.rng.choice(SEQ_PATHS)
        if allow_root and r < 0.95:
            return self.rng.choice(['/', ''])   # Apache: '' names the root for lookups
        return self.rng.choice(BAD_PATHS)

    def data(self):
        return self.rng.choice([b'', b'x', b'hello', None, bytes(range(256)),
                                b'\x00' * 700, 'ünïcødé'.encode()])

    def version(self):
        return self.rng.choice([-1, -1, 0, 0, 1, 2, 5])

    def create_op(self, opname=None):
        rng = self.rng
        opname = opname or weighted(rng, [('create', 5), ('create2', 4),
                                          ('createContainer', 1), ('createTTL', 1)])
        flags = weighted(rng, [(zw.PERSISTENT, 8), (zw.EPHEMERAL, 4),
                               (zw.PERSISTENT_SEQUENTIAL, 2), (zw.EPHEMERAL_SEQUENTIAL, 2),
                               (zw.CONTAINER, 1), (zw.PERSISTENT_WITH_TTL, 1),
                               (zw.PERSISTENT_SEQUENTIAL_WITH_TTL, 1), (7, 0.2), (-1, 0.1)])
        if opname == 'createContainer':
            flags = zw.CONTAINER if rng.random() < 0.9 else flags
        if opname == 'createTTL':
            flags = (rng.choice([zw.PERSISTENT_WITH_TTL, zw.PERSISTENT_SEQUENTIAL_WITH_TTL])
                     if rng.random() < 0.8 else flags)
        if flags in (zw.PERSISTENT_SEQUENTIAL, zw.EPHEMERAL_SEQUENTIAL,
                     zw.PERSISTENT_SEQUENTIAL_WITH_TTL) and rng.random() < 0.8:
            path = rng.choice(SEQ_PREFIXES)
        else:
            path = self.path(allow_root=True)
            if flags in (zw.PERSISTENT_SEQUENTIAL, zw.EPHEMERAL_SEQUENTIAL,
                         zw.PERSISTENT_SEQUENTIAL_WITH_TTL) and path in ('/', '', BASE):
                # a sequential child of the root would be numbered by the
                # root's cversion, which depends on earlier runs
                path = BASE + '/s'
        op = {'op': opname, 'path': path, 'data': self.data(),
              'acl': weighted(rng, ACL_WEIGHTS), 'flags': flags}
        if opname == 'createTTL':
            op['ttl'] = rng.choice([3600000, 3600000, 100000000, 0, -5, 1 << 40])
            if flags not in (zw.PERSISTENT_WITH_TTL, zw.PERSISTENT_SEQUENTIAL_WITH_TTL) and op['ttl'] < 0:
                # Apache 3.8 accepts createTTL with a non-TTL mode and a
                # negative ttl, then dies applying the txn (the server exits):
                # never send that combination.
                op['ttl'] = 3600000
        return op

    def sub_write(self):
        rng = self.rng
        kind = weighted(rng, [('create', 4), ('delete', 3), ('setData', 3), ('check', 3),
                              ('getData', 0.4), ('getChildren', 0.4)])
        if kind in ('getData', 'getChildren'):    # a read op inside a write multi
            return {'op': kind, 'path': self.path(), 'watch': rng.random() < 0.3}
        if kind == 'create':
            return self.create_op(weighted(rng, [('create', 3), ('create2', 2),
                                                 ('createContainer', 0.5), ('createTTL', 0.5)]))
        if kind == 'setData':
            return {'op': 'setData', 'path': self.path(), 'data': self.data(),
                    'version': self.version()}
        return {'op': kind, 'path': self.path(allow_root=True), 'version': self.version()}

    def paths(self, n):
        return [self.path(allow_bad=False) for _ in range(self.rng.randint(0, n))]

    def next_op(self, index):
        rng = self.rng
        s = rng.randrange(self.k)
        kind = weighted(rng, [
            ('create', 14), ('delete', 8), ('exists', 6), ('getData', 6),
            ('setData', 7), ('getACL', 2), ('setACL', 3), ('getChildren', 4),
            ('getChildren2', 4), ('sync', 1), ('multi', 6), ('multiRead', 2),
            ('setWatches', 1), ('reconnect', 1.5), ('addWatch', 2),
            ('removeWatches', 2), ('checkWatches', 2), ('getEphemerals', 1.5),
            ('getAllChildrenNumber', 1.5), ('whoAmI', 1), ('auth', 2),
            ('closeSession', 1), ('probeConnect', 0.5), ('pipeline', 2),
            ('mntr', 1.5), ('badPassword', 1)])
        if kind == 'create':
            op = self.create_op()
        elif kind == 'delete':
            op = {'op': 'delete', 'path': self.path(allow_root=True), 'version': self.version()}
        elif kind in ('exists', 'getData', 'getChildren', 'getChildren2'):
            op = {'op': kind, 'path': self.path(), 'watch': rng.random() < 0.6}
        elif kind == 'setData':
            op = {'op': 'setData', 'path': self.path(), 'data': self.data(),
                  'version': self.version()}
        elif kind in ('getACL', 'sync', 'getAllChildrenNumber'):
            op = {'op': kind, 'path': self.path()}
        elif kind == 'getEphemerals':
            op = {'op': kind, 'path': rng.choice(['/', BASE, BASE + '/a', BASE + '/b/', '/nomatch', ''])}
        elif kind == 'setACL':
            op = {'op': 'setACL', 'path': self.path(), 'acl': weighted(rng, ACL_WEIGHTS),
                  'version': self.version()}
        elif kind == 'multi':
            op = {'op': 'multi', 'subs': [self.sub_write() for _ in range(rng.choice([0, 1, 2, 2, 3, 4]))]}
        elif kind == 'multiRead':
            op = {'op': 'multiRead',
                  'subs': [{'op': rng.choice(['getData', 'getChildren']), 'path': self.path(),
                            'watch': rng.random() < 0.3} for _ in range(rng.randint(0, 4))]}
        elif kind in ('setWatches', 'reconnect'):
            op = {'op': kind, 'rel': rng.choice(['last', 'last', 'back', 'zero']),
                  'back': rng.randint(1, 30), 'v2': rng.random() < 0.5,
                  'data': self.paths(3), 'exist': self.paths(3), 'child': self.paths(3),
                  'persistent': self.paths(2), 'recursive': self.paths(2)}
        elif kind == 'addWatch':
            op = {'op': 'addWatch', 'path': self.path(),
                  'mode': weighted(rng, [(0, 5), (1, 5), (2, 0.3)])}
        elif kind in ('removeWatches', 'checkWatches'):
            op = {'op': kind, 'path': self.path(), 'type': weighted(rng, [(1, 3), (2, 3), (3, 3), (4, 0.3)])}
        elif kind in ('whoAmI', 'mntr'):
            op = {'op': kind}
        elif kind == 'badPassword':
            # The live connection is always dropped first: with it kept,
            # Apache 3.8 closes it (processConnectRequest closes the
            # session's old connection before checking the password) only
            # sometimes before the next sync/ping sees it (once in CI it did
            # not, zkserver did), so that variant compares timing, not
            # behaviour. The draw stays, so every seed's ops stay the same.
            ping = rng.random() < 0.5
            rng.random()
            op = {'op': kind, 'ping': ping, 'drop': True}
        elif kind == 'auth':
            scheme, auth, _ = weighted(rng, [((a, b, w), w) for a, b, w in AUTHS])
            op = {'op': 'auth', 'scheme': scheme, 'auth': auth}
        elif kind == 'closeSession':
            # 0-3 requests pipelined behind the closeSession, drawn from a
            # generator of their own so that every seed's ops stay the same
            trng = random.Random('close-%s-%d' % (self.seed, index))
            op = {'op': 'closeSession',
                  'after': [trng.choice(['ping', 'ping', 'getData', 'exists', 'sync'])
                            for _ in range(trng.choice([0, 0, 1, 2, 3]))]}
        elif kind == 'probeConnect':
            op = {'op': 'probeConnect', 'timeout': rng.choice([0, 100, 3999, 4000, 10000, 40000, 40001, 10 ** 6])}
        else:  # pipeline: several requests sent back to back on one session
            subs = []
            for _ in range(rng.randint(2, 5)):
                sub = self.next_simple()
                subs.append(sub)
            op = {'op': 'pipeline', 'subs': subs}
        op['s'] = s
        op['i'] = index
        return op

    def next_simple(self):
        rng = self.rng
        kind = rng.choice(['create', 'setData', 'getData', 'exists', 'delete', 'getChildren2'])
        if kind == 'create':
            return self.create_op('create')
        if kind == 'setData':
            return {'op': kind, 'path': self.path(), 'data': self.data(), 'version': self.version()}
        if kind == 'delete':
            return {'op': kind, 'path': self.path(), 'version': self.version()}
        return {'op': kind, 'path': self.path(), 'watch': rng.random() < 0.5}


# ------------------------------------------------------ request encoding
def encode(op):
    """(opcode, body) for a simple op dict."""
    name = op['op']
    if name in ('create', 'create2', 'createContainer', 'createTTL'):
        return OP[name], zw.enc_create(op['path'], op['data'], ACLS[op['acl']], op['flags'],
                                        op.get('ttl') if name == 'createTTL' else None)
    if name in ('delete', 'check'):
        return OP[name], zw.enc_path_version(op['path'], op['version'])
    if name in ('exists', 'getData', 'getChildren', 'getChildren2'):
        return OP[name], zw.enc_path_watch(op['path'], op['watch'])
    if name == 'setData':
        return OP[name], zw.enc_set_data(op['path'], op['data'], op['version'])
    if name in ('getACL', 'sync', 'getAllChildrenNumber', 'getEphemerals'):
        return OP[name], zw.enc_path(op['path'])
    if name == 'setACL':
        return OP[name], zw.enc_set_acl(op['path'], ACLS[op['acl']], op['version'])
    if name in ('removeWatches', 'checkWatches'):
        return OP[name], zw.enc_path_type(op['path'], op['type'])
    if name == 'addWatch':
        return OP[name], zw.enc_path_type(op['path'], op['mode'])
    if name == 'whoAmI':
        return OP[name], b''
    if name in ('multi', 'multiRead'):
        return OP[name], zw.enc_multi([encode(sub) for sub in op['subs']])
    raise ValueError(name)


# ------------------------------------------------------------------ sides
class Side:
    """One server under test: its K sessions and the normalisation state
    (zxid -> ordinal, session id -> role label)."""

    def __init__(self, label, hostport, k):
        self.label = label
        self.host, self.port = zw.parse_hostport(hostport)
        self.k = k
        self.conns = [None] * k
        self.gen = [0] * k
        self.session_label = {}       # session id -> 'r<role>g<gen>'
        self.zxid_ord = {}            # zxid -> ordinal (first appearance)
        self.op_zxid = []             # per op index: header zxid of its reply (or None)
        self.t_lo = time.time() * 1000 - 3600 * 1000
        self.stats = collections.Counter()

    # --- normalisation
    def zx(self, z):
        if z is None or z <= 0:
            return z
        if z not in self.zxid_ord:
            self.zxid_ord[z] = len(self.zxid_ord)
        return 'Z%d' % self.zxid_ord[z]

    def owner(self, sid):
        if sid == 0:
            return 0
        if sid in self.session_label:
            return self.session_label[sid]
        return '0x%x' % (sid & 0xffffffffffffffff)

    def time_ok(self, t):
        return t == 0 or self.t_lo <= t <= time.time() * 1000 + 5000

    def norm_stat(self, st):
        n = dict(st)
        for f in ('czxid', 'mzxid', 'pzxid'):
            n[f] = self.zx(st[f])
        n['ctime'] = 'ok' if self.time_ok(st['ctime']) else 'BAD:%d' % st['ctime']
        if st['mzxid'] == st['czxid']:
            n['mtime'] = '=ctime' if st['mtime'] == st['ctime'] else 'BAD:%d!=ctime' % st['mtime']
        else:
            n['mtime'] = '>=ctime' if (st['mtime'] >= st['ctime'] and self.time_ok(st['mtime'])) \
                else 'BAD:%d' % st['mtime']
        n['ephemeralOwner'] = self.owner(st['ephemeralOwner'])
        return n

    def norm_body(self, d):
        out = {}
        for key, val in d.items():
            if key == 'stat':
                out[key] = self.norm_stat(val)
            elif key in ('children', 'ephemerals'):
                # Apache returns these from hash sets: order is not meaningful.
                out[key] = None if val is None else sorted(val)
            elif key == 'results':
                out[key] = [self.norm_body(r) for r in val]
            elif isinstance(val, bytes):
                out[key] = val.hex() if len(val) <= 64 else 'len%d:sha1=%s' % (
                    len(val), hashlib.sha1(val).hexdigest()[:16])
            else:
                out[key] = val
        return out

    def norm_reply(self, rep, strict_zxid=True):
        d = {'err': zw.ERR.get(rep.err, rep.err), 'body': self.norm_body(rep.decoded or {})}
        if strict_zxid:
            d['zxid'] = self.zx(rep.zxid)
        return d

    def norm_connect(self, resp, role=None):
        return {'protocolVersion': resp['protocolVersion'], 'timeOut': resp['timeOut'],
                'session': ('new' if role is None else self.owner(resp['sessionId']))
                if resp['sessionId'] else 0,
                'passwdLen': None if resp['passwd'] is None else len(resp['passwd']),
                'readOnly': resp['readOnly']}

    # --- sessions
    def open_session(self, role):
        c = zw.Conn(self.host, self.port, timeout_ms=SESSION_TIMEOUT_MS, io_timeout=IO_TIMEOUT)
        resp = c.connect()
        self.gen[role] += 1
        self.session_label[resp['sessionId']] = 'r%dg%d' % (role, self.gen[role])
        self.conns[role] = c
        return self.norm_connect(resp, role)

    def resume_session(self, role):
        old = self.conns[role]
        old.disconnect()
        c = zw.Conn(self.host, self.port, timeout_ms=SESSION_TIMEOUT_MS, session_id=old.session_id,
                    passwd=old.passwd, last_zxid=old.last_zxid, io_timeout=IO_TIMEOUT)
        resp = c.connect()
        self.conns[role] = c
        return self.norm_connect(resp, role)

    def bad_password(self, role, ping, drop):
        """A raw reconnect of role's session with a wrong password (the
        live connection dropped first or kept), a ping pipelined behind
        it when asked: every frame the server sends back until it closes
        (bounded), then the session is resumed with its real password."""
        old = self.conns[role]
        if drop:
            old.disconnect()
        wrong = bytes(b ^ 0xFF for b in old.passwd)
        c = zw.Conn(self.host, self.port, timeout_ms=SESSION_TIMEOUT_MS, session_id=old.session_id,
                    passwd=wrong, last_zxid=old.last_zxid, io_timeout=IO_TIMEOUT)
        frames = []
        try:
            c.sock = zw.socket.create_connection((self.host, self.port), timeout=IO_TIMEOUT)
            payload = zw.enc_connect(SESSION_TIMEOUT_MS, old.session_id, wrong, old.last_zxid)
            if ping:
                payload_ping = zw.enc_request(-2, zw.OP['ping'])
                c.sock.sendall(zw.frame(payload) + zw.frame(payload_ping))
            else:
                c.sock.sendall(zw.frame(payload))
            frames.append(self.norm_connect(zw.decode_connect_response(c.recv_payload()), role))
            while len(frames) < 5:
                pl = c.recv_payload(timeout=3)
                xid, zxid, err = zw.struct.unpack('>iqi', pl[:16])
                frames.append({'xid': xid, 'zxid': self.zx(zxid), 'err': err, 'body': pl[16:].hex()})
        except zw.ConnectionClosed as e:
            frames.append('closed' if 'closed' in str(e) else 'timeout')
        finally:
            c.disconnect()
        if drop:
            self.resume_session(role)
        return frames

    def close_pipelined(self, conn, after):
        """closeSession with the requests `after` pipelined behind it.
        Returns (the close reply or None, what the closing session got
        before that reply: its own watch events (a multiset: Apache deletes
        the ephemerals in hash order) and any other reply, and what came
        after it).  After the close reply Apache answers a prefix of the
        trailing requests, each SESSIONEXPIRED, then closes: how long a
        prefix depends on its threads' timing, so a prefix of that form is
        'ok'; anything else (an event, another error, a wrong xid, no
        close) is shown as it came."""
        xid = conn.send('closeSession', b'')
        trailing = []
        for name in after:
            if name == 'ping':
                conn.pending[zw.XID_PING] = OP['ping']
                conn._send_payload(zw.enc_request(zw.XID_PING, OP['ping']))
                trailing.append(zw.XID_PING)
            else:
                trailing.append(conn.send(*encode({'op': name, 'path': BASE, 'watch': False})))
        rep, before, post = None, [], []
        try:
            while True:
                pkt = conn.recv()
                if isinstance(pkt, zw.Event):
                    ev = 'event %s %d %s' % (zw.EVENT_NAME.get(pkt.type, pkt.type), pkt.state, pkt.path)
                    (before if rep is None else post).append(ev)
                elif rep is None and pkt.xid == xid:
                    rep = pkt
                    if not trailing:
                        break
                else:
                    (before if rep is None else post).append('reply %d err %d' % (pkt.xid, pkt.err))
                    if rep is not None and len(post) == len(trailing):
                        post.append(self.closed_after(conn))
                        break
        except zw.ConnectionClosed as e:
            (before if rep is None else post).append('closed' if 'closed' in str(e) else 'timeout')
        if rep is None:
            return None, before, post
        conn.events = []
        prefix = ['reply %d err -112' % x for x in trailing]   # SESSIONEXPIRED
        n = len(post) - 1
        ok = trailing and n >= 0 and post[-1] == 'closed' and post[:n] == prefix[:n]
        return rep, sorted(before), 'ok' if ok or (not trailing and not post) else post

    def closed_after(self, conn):
        """'closed' once the server closes the connection (bounded)."""
        try:
            pkt = conn.recv(timeout=IO_TIMEOUT)
            return 'unexpected %r' % (pkt,)
        except zw.ConnectionClosed as e:
            return 'closed' if 'closed' in str(e) else 'timeout'

    def base_exists(self, base):
        c = zw.Conn(self.host, self.port, io_timeout=IO_TIMEOUT)
        c.connect()
        rep = c.call('exists', zw.enc_path_watch(base))
        c.close_session()
        return rep.err == 0

    def setup(self):
        """Creates BASE (fresh: see choose_base) and opens the K sessions."""
        c = zw.Conn(self.host, self.port, io_timeout=IO_TIMEOUT)
        c.connect()
        rep = c.call('create', zw.enc_create(BASE, b'base'))
        if rep.err:
            raise RuntimeError('%s: cannot create %s: %s' % (self.label, BASE, zw.ERR.get(rep.err)))
        if QUOTA_LIMITS:
            # the znodes zkCli setquota makes (run the servers with
            # enforceQuota=true to have the hard limits refuse writes)
            q = '/zookeeper/quota' + BASE
            for path, data in ((q, b''), (q + '/zookeeper_limits', QUOTA_LIMITS.encode()),
                               (q + '/zookeeper_stats', b'count=0,bytes=0')):
                rep = c.call('create', zw.enc_create(path, data))
                if rep.err:
                    raise RuntimeError('%s: cannot create %s: %s' % (self.label, path, zw.ERR.get(rep.err)))
            self.quota_conn = c
        else:
            c.close_session()
        self.mntr_base = self.mntr()
        return [self.open_session(r) for r in range(self.k)]

    MNTR_KEYS = ('zk_approximate_data_size', 'zk_znode_count', 'zk_ephemerals_count')

    def mntr(self):
        """The figures of MNTR_KEYS from the server's mntr (a 4lw, one TCP connection)."""
        out = zw.four_letter(self.host, self.port, 'mntr', timeout=IO_TIMEOUT)
        vals = {}
        for line in out.splitlines():
            parts = line.split('\t')
            if len(parts) == 2 and parts[0] in self.MNTR_KEYS:
                vals[parts[0]] = int(parts[1])
        return vals

    def mntr_delta(self):
        """mntr's tree figures relative to those seen at setup (both servers
        start fresh, but only the changes this run made are compared)."""
        now = self.mntr()
        return {k: now.get(k, 0) - self.mntr_base.get(k, 0) for k in self.MNTR_KEYS}

    def quota_stats(self):
        """The data of BASE's quota stats znode (--quota)."""
        rep = self.quota_conn.call('getData', zw.enc_path_watch('/zookeeper/quota' + BASE + '/zookeeper_stats'))
        return rep.decoded.get('data') if rep.err == 0 else rep.err

    def teardown(self):
        qc = getattr(self, 'quota_conn', None)
        for c in self.conns + ([qc] if qc else []):
            if c is not None and c.sock is not None:
                try:
                    c.close_session(timeout=2)
                except (zw.ConnectionClosed, zw.ProtocolError, OSError):
                    c.disconnect()

    def rel_zxid(self, op, role):
        if op['rel'] == 'zero':
            return 0
        if op['rel'] == 'last':
            return self.conns[role].last_zxid
        known = [z for z in self.op_zxid if z]
        if not known:
            return 0
        return known[max(0, len(known) - op['back'])]

    # --- one operation
    def run(self, op):
        """Runs op, flushes every session, returns the normalised observation."""
        role = op['s']
        name = op['op']
        conn = self.conns[role]
        obs = {}
        op_zxid = None
        self.stats[name] += 1
        try:
            if name == 'mntr':
                obs['mntr'] = self.mntr_delta()
            elif name == 'badPassword':
                obs['bad'] = self.bad_password(role, op['ping'], op['drop'])
                conn = self.conns[role]
            elif name == 'auth':
                rep = conn.auth(op['scheme'], op['auth'])
                obs['reply'] = self.norm_reply(rep)
            elif name == 'closeSession':
                rep, obs['own'], obs['after'] = self.close_pipelined(conn, op.get('after', []))
                if rep is not None:
                    obs['reply'] = self.norm_reply(rep)
                    op_zxid = rep.zxid
                conn.disconnect()
                self.conns[role] = None
            elif name == 'probeConnect':
                c = zw.Conn(self.host, self.port, timeout_ms=op['timeout'], io_timeout=IO_TIMEOUT)
                resp = c.connect()
                obs['connect'] = self.norm_connect(resp)
                if resp['sessionId']:
                    rep = c.call('closeSession', b'')
                    obs['close'] = self.norm_reply(rep)
                    op_zxid = rep.zxid
                c.disconnect()
            elif name in ('setWatches', 'reconnect'):
                if name == 'reconnect':
                    obs['connect'] = self.resume_session(role)
                    conn = self.conns[role]
                rel = self.rel_zxid(op, role)
                if op['v2']:
                    rep = conn.set_watches(rel, op['data'], op['exist'], op['child'],
                                           op['persistent'], op['recursive'])
                else:
                    rep = conn.set_watches(rel, op['data'], op['exist'], op['child'])
                obs['reply'] = self.norm_reply(rep, strict_zxid=False)
            elif name == 'pipeline':
                xids = [conn.send(*encode(sub)) for sub in op['subs']]
                replies = [conn.wait_reply(x) for x in xids]
                obs['replies'] = [self.norm_reply(r) for r in replies]
                # replies on one session must come back in request order
                order = [r.xid for r in replies]
                obs['fifo'] = order == sorted(order)
                op_zxid = replies[-1].zxid
            else:
                rep = conn.call(*encode(op))
                obs['reply'] = self.norm_reply(rep)
                op_zxid = rep.zxid
        except zw.ConnectionClosed as e:
            obs['closed'] = 'closed' if 'closed' in str(e) else 'timeout'
        self.op_zxid.append(op_zxid)
        obs['events'] = self.flush()
        if self.conns[role] is None:
            obs['reopen'] = self.open_session(role)
        return obs

    def flush(self):
        """sync + ping on every live session; returns per-role event lists
        (events received since the last flush, in arrival order)."""
        out = {}
        live = []
        for role, c in enumerate(self.conns):
            if c is None:
                continue
            try:
                xs = c.send('sync', zw.enc_path('/'))
                c.pending[zw.XID_PING] = OP['ping']
                c._send_payload(zw.enc_request(zw.XID_PING, OP['ping']))
                live.append((role, c, xs))
            except OSError:
                live.append((role, c, None))
        for role, c, xs in live:
            status = None
            try:
                if xs is None:
                    raise zw.ConnectionClosed('closed on send')
                c.wait_reply(xs)
                c.wait_reply(zw.XID_PING)
            except zw.ConnectionClosed as e:
                status = 'CLOSED' if 'closed' in str(e) else 'TIMEOUT'
            evs = ['%s %d %s%s' % (zw.EVENT_NAME.get(e.type, e.type), e.state, e.path,
                                   '' if e.zxid == -1 else ' zxid=%s' % self.zx(e.zxid))
                   for e in c.take_events()]
            if status:
                evs.append(status)
                self.stats['connection_' + status.lower()] += 1
                # the connection is gone: resume the same session on a new one
                evs.append('resume %s' % json.dumps(self.resume_session(role), sort_keys=True))
            if evs:
                out['r%d' % role] = evs
                self.stats['events'] += sum(1 for e in evs if not e.startswith(('CLOSED', 'TIMEOUT', 'resume')))
        return out


# --------------------------------------------------------------- compare
def sort_events_for(op, obs):
    """Events caused by the deletion of several ephemerals (session close)
    come out of a hash set in Apache: compare them as a multiset."""
    if op['op'] in ('closeSession',):
        obs['events'] = {k: sorted(v) for k, v in obs['events'].items()}
    return obs


def show(v):
    return json.dumps(v, sort_keys=True, default=repr)


def describe(op):
    d = dict(op)
    for k, v in list(d.items()):
        if isinstance(v, bytes):
            d[k] = v[:16].hex() + ('...' if len(v) > 16 else '')
    return json.dumps(d, sort_keys=True, default=repr, ensure_ascii=True)


def first_diff(a, b, where=''):
    if type(a) != type(b):
        return where, a, b
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                return '%s.%s' % (where, k), a.get(k, '<absent>'), b.get(k, '<absent>')
            r = first_diff(a[k], b[k], '%s.%s' % (where, k))
            if r:
                return r
        return None
    if isinstance(a, list):
        for i in range(min(len(a), len(b))):
            r = first_diff(a[i], b[i], '%s[%d]' % (where, i))
            if r:
                return r
        if len(a) != len(b):
            return '%s(len)' % where, a, b
        return None
    return None if a == b else (where, a, b)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--a', required=True, help='HOST:PORT of server A (reference)')
    ap.add_argument('--b', required=True, help='HOST:PORT of server B (under test)')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--ops', type=int, default=2000)
    ap.add_argument('--sessions', type=int, default=3)
    ap.add_argument('--base', default='/diff', help='parent znode of the test (a fresh variant is chosen)')
    ap.add_argument('--history', type=int, default=15, help='ops of context shown on a difference')
    ap.add_argument('--verbose', action='store_true', help='print every op and observation')
    ap.add_argument('--quota', metavar='LIMITS',
                    help='set a quota on the base (zookeeper_limits text, e.g. '
                         '"count=5,bytes=-1=;byteHardLimit=300;countHardLimit=25") and compare its '
                         'stats znode after every op')
    args = ap.parse_args()
    global QUOTA_LIMITS
    QUOTA_LIMITS = args.quota

    sides = [Side('A', args.a, args.sessions), Side('B', args.b, args.sessions)]
    # Earlier runs may have left locked-down nodes behind (restrictive ACLs,
    # no super user): use the first base name that is fresh on both servers.
    base = args.base
    for n in range(1000):
        base = args.base if n == 0 else '%s%d' % (args.base, n)
        if not any(s.base_exists(base) for s in sides):
            break
    build_paths(base)
    gen = Gen(args.seed, args.sessions)
    t0 = time.time()
    history = collections.deque(maxlen=args.history)
    err_counts = collections.Counter()
    op_secs = collections.Counter()
    try:
        setups = [s.setup() for s in sides]
        if setups[0] != setups[1]:
            print('DIFFERENCE in session setup:\n  A: %s\n  B: %s' % (show(setups[0]), show(setups[1])))
            return 1
        for i in range(args.ops):
            op = gen.next_op(i)
            t_op = time.time()
            obs = [sort_events_for(op, s.run(op)) for s in sides]
            if QUOTA_LIMITS:
                for o, side in zip(obs, sides):
                    o['quota'] = side.quota_stats()
            op_secs[op['op']] += time.time() - t_op
            history.append((op, obs[0]))
            if args.verbose:
                print('#%d %s\n   -> %s' % (i, describe(op), show(obs[0])))
            d = first_diff(obs[0], obs[1])
            if d:
                print('DIFFERENCE at op #%d (seed %d): %s' % (i, args.seed, describe(op)))
                print('  field: %s\n  A: %s\n  B: %s' % (d[0], show(d[1]), show(d[2])))
                print('  full A: %s\n  full B: %s' % (show(obs[0]), show(obs[1])))
                print('history (oldest first; observation of A):')
                for hop, hobs in list(history)[:-1]:
                    print('  #%d %s\n      -> %s' % (hop['i'], describe(hop), show(hobs)))
                print('reproduce: %s --a %s --b %s --seed %d --ops %d --sessions %d --verbose' % (
                    sys.argv[0], args.a, args.b, args.seed, i + 1, args.sessions))
                return 1
            for key in ('reply',):
                if key in obs[0]:
                    err_counts[obs[0][key]['err']] += 1
            for r in obs[0].get('replies', []):
                err_counts[r['err']] += 1
    except (zw.ConnectionClosed, zw.ProtocolError, OSError) as e:
        print('FAILED: %s: %s' % (type(e).__name__, e))
        for hop, hobs in history:
            print('  #%d %s\n      -> %s' % (hop['i'], describe(hop), show(hobs)))
        return 2
    finally:
        # Close every session: a session left to expire would later commit a
        # closeSession txn in the middle of the next run on these servers.
        for s in sides:
            s.teardown()
    st = sides[0].stats
    print('identical: seed %d, %d ops, %d sessions, %.1fs' % (args.seed, args.ops, args.sessions,
                                                             time.time() - t0))
    print('  ops:    ' + ', '.join('%s=%d' % kv for kv in sorted(st.items())
                                   if not kv[0].startswith(('events', 'connection'))))
    print('  errors: ' + ', '.join('%s=%d' % kv for kv in err_counts.most_common()))
    print('  seconds: ' + ', '.join('%s=%.1f' % kv for kv in op_secs.most_common(6)))
    print('  events: %d, connections closed by server: %d' % (
        st['events'], st['connection_closed'] + st['connection_timeout']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
