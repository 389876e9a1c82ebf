#!/usr/bin/python3
"""zkwire.py - a small, self-contained ZooKeeper client-protocol codec and
synchronous (but pipelining) wire client, used by the differential test and
the vector capture tools.  Standard library only (struct + socket).

Layers:
  * Writer / Reader: jute primitives (big-endian int/long, bool byte,
    length-prefixed buffer/ustring with -1 = null, vectors).
  * enc_* functions: request records (bytes, without the RequestHeader).
  * decode_reply(op, err, body): response records as plain dicts/lists.
  * Conn: one TCP connection = one session.  send() pipelines requests,
    recv() returns replies and watch events in arrival order, call() sends
    one request and waits for its reply (events that arrive meanwhile are
    appended to Conn.events in order).

Everything is synchronous; every socket wait is bounded by a timeout.
"""

import socket
import struct
import time

# ---------------------------------------------------------------- constants
OP = {
    'notification': 0, 'create': 1, 'delete': 2, 'exists': 3, 'getData': 4,
    'setData': 5, 'getACL': 6, 'setACL': 7, 'getChildren': 8, 'sync': 9,
    'ping': 11, 'getChildren2': 12, 'check': 13, 'multi': 14, 'create2': 15,
    'reconfig': 16, 'checkWatches': 17, 'removeWatches': 18,
    'createContainer': 19, 'deleteContainer': 20, 'createTTL': 21,
    'multiRead': 22, 'auth': 100, 'setWatches': 101, 'sasl': 102,
    'getEphemerals': 103, 'getAllChildrenNumber': 104, 'setWatches2': 105,
    'addWatch': 106, 'whoAmI': 107, 'createSession': -10, 'closeSession': -11,
    'error': -1,
}
OP_NAME = {v: k for k, v in OP.items()}

XID_NOTIFICATION = -1
XID_PING = -2
XID_AUTH = -4
XID_SETWATCHES = -8

ERR = {
    0: 'OK', -1: 'SYSTEMERROR', -2: 'RUNTIMEINCONSISTENCY',
    -3: 'DATAINCONSISTENCY', -4: 'CONNECTIONLOSS', -5: 'MARSHALLINGERROR',
    -6: 'UNIMPLEMENTED', -7: 'OPERATIONTIMEOUT', -8: 'BADARGUMENTS',
    -12: 'UNKNOWNSESSION', -13: 'NEWCONFIGNOQUORUM', -14: 'RECONFIGINPROGRESS',
    -100: 'APIERROR', -101: 'NONODE', -102: 'NOAUTH', -103: 'BADVERSION',
    -108: 'NOCHILDRENFOREPHEMERALS', -110: 'NODEEXISTS', -111: 'NOTEMPTY',
    -112: 'SESSIONEXPIRED', -113: 'INVALIDCALLBACK', -114: 'INVALIDACL',
    -115: 'AUTHFAILED', -116: 'CLOSING', -117: 'NOTHING',
    -118: 'SESSIONMOVED', -119: 'NOTREADONLY',
    -120: 'EPHEMERALONLOCALSESSION', -121: 'NOWATCHER',
    -123: 'RECONFIGDISABLED', -124: 'SESSIONCLOSEDREQUIRESASLAUTH',
    -127: 'THROTTLEDOP',
}

EVENT_NAME = {-1: 'None', 1: 'NodeCreated', 2: 'NodeDeleted',
              3: 'NodeDataChanged', 4: 'NodeChildrenChanged',
              5: 'DataWatchRemoved', 6: 'ChildWatchRemoved',
              7: 'PersistentWatchRemoved'}

# create flags (CreateMode)
PERSISTENT, EPHEMERAL, PERSISTENT_SEQUENTIAL, EPHEMERAL_SEQUENTIAL = 0, 1, 2, 3
CONTAINER, PERSISTENT_WITH_TTL, PERSISTENT_SEQUENTIAL_WITH_TTL = 4, 5, 6

PERM_READ, PERM_WRITE, PERM_CREATE, PERM_DELETE, PERM_ADMIN = 1, 2, 4, 8, 16
PERM_ALL = 31
OPEN_ACL_UNSAFE = [(PERM_ALL, 'world', 'anyone')]

WATCHER_CHILDREN, WATCHER_DATA, WATCHER_ANY = 1, 2, 3
ADDWATCH_PERSISTENT, ADDWATCH_PERSISTENT_RECURSIVE = 0, 1

STAT_FIELDS = ('czxid', 'mzxid', 'ctime', 'mtime', 'version', 'cversion',
               'aversion', 'ephemeralOwner', 'dataLength', 'numChildren',
               'pzxid')


class ProtocolError(Exception):
    """Malformed or unexpected bytes from the server."""


class ConnectionClosed(Exception):
    """The server closed the connection (or it timed out)."""


# ------------------------------------------------------------ jute writer
class Writer:
    """Appends jute-encoded values to a bytearray (self.buf)."""

    def __init__(self):
        self.buf = bytearray()

    def int(self, v):
        self.buf += struct.pack('>i', v)
        return self

    def long(self, v):
        self.buf += struct.pack('>q', v)
        return self

    def bool(self, v):
        self.buf += b'\x01' if v else b'\x00'
        return self

    def buffer(self, b):
        if b is None:
            return self.int(-1)
        if isinstance(b, str):
            b = b.encode('utf-8', 'surrogatepass')
        self.int(len(b))
        self.buf += b
        return self

    string = buffer

    def strings(self, items):
        if items is None:
            return self.int(-1)
        self.int(len(items))
        for s in items:
            self.string(s)
        return self

    def acls(self, acl):
        if acl is None:
            return self.int(-1)
        self.int(len(acl))
        for perms, scheme, ident in acl:
            self.int(perms).string(scheme).string(ident)
        return self

    def raw(self, b):
        self.buf += b
        return self

    def bytes(self):
        return bytes(self.buf)


# ------------------------------------------------------------ jute reader
class Reader:
    """Reads jute values from bytes; raises ProtocolError when truncated."""

    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def _take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ProtocolError('truncated at %d (+%d of %d)' % (self.pos, n, len(self.data)))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def remaining(self):
        return len(self.data) - self.pos

    def int(self):
        return struct.unpack('>i', self._take(4))[0]

    def long(self):
        return struct.unpack('>q', self._take(8))[0]

    def bool(self):
        return self._take(1) != b'\x00'

    def buffer(self):
        n = self.int()
        if n == -1:
            return None
        if n < -1:
            raise ProtocolError('negative length %d' % n)
        return self._take(n)

    def string(self):
        b = self.buffer()
        return None if b is None else b.decode('utf-8', 'surrogateescape')

    def vector(self, elem):
        n = self.int()
        if n == -1:
            return None
        if n < -1 or n > self.remaining():
            raise ProtocolError('bad vector count %d' % n)
        return [elem(self) for _ in range(n)]

    def strings(self):
        return self.vector(Reader.string)

    def stat(self):
        vals = (self.long(), self.long(), self.long(), self.long(), self.int(),
                self.int(), self.int(), self.long(), self.int(), self.int(),
                self.long())
        return dict(zip(STAT_FIELDS, vals))

    def acl(self):
        return (self.int(), self.string(), self.string())

    def acls(self):
        return self.vector(Reader.acl)

    def rest(self):
        return self._take(self.remaining())


# -------------------------------------------------------- request encoders
def enc_connect(timeout_ms=10000, session_id=0, passwd=b'\x00' * 16,
                last_zxid=0, read_only=False, protocol_version=0):
    """ConnectRequest (with the trailing readOnly boolean, as 3.4+ clients)."""
    return (Writer().int(protocol_version).long(last_zxid).int(timeout_ms)
            .long(session_id).buffer(passwd).bool(read_only).bytes())


def enc_create(path, data=b'', acl=None, flags=0, ttl=None):
    """CreateRequest, or CreateTTLRequest when ttl is not None."""
    w = Writer().string(path).buffer(data).acls(OPEN_ACL_UNSAFE if acl is None else acl).int(flags)
    if ttl is not None:
        w.long(ttl)
    return w.bytes()


def enc_path_version(path, version=-1):
    """DeleteRequest / CheckVersionRequest."""
    return Writer().string(path).int(version).bytes()


def enc_path_watch(path, watch=False):
    """ExistsRequest / GetDataRequest / GetChildren(2)Request."""
    return Writer().string(path).bool(watch).bytes()


def enc_path(path):
    """SyncRequest / GetACLRequest / GetAllChildrenNumberRequest / GetEphemeralsRequest."""
    return Writer().string(path).bytes()


def enc_set_data(path, data, version=-1):
    return Writer().string(path).buffer(data).int(version).bytes()


def enc_set_acl(path, acl, version=-1):
    return Writer().string(path).acls(acl).int(version).bytes()


def enc_path_type(path, typ):
    """CheckWatchesRequest / RemoveWatchesRequest (type) / AddWatchRequest (mode)."""
    return Writer().string(path).int(typ).bytes()


def enc_set_watches(relative_zxid, data=(), exist=(), child=(),
                    persistent=None, recursive=None):
    """SetWatches; SetWatches2 when persistent or recursive is given."""
    w = Writer().long(relative_zxid).strings(list(data)).strings(list(exist)).strings(list(child))
    if persistent is not None or recursive is not None:
        w.strings(list(persistent or ())).strings(list(recursive or ()))
    return w.bytes()


def enc_auth(scheme, auth, typ=0):
    return Writer().int(typ).string(scheme).buffer(auth).bytes()


def enc_multi(ops):
    """MultiOperationRecord: ops is a list of (opcode, encoded-body)."""
    w = Writer()
    for op, body in ops:
        w.int(op).bool(False).int(-1).raw(body)
    w.int(-1).bool(True).int(-1)
    return w.bytes()


def enc_request(xid, op, body=b''):
    """RequestHeader + body (no length prefix)."""
    return struct.pack('>ii', xid, op) + body


def frame(payload):
    """Prefix a packet with its 4-byte length."""
    return struct.pack('>i', len(payload)) + payload


# -------------------------------------------------------- reply decoders
def decode_connect_response(payload):
    r = Reader(payload)
    d = {'protocolVersion': r.int(), 'timeOut': r.int(), 'sessionId': r.long(),
         'passwd': r.buffer()}
    d['readOnly'] = r.bool() if r.remaining() else None
    if r.remaining():
        raise ProtocolError('trailing bytes in ConnectResponse')
    return d


def decode_connect_request(payload):
    r = Reader(payload)
    d = {'protocolVersion': r.int(), 'lastZxidSeen': r.long(), 'timeOut': r.int(),
         'sessionId': r.long(), 'passwd': r.buffer()}
    d['readOnly'] = r.bool() if r.remaining() else None
    return d


def _multi_results(r, read_mode):
    results = []
    while True:
        typ, done, err = r.int(), r.bool(), r.int()
        if done:
            break
        if typ == OP['error']:
            results.append({'op': 'error', 'err': r.int()})
        elif typ == OP['create']:
            results.append({'op': 'create', 'path': r.string()})
        elif typ in (OP['create2'], OP['createTTL'], OP['createContainer']):
            results.append({'op': OP_NAME[typ], 'path': r.string(), 'stat': r.stat()})
        elif typ in (OP['delete'], OP['deleteContainer'], OP['check']):
            results.append({'op': OP_NAME[typ]})
        elif typ == OP['setData']:
            results.append({'op': 'setData', 'stat': r.stat()})
        elif typ == OP['getData'] and read_mode:
            results.append({'op': 'getData', 'data': r.buffer(), 'stat': r.stat()})
        elif typ == OP['getChildren'] and read_mode:
            results.append({'op': 'getChildren', 'children': r.strings()})
        else:
            raise ProtocolError('unknown multi result type %d' % typ)
        if err != 0 and typ != OP['error']:
            results[-1]['hdr_err'] = err
    return results


def decode_reply(op, err, body):
    """Decode a reply body for request opcode op.  Error replies (err != 0)
    return {'trailing': body-bytes} so callers can compare what the server
    appended (Apache sometimes sends an empty record after an error)."""
    if isinstance(op, str):
        op = OP[op]
    r = Reader(body)
    if err != 0 and op not in (OP['multi'],):
        return {'trailing': body}
    if op == OP['multi'] and err != 0 and len(body) == 0:
        return {'trailing': body}
    if op == OP['create']:
        d = {'path': r.string()}
    elif op in (OP['create2'], OP['createTTL'], OP['createContainer']):
        d = {'path': r.string(), 'stat': r.stat()}
    elif op in (OP['exists'], OP['setData'], OP['setACL'], OP['check']):
        d = {'stat': r.stat()}
    elif op == OP['getData']:
        d = {'data': r.buffer(), 'stat': r.stat()}
    elif op == OP['getACL']:
        d = {'acl': r.acls(), 'stat': r.stat()}
    elif op == OP['getChildren']:
        d = {'children': r.strings()}
    elif op == OP['getChildren2']:
        d = {'children': r.strings(), 'stat': r.stat()}
    elif op == OP['sync']:
        d = {'path': r.string()}
    elif op == OP['getEphemerals']:
        d = {'ephemerals': r.strings()}
    elif op == OP['getAllChildrenNumber']:
        d = {'number': r.int()}
    elif op == OP['whoAmI']:
        d = {'clientInfo': r.vector(lambda rr: (rr.string(), rr.string()))}
    elif op == OP['addWatch']:
        # Apache sends ErrorResponse(0) for addWatch.
        d = {'err': r.int()} if r.remaining() >= 4 else {}
    elif op in (OP['multi'], OP['multiRead']):
        d = {'results': _multi_results(r, op == OP['multiRead'])}
    else:
        d = {}
    if r.remaining():
        d['trailing'] = r.rest()
    return d


def decode_request(payload):
    """Decode a client->server packet (header + record) into a dict; used by
    the capture tools for README descriptions."""
    r = Reader(payload)
    xid, op = r.int(), r.int()
    d = {'xid': xid, 'op': OP_NAME.get(op, op)}
    try:
        if op in (OP['create'], OP['create2'], OP['createContainer'], OP['createTTL']):
            d.update(path=r.string(), data=r.buffer(), acl=r.acls(), flags=r.int())
            if op == OP['createTTL']:
                d['ttl'] = r.long()
        elif op in (OP['delete'], OP['check']):
            d.update(path=r.string(), version=r.int())
        elif op in (OP['exists'], OP['getData'], OP['getChildren'], OP['getChildren2']):
            d.update(path=r.string(), watch=r.bool())
        elif op == OP['setData']:
            d.update(path=r.string(), data=r.buffer(), version=r.int())
        elif op in (OP['sync'], OP['getACL'], OP['getEphemerals'], OP['getAllChildrenNumber']):
            d.update(path=r.string())
        elif op == OP['auth']:
            d.update(type=r.int(), scheme=r.string(), auth=r.buffer())
        elif op in (OP['setWatches'], OP['setWatches2']):
            d.update(relativeZxid=r.long(), data=r.strings(), exist=r.strings(), child=r.strings())
            if op == OP['setWatches2']:
                d.update(persistent=r.strings(), recursive=r.strings())
        elif op in (OP['checkWatches'], OP['removeWatches'], OP['addWatch']):
            d.update(path=r.string(), type=r.int())
    except ProtocolError as e:
        d['decode_error'] = str(e)
    return d


# --------------------------------------------------------------- packets
class Reply:
    """A reply to one request: xid, zxid, err, op (request opcode), body
    (raw bytes) and decoded (dict from decode_reply)."""

    __slots__ = ('xid', 'zxid', 'err', 'op', 'body', 'decoded')

    def __init__(self, xid, zxid, err, op, body):
        self.xid, self.zxid, self.err, self.op, self.body = xid, zxid, err, op, body
        self.decoded = decode_reply(op, err, body) if op is not None else None

    def __repr__(self):
        return 'Reply(xid=%d op=%s err=%s zxid=%#x %r)' % (
            self.xid, OP_NAME.get(self.op, self.op), ERR.get(self.err, self.err),
            self.zxid, self.decoded)


class Event:
    """A watch notification (xid -1): type, state, path, zxid of the header."""

    __slots__ = ('type', 'state', 'path', 'zxid')

    def __init__(self, typ, state, path, zxid):
        self.type, self.state, self.path, self.zxid = typ, state, path, zxid

    def key(self):
        return (self.type, self.state, self.path)

    def __repr__(self):
        return 'Event(%s state=%d %s)' % (EVENT_NAME.get(self.type, self.type), self.state, self.path)


# ------------------------------------------------------------ connection
class Conn:
    """One session over one TCP connection.

    conn = Conn(host, port); conn.connect()            # new session
    conn2 = Conn(host, port, session_id=..., passwd=...) # resume
    rep = conn.call('create', enc_create('/a', b'x'))
    conn.events  -> watch events received so far, in arrival order
    """

    def __init__(self, host, port, timeout_ms=10000, session_id=0,
                 passwd=b'\x00' * 16, last_zxid=0, io_timeout=10.0):
        self.host, self.port = host, port
        self.timeout_ms = timeout_ms
        self.session_id = session_id
        self.passwd = passwd
        self.last_zxid = last_zxid
        self.io_timeout = io_timeout
        self.sock = None
        self.rbuf = bytearray()
        self.next_xid = 1
        self.pending = {}       # xid -> opcode, for requests awaiting replies
        self.events = []        # Event, in arrival order (not yet consumed)
        self.replies = {}       # xid -> Reply that arrived while waiting for another
        self.connect_response = None
        self.raw_log = None     # optional list: ('in'|'out', payload bytes)

    # --- framing
    def _send_payload(self, payload):
        if self.raw_log is not None:
            self.raw_log.append(('out', payload))
        self.sock.sendall(frame(payload))

    def _recv_exact(self, n, deadline):
        while len(self.rbuf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConnectionClosed('timeout waiting for %d bytes' % n)
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise ConnectionClosed('timeout waiting for data')
            except OSError as e:
                raise ConnectionClosed(str(e))
            if not chunk:
                raise ConnectionClosed('connection closed by server')
            self.rbuf += chunk
        out = bytes(self.rbuf[:n])
        del self.rbuf[:n]
        return out

    def recv_payload(self, timeout=None):
        deadline = time.monotonic() + (self.io_timeout if timeout is None else timeout)
        n = struct.unpack('>i', self._recv_exact(4, deadline))[0]
        if n < 0 or n > 64 * 1024 * 1024:
            raise ProtocolError('bad frame length %d' % n)
        payload = self._recv_exact(n, deadline)
        if self.raw_log is not None:
            self.raw_log.append(('in', payload))
        return payload

    # --- session
    def connect(self, read_only=False):
        """Open the socket and do the ConnectRequest/Response handshake.
        Returns the decoded ConnectResponse; sessionId 0 means refused."""
        self.sock = socket.create_connection((self.host, self.port), timeout=self.io_timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._send_payload(enc_connect(self.timeout_ms, self.session_id, self.passwd,
                                       self.last_zxid, read_only))
        resp = decode_connect_response(self.recv_payload())
        self.connect_response = resp
        if resp['sessionId'] != 0:
            self.session_id = resp['sessionId']
            self.passwd = resp['passwd']
        return resp

    def disconnect(self):
        """Drop the TCP connection without closing the session."""
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None
                self.rbuf = bytearray()
                self.pending.clear()

    # --- requests
    def send(self, op, body=b'', xid=None):
        """Queue a request without waiting; returns its xid."""
        if isinstance(op, str):
            op = OP[op]
        if xid is None:
            xid = self.next_xid
            self.next_xid += 1
        self.pending[xid] = op
        self._send_payload(enc_request(xid, op, body))
        return xid

    def recv(self, timeout=None):
        """Receive the next packet: a Reply or an Event (events are also
        appended to self.events)."""
        payload = self.recv_payload(timeout)
        r = Reader(payload)
        xid, zxid, err = r.int(), r.long(), r.int()
        body = r.rest()
        if zxid > 0:
            self.last_zxid = max(self.last_zxid, zxid)
        if xid == XID_NOTIFICATION:
            er = Reader(body)
            ev = Event(er.int(), er.int(), er.string(), zxid)
            self.events.append(ev)
            return ev
        op = self.pending.pop(xid, None)
        if op is None and xid not in (XID_PING, XID_AUTH, XID_SETWATCHES):
            raise ProtocolError('reply for unknown xid %d' % xid)
        return Reply(xid, zxid, err, op, body)

    def wait_reply(self, xid, timeout=None):
        """Receive until the reply with this xid arrives (others are kept)."""
        if xid in self.replies:
            return self.replies.pop(xid)
        deadline = time.monotonic() + (self.io_timeout if timeout is None else timeout)
        while True:
            pkt = self.recv(max(0.001, deadline - time.monotonic()))
            if isinstance(pkt, Reply):
                if pkt.xid == xid:
                    return pkt
                self.replies[pkt.xid] = pkt

    def call(self, op, body=b'', xid=None, timeout=None):
        """Send one request and wait for its reply."""
        if isinstance(op, str):
            op = OP[op]
        if xid in (XID_PING, XID_AUTH, XID_SETWATCHES):
            self.pending[xid] = op
            self._send_payload(enc_request(xid, op, body))
        else:
            xid = self.send(op, body, xid)
        return self.wait_reply(xid, timeout)

    def ping(self, timeout=None):
        return self.call(OP['ping'], b'', xid=XID_PING, timeout=timeout)

    def auth(self, scheme, auth, timeout=None):
        return self.call(OP['auth'], enc_auth(scheme, auth), xid=XID_AUTH, timeout=timeout)

    def set_watches(self, relative_zxid, data=(), exist=(), child=(),
                    persistent=None, recursive=None, timeout=None):
        v2 = persistent is not None or recursive is not None
        op = OP['setWatches2'] if v2 else OP['setWatches']
        return self.call(op, enc_set_watches(relative_zxid, data, exist, child,
                                             persistent, recursive),
                         xid=XID_SETWATCHES, timeout=timeout)

    def close_session(self, timeout=None):
        """closeSession request; returns the reply (then the server closes)."""
        rep = self.call(OP['closeSession'], b'', timeout=timeout)
        self.disconnect()
        return rep

    def take_events(self):
        ev, self.events = self.events, []
        return ev


def four_letter(host, port, word, timeout=5.0):
    """Sends a four-letter word on a fresh connection and returns the whole
    answer (the server closes the connection after it); bounded by timeout."""
    deadline = time.time() + timeout
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(word.encode('ascii'))
        chunks = []
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise ProtocolError('%s: no end of answer within %.1fs' % (word, timeout))
            s.settimeout(left)
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    return b''.join(chunks).decode('utf-8', 'replace')


def parse_hostport(s):
    host, _, port = s.rpartition(':')
    return host or '127.0.0.1', int(port)


if __name__ == '__main__':
    import sys
    h, p = parse_hostport(sys.argv[1] if len(sys.argv) > 1 else '127.0.0.1:2181')
    c = Conn(h, p)
    print(c.connect())
    print(c.call('getChildren', enc_path_watch('/')))
    print(c.call('exists', enc_path_watch('/zookeeper', True)))
    print(c.ping())
    print(c.close_session())
