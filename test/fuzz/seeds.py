#!/usr/bin/python3
"""seeds.py - builds seed inputs for the fuzz harnesses from what real clients
and servers sent: the captured frames of test/vectors, capture_proxy.py
recordings of real kazoo / zkCli.sh / cli_mt sessions (against zkserver and
Apache), and the malformed-frame catalogue of malformed_diff.py.

    seeds.py OUT_DIR [--capture DIR]...

Writes OUT_DIR/<harness>/<name> for client_frames, client_lib, fourlw and
peer (see each harness's input format at the top of test/fuzz/fuzz_*.c).
The committed corpus under test/fuzz/corpus/ is these seeds merged
(libFuzzer -merge=1) with what fuzzing found.
"""

import argparse
import hashlib
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'test', 'integration'))
import zkwire as zw  # noqa: E402
import malformed_diff as md  # noqa: E402

VECTORS = os.path.join(ROOT, 'test', 'vectors')

# client_frames record tags (tag >> 4 is the action, tag & 3 the slot)
FRAME, RAW, DURABLE, CLOSE, EXPIRE, FORWARD, INTERNAL = 0, 1, 2, 3, 4, 5, 6


def rec(action, slot, data=b''):
    return bytes([(action << 4) | slot]) + struct.pack('>H', len(data)) + data


def vec(name):
    with open(os.path.join(VECTORS, name), 'rb') as f:
        return f.read()


def write(out, harness, name, data):
    d = os.path.join(out, harness)
    os.makedirs(d, exist_ok=True)
    if name is None:
        name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


CONNECT = zw.enc_connect(30000)


def session(frames, slot=0, durable_each=True):
    out = rec(FRAME, slot, CONNECT) + rec(DURABLE, 0)
    for f in frames:
        out += rec(FRAME, slot, f)
        if durable_each:
            out += rec(DURABLE, 0)
    return out


def client_frames(out):
    kazoo = ['kazoo_auth_req.bin', 'kazoo_create_req.bin', 'kazoo_create2_req.bin',
             'kazoo_getdata_req.bin', 'kazoo_setdata_req.bin', 'kazoo_getchildren2_req.bin',
             'kazoo_exists_watch_req.bin', 'kazoo_create_watched_req.bin', 'kazoo_multi_req.bin',
             'kazoo_ping_req.bin', 'kazoo_close_req.bin']
    write(out, 'client_frames', 'kazoo-session', session([vec(v) for v in kazoo]))
    write(out, 'client_frames', 'kazoo-pipelined', session([vec(v) for v in kazoo], durable_each=False))
    climt = ['climt_create_req.bin', 'climt_getchildren2_watch_req.bin', 'climt_setwatches_req.bin',
             'climt_auth_badscheme_req.bin']
    write(out, 'client_frames', 'climt-session',
          rec(FRAME, 1, vec('climt_connect_req.bin')) + rec(DURABLE, 0) +
          b''.join(rec(FRAME, 1, vec(v)) + rec(DURABLE, 0) for v in climt))
    write(out, 'client_frames', 'zkcli-session',
          rec(FRAME, 2, vec('zkcli_connect_req.bin')) + rec(DURABLE, 0) +
          rec(FRAME, 2, vec('zkcli_addwatch_req.bin')) + rec(DURABLE, 0))
    # two sessions: watches on one, changes from the other, then expiry
    a = [zw.enc_request(1, zw.OP['create'], zw.enc_create('/w', b'x', flags=zw.EPHEMERAL)),
         zw.enc_request(2, zw.OP['getData'], zw.enc_path_watch('/w', True)),
         zw.enc_request(3, zw.OP['addWatch'], zw.enc_path_type('/', 1)),
         zw.enc_request(4, zw.OP['createContainer'], zw.enc_create('/c', b'', flags=4)),
         zw.enc_request(5, zw.OP['createTTL'], zw.enc_create('/t', b'', flags=5, ttl=1))]
    b = [zw.enc_request(1, zw.OP['setData'], zw.enc_set_data('/w', b'y')),
         zw.enc_request(2, zw.OP['create'], zw.enc_create('/c/k', b'')),
         zw.enc_request(3, zw.OP['delete'], zw.enc_path_version('/c/k')),
         zw.enc_request(4, zw.OP['multi'], zw.enc_multi([
             (zw.OP['create'], zw.enc_create('/m', b'')),
             (zw.OP['check'], zw.enc_path_version('/m', 0)),
             (zw.OP['setData'], zw.enc_set_data('/m', b'z')),
             (zw.OP['delete'], zw.enc_path_version('/m'))]))]
    data = session(a, 0) + session(b, 1) + rec(EXPIRE, 0) + rec(INTERNAL, 0, b'/c')
    data += rec(FORWARD, 1, struct.pack('>i', zw.OP['create']) + zw.enc_create('/fw', b''))
    write(out, 'client_frames', 'two-sessions', data)
    # a quota as zkCli setquota makes it, writes past its limits (the
    # harness runs with enforceQuota=true), a broken stats znode, delquota
    q = '/zookeeper/quota/q'
    lim = b'count=1,bytes=-1=;byteHardLimit=6;countHardLimit=3'
    ops = [(zw.OP['create'], zw.enc_create('/q', b'ab')), (zw.OP['create'], zw.enc_create(q, b'')),
           (zw.OP['create'], zw.enc_create(q + '/zookeeper_limits', lim)),
           (zw.OP['create'], zw.enc_create(q + '/zookeeper_stats', b'count=0,bytes=0')),
           (zw.OP['create'], zw.enc_create('/q/a', b'1234')),
           (zw.OP['create'], zw.enc_create('/q/b', b'x', flags=zw.EPHEMERAL)),
           (zw.OP['setData'], zw.enc_set_data('/q/a', b'123456789')),
           (zw.OP['create'], zw.enc_create('/q/c', b'')),
           (zw.OP['multi'], zw.enc_multi([(zw.OP['create'], zw.enc_create('/q/m', b'')),
                                          (zw.OP['setData'], zw.enc_set_data('/q', b''))])),
           (zw.OP['setData'], zw.enc_set_data(q + '/zookeeper_stats', b'junk')),
           (zw.OP['create'], zw.enc_create('/q/d', b'')),
           (zw.OP['setData'], zw.enc_set_data(q + '/zookeeper_limits', b'count=')),
           (zw.OP['create'], zw.enc_create('/q/e', b'')),
           (zw.OP['delete'], zw.enc_path_version(q + '/zookeeper_limits')),
           (zw.OP['create'], zw.enc_create('/q/f', b''))]
    write(out, 'client_frames', 'quota-session',
          session([zw.enc_request(i + 1, op, body) for i, (op, body) in enumerate(ops)]))
    # every case of the malformed-frame catalogue, after a ConnectRequest
    for case in md.catalogue():
        frames = [struct.pack('>ii', 900 + i, op) + body for i, (op, body) in enumerate(case.pre)]
        frames.append(case.body if case.op is None else struct.pack('>ii', 1000, case.op) + case.body)
        write(out, 'client_frames', 'catalogue-' + case.name.replace('/', '_').replace(' ', '_'),
              session(frames))
    for name, payload, extra in md.connect_cases():
        write(out, 'client_frames', 'catalogue-' + name.replace('/', '_').replace(' ', '_'),
              rec(FRAME, 0, payload) + rec(RAW, 0, extra) + rec(DURABLE, 0))
    for word in ('stat', 'srvr', 'cons', 'dump', 'wchc', 'wchp', 'wchs', 'mntr', 'conf', 'envi',
                 'ruok', 'crst', 'srst', 'isro', 'dirs', 'gtmk'):
        write(out, 'client_frames', '4lw-' + word, rec(RAW, 3, word.encode()))


def fourlw(out):
    for word in ('stat', 'srvr', 'cons', 'dump', 'wchc', 'wchp', 'wchs', 'mntr', 'conf', 'envi',
                 'ruok', 'crst', 'srst', 'isro', 'dirs', 'gtmk', 'stmk', 'hash'):
        write(out, 'fourlw', word, b'\x00\x04' + word.encode())
        write(out, 'fourlw', word + '-split', b'\x01\x02' + word.encode())
    write(out, 'fourlw', 'stmk-mask', b'\x00\x0cstmk' + struct.pack('>q', 0x3f2))
    write(out, 'fourlw', 'connect', b'\x00\x00' + zw.frame(CONNECT))


def capture(out, cap_dir):
    """A capture_proxy.py recording: c2s frames -> client_frames (slot =
    connection), s2c frames -> client_lib (reply streams)."""
    with open(os.path.join(cap_dir, 'index.jsonl')) as f:
        index = [json.loads(line) for line in f if line.strip()]
    frames_in, per_conn_s2c = b'', {}
    tag = os.path.basename(os.path.normpath(cap_dir))
    n = 0
    for e in index:
        if 'file' not in e:
            continue
        with open(os.path.join(cap_dir, e['file']), 'rb') as f:
            payload = f.read()
        conn = e['conn']
        if len(payload) > 60000:
            continue   # a chunk holds at most 64 KiB
        if e['dir'] == 'c2s':
            frames_in += rec(FRAME, conn % 4, payload)
            n += 1
            if n % 3 == 0:
                frames_in += rec(DURABLE, 0)
            if len(frames_in) > 60000:
                write(out, 'client_frames', None, frames_in + rec(DURABLE, 0))
                frames_in = b''
        else:
            per_conn_s2c.setdefault(conn, []).append(payload)
    if frames_in:
        write(out, 'client_frames', None, frames_in + rec(DURABLE, 0))
    for conn, frames in per_conn_s2c.items():
        stream = b''.join(zw.frame(p) for p in frames)
        for i in range(0, len(stream), 30000):
            write(out, 'client_lib', None, client_lib_input(stream[i:i + 30000]))
    print('%s: %d c2s frames, %d connections' % (tag, n, len(per_conn_s2c)))


def cl_rec(tag, data=b''):
    return bytes([tag]) + struct.pack('>H', len(data)) + data


# fuzz_client_lib's API call bytes (see api_call there): low 5 bits the
# call, bits 5-6 the path ("/", "/a", "/a/b", "/kz"), bit 7 watch.
CL_CREATE, CL_DELETE, CL_EXISTS, CL_GET, CL_SET, CL_CHILDREN2, CL_SYNC, CL_MULTI = 0, 4, 5, 6, 7, 11, 12, 13
KZ = 3 << 5


def client_lib_input(stream, calls=b''):
    """fuzz_client_lib: options byte, the ConnectResponse, API calls, then
    the rest of the server's stream in pieces."""
    out = b'\x00'
    frames = []
    i = 0
    while len(stream) - i >= 4:
        n = struct.unpack('>i', stream[i:i + 4])[0]
        if n < 0 or len(stream) - i - 4 < n:
            break
        frames.append(stream[i:i + 4 + n])
        i += 4 + n
    if not frames:
        return out + cl_rec(0, stream)
    out += cl_rec(0, frames[0]) + cl_rec(1, calls or bytes(range(19)))
    for f in frames[1:]:
        out += cl_rec(0, f)
    return out


def client_lib(out):
    # the replies Apache sent, in the order of the kazoo session; the calls
    # match that session's requests (xids 1..)
    resp = ['create_resp.bin', 'create2_resp.bin', 'getdata_resp.bin', 'setdata_resp.bin',
            'getchildren2_resp.bin', 'exists_nonode_resp.bin', 'watch_event.bin',
            'create_watched_resp.bin', 'multi_fail_resp.bin', 'ping_resp.bin', 'close_resp.bin']
    calls = bytes([CL_CREATE | KZ, CL_CREATE | KZ, CL_GET | KZ, CL_SET | KZ, CL_CHILDREN2 | KZ,
                   CL_EXISTS | KZ | 0x80, CL_CREATE | KZ, CL_MULTI | KZ])
    write(out, 'client_lib', 'kazoo-replies',
          client_lib_input(zw.frame(vec('connect_resp.bin')) +
                           b''.join(zw.frame(vec(v)) for v in resp), calls))
    write(out, 'client_lib', 'climt-replies',
          client_lib_input(b''.join(zw.frame(vec(v)) for v in
                                    ('reconnect_resp.bin', 'setwatches_resp.bin',
                                     'watch_event_climt.bin', 'auth_failed_resp.bin'))))
    # multiRead (call 19, path "/a", two reads: getData /a, getChildren /):
    # one read answered, one failed, then the end marker
    st = struct.pack('>qqqqiiiqiiq', 5, 6, 1700000000000, 1700000000001, 1, 2, 3, 0, 1, 0, 6)
    hdr = lambda t, done, err: struct.pack('>iBi', t, done, err)
    ok_body = (hdr(4, 0, 0) + struct.pack('>i', 1) + b'x' + st +
               hdr(8, 0, 0) + struct.pack('>ii', 2, 1) + b'a' + struct.pack('>i', 2) + b'kz' +
               hdr(-1, 1, -1))
    err_body = hdr(-1, 0, -101) + struct.pack('>i', -101) + hdr(8, 0, 0) + struct.pack('>i', 0) + hdr(-1, 1, -1)
    for name, body in (('multiread', ok_body), ('multiread-error', err_body)):
        write(out, 'client_lib', name, b'\x00' + cl_rec(0, zw.frame(vec('connect_resp.bin'))) +
              cl_rec(1, bytes([19 | 32])) + cl_rec(0, zw.frame(struct.pack('>iqi', 1, 5, 0) + body)) +
              cl_rec(2))
    write(out, 'client_lib', 'digest-chroot', b'\x03' + cl_rec(0, zw.frame(vec('connect_resp.bin'))) +
          cl_rec(0, zw.frame(vec('auth_resp.bin'))) + cl_rec(1, bytes(range(19))) +
          cl_rec(0, zw.frame(vec('watch_event.bin'))))


# ---------------------------------------------------------------- peer
ZAB = dict(NOTIFICATION=1, FOLLOWERINFO=2, OBSERVERINFO=3, LEADERINFO=4, ACKEPOCH=5, DIFF=6,
           TRUNC=7, SNAP=8, PROPOSAL=9, COMMIT=10, INFORM=11, NEWLEADER=12, ACK=13, UPTODATE=14,
           PING=15)
LOOKING, FOLLOWING, LEADING, OBSERVING = 0, 1, 2, 3


def zab(typ, epoch=0, zxid=0, session=0, leader=-1, election_epoch=0, state=0, fresh=False,
        acked=0, data=None):
    """A QMSG_ZAB frame (server/qmsg.h + server/zab_wire.c)."""
    w = struct.pack('>iiiiqqiqi', 1, 1, ZAB[typ], epoch, zxid, session, leader, election_epoch,
                    state)
    w += (b'\x01' if fresh else b'\x00') + struct.pack('>i', acked)
    w += struct.pack('>i', -1) if data is None else struct.pack('>i', len(data)) + data
    return w


def peer_rec(action, sid, data=b''):
    return bytes([(sid << 3) | action]) + struct.pack('>H', len(data)) + data


def txn_create(zxid, path):
    """TxnHeader + CreateTxn, as the pipeline encodes it."""
    w = zw.Writer().long(0x100).int(1).long(zxid).long(1000).int(zw.OP['create'])
    w.string(path).buffer(b'v').acls(zw.OPEN_ACL_UNSAFE).bool(False).int(1)
    return w.bytes()


def z(e, n):
    return e << 32 | n


def peer(out):
    s = (1000 << 20) + 1          # the first learner session of a core started at t=1000
    tick = lambda ms: peer_rec(3, 0, struct.pack('>H', ms))
    follow = (peer_rec(0, 3, zab('NOTIFICATION', leader=3, election_epoch=1, state=LEADING)) +
              peer_rec(0, 2, zab('NOTIFICATION', leader=3, election_epoch=1, state=FOLLOWING)) +
              tick(300) +
              peer_rec(1, 3, zab('LEADERINFO', epoch=1, session=s)) +
              peer_rec(1, 3, zab('DIFF', zxid=0, session=s)) +
              peer_rec(1, 3, zab('PROPOSAL', zxid=z(1, 1), session=s, data=txn_create(z(1, 1), '/a'))) +
              peer_rec(1, 3, zab('NEWLEADER', epoch=1, zxid=z(1, 1), session=s)) +
              peer_rec(4, 0) +
              peer_rec(1, 3, zab('UPTODATE', zxid=z(1, 1), session=s)) +
              peer_rec(1, 3, zab('PROPOSAL', zxid=z(1, 2), session=s, data=txn_create(z(1, 2), '/b'))) +
              peer_rec(4, 0) +
              peer_rec(1, 3, zab('COMMIT', zxid=z(1, 2), session=s)) +
              peer_rec(1, 3, zab('PING', session=s)) + tick(2000))
    write(out, 'peer', 'follow-3', b'\x00\x00' + follow)
    write(out, 'peer', 'observe-3', b'\x03\x00' + follow.replace(
        bytes([(3 << 3) | 1]), bytes([(3 << 3) | 1])))
    hello = struct.pack('>III', 0x7a6b6673, 3, 1)
    stream = zw.frame(hello) + zw.frame(zab('LEADERINFO', epoch=1, session=s)) + \
        zw.frame(zab('TRUNC', zxid=0, session=s))
    write(out, 'peer', 'link-hello', b'\x00\x00' + follow[:follow.index(bytes([(3 << 3) | 1]))] +
          peer_rec(2, 3, stream))
    # leading: 2 and 3 vote for 1; 2 follows
    x = 7
    lasts = struct.pack('>q', 0)
    lead = (peer_rec(0, 2, zab('NOTIFICATION', leader=1, election_epoch=1, state=LOOKING)) +
            peer_rec(0, 3, zab('NOTIFICATION', leader=1, election_epoch=1, state=LOOKING)) +
            tick(300) + tick(300) +
            peer_rec(1, 2, zab('FOLLOWERINFO', epoch=0, zxid=0, session=x)) +
            peer_rec(1, 2, zab('ACKEPOCH', epoch=0, zxid=0, session=x, fresh=True, acked=1, data=lasts)) +
            peer_rec(4, 0) +
            peer_rec(1, 2, zab('ACK', zxid=0, session=x)) +
            peer_rec(4, 0) +
            peer_rec(6, 0, txn_create(z(1, 1), '/l')) +
            peer_rec(4, 0) +
            peer_rec(1, 2, zab('ACK', zxid=z(1, 1), session=x)) +
            peer_rec(1, 3, zab('FOLLOWERINFO', epoch=1, zxid=0, session=9)) +
            peer_rec(1, 4, zab('OBSERVERINFO', epoch=0, zxid=0, session=11)) +
            peer_rec(5, 2) + tick(2000) + peer_rec(7, 0))
    write(out, 'peer', 'lead', b'\x00\x00' + lead)
    write(out, 'peer', 'lead-history', b'\x00\x07' + lead)
    write(out, 'peer', 'forward', b'\x00\x00' + peer_rec(
        1, 2, struct.pack('>iqiii', 2, 0x100, 5, zw.OP['create'], 30000) + struct.pack('>i', 1) +
        zw.Writer().string('digest').string('u:x').bytes() +
        struct.pack('>i', 10) + b'0123456789'))
    write(out, 'peer', 'synced-touch', b'\x01\x00' +
          peer_rec(1, 3, struct.pack('>iqiq', 3, 0x100, 5, z(1, 1))) +
          peer_rec(1, 3, struct.pack('>iiqq', 4, 2, 0x100, 0x101)))
    write(out, 'peer', 'snap', b'\x01\x00' + follow[:follow.index(bytes([(3 << 3) | 1])) ] +
          peer_rec(1, 3, zab('LEADERINFO', epoch=1, session=s)) +
          peer_rec(1, 3, zab('SNAP', zxid=z(1, 5), session=s, data=b'\x00' * 40)))


# ---------------------------------------------------------------- datadir
def datadir(out, data_dir):
    """A real zkserver data directory (DATADIR/zkfs-v1) -> fuzz_datadir
    inputs: every file, subsets, and variants with the checksums left for
    the harness to fix."""
    files = []
    for name in sorted(os.listdir(data_dir)):
        path = os.path.join(data_dir, name)
        with open(path, 'rb') as f:
            content = f.read()
        if name.startswith('log.'):
            kind, zxid = 0, int(name[4:], 16)
        elif name.startswith('snapshot.') and not name.endswith('.tmp'):
            kind, zxid = 1, int(name[9:], 16)
        else:
            continue
        files.append((kind, zxid, content.rstrip(b'\0') if kind == 0 else content))

    def enc(flags, trunc, chosen, fix=False):
        b = bytes([flags]) + struct.pack('>Q', trunc)
        for kind, zxid, content in chosen:
            b += bytes([kind | (0x80 if fix else 0)]) + struct.pack('>QH', zxid, len(content[:65535]))
            b += content[:65535]
        return b

    logs = [f for f in files if f[0] == 0]
    snaps = [f for f in files if f[0] == 1]
    last = max((f[1] for f in files), default=0)
    for flags in (0, 1, 3, 5, 7):
        write(out, 'datadir', 'all-flags%d' % flags, enc(flags, last // 2, files))
    write(out, 'datadir', 'all-fixed', enc(1, last // 2, files, fix=True))
    write(out, 'datadir', 'logs-only', enc(1, 0, logs))
    write(out, 'datadir', 'logs-only-fixed', enc(3, 5, logs, fix=True))
    if snaps:
        write(out, 'datadir', 'newest-snapshot', enc(1, 0, snaps[-1:]))
        write(out, 'datadir', 'newest-snapshot-fixed', enc(1, 0, snaps[-1:], fix=True))
        write(out, 'datadir', 'snapshot-and-tmp', enc(1, 0, snaps[-1:] + [(2, snaps[-1][1] + 1, snaps[-1][2])]))
    write(out, 'datadir', 'epochs', enc(0, 0, logs[:1] + [(3, 0, b'7\n')]))


# ---------------------------------------------------------------- config, zkfs_map
def chunk(b):
    return struct.pack('>H', len(b)) + b


def config(out):
    standalone = b'tickTime=2000\ndataDir=/var/lib/zk\nclientPort=2181\n4lw.commands.whitelist=*\n'
    ensemble = (b'tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/var/lib/zk\nclientPort=2181\n'
                b'server.1=10.0.0.1:2888:3888\nserver.2=10.0.0.2:2888:3888\n'
                b'server.3=[::1]:2888:3888:observer;2181\n')
    harness = (b'tickTime=2000\ninitLimit=10\nsyncLimit=5\nclientPort=2181\nclientPortAddress=127.0.0.1\n'
               b'4lw.commands.whitelist=*\nadmin.enableServer=false\nextendedTypesEnabled=true\n'
               b'znode.container.checkIntervalMs=100\njute.maxbuffer=0x10000\nsnapCount=100\n'
               b'autopurge.snapRetainCount=3\nminSessionTimeout=-1\nmaxSessionTimeout=60000\n'
               b'superDigest=super:0bX78nEegDzJM3ju0iLBEJdWzjg=\n# comment\n! also a comment\n'
               b'key\\\n   continued = v\\u0041lue\n')
    flags = b'-Dzookeeper.extendedTypesEnabled=true -Dzookeeper.DigestAuthenticationProvider.superDigest=super:x -Djute.maxbuffer=4096 -Xmx1g'
    write(out, 'config', 'standalone', chunk(standalone) + chunk(b'') + b'')
    write(out, 'config', 'ensemble', chunk(ensemble) + chunk(b'') + b'2\n')
    write(out, 'config', 'ensemble-observer', chunk(ensemble) + chunk(b'') + b'3')
    write(out, 'config', 'harness-flags', chunk(harness) + chunk(flags) + b'')
    write(out, 'config', 'bad-myid', chunk(ensemble) + chunk(b'') + b'256\n')


def zkfs_map(out):
    stat = struct.pack('>qqqqiiiqiiq', 5, 6, 1700000000000, 1700000000001, 1, 2, 3, 0, 5, 0, 6)
    acl = struct.pack('>I', 31) + bytes([5]) + b'world' + bytes([6]) + b'anyone'
    acl += struct.pack('>I', 1) + bytes([6]) + b'digest' + bytes([4]) + b'u:xx'
    for name in (b'a', b'@data', b'@@x', b'@', b'.', b'..', b'a/b', b'.zk', b'\xef\xbf\xbf', b'ok name'):
        write(out, 'zkfs_map', None, chunk(name) + chunk(b'/app/conf') + stat + acl)
    write(out, 'zkfs_map', 'root', chunk(b'x') + chunk(b'/') + stat)


# ---------------------------------------------------------------- sasl
KAZOO_JAAS = (b'Server {\n    org.apache.zookeeper.server.auth.DigestLoginModule required\n'
              b'    user_super="super_secret"\n    user_jaasuser="jaas_password";\n};\n')


def sasl(out):
    """fuzz_sasl: [mode] + a JAAS file (mode 0), a digest-response with @N for
    the nonce (mode 1), or user/cnonce/authzid chunks the harness signs (mode 2)."""
    jaas = {
        'kazoo': KAZOO_JAAS,
        'sections': (b'/* c */ Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n'
                     b'  username="bob" password="p\\"w\\101";\n};\n// x\nServer {\n'
                     b'  org.apache.zookeeper.server.auth.DigestLoginModule REQUIRED user_a="1" user_a="2";\n'
                     b'  other.Module optional;\n};\n'),
        'kerberos': (b'Server {\n  com.sun.security.auth.module.Krb5LoginModule required\n  useKeyTab=true\n'
                     b'  keyTab="/etc/zk.keytab"\n  storeKey=true\n  principal="zookeeper/host@EXAMPLE.COM";\n};\n'),
        'bad-flag': b'Server { m mandatory; };',
        'unterminated': b'Server {\n  m required a="b\n',
        'empty': b'',
    }
    for name, text in jaas.items():
        write(out, 'sasl', 'jaas-' + name, b'\x00' + text)
    kazoo = (b'username="jaasuser",realm="zk-sasl-md5",nonce="@N",cnonce="MTIzNDU2Nzg5",nc=00000001,'
             b'qop=auth,digest-uri="zookeeper/zk-sasl-md5",response=0123456789abcdef0123456789abcdef')
    java = (b'charset=utf-8,username="jaasuser",realm="zk-sasl-md5",nonce="@N",nc=00000001,'
            b'cnonce="wr4ZXv8Yx0RU1+ttFS8EaV3+SfpT1dqU9Yw6mh0Q",digest-uri="zookeeper/zk-sasl-md5",'
            b'maxbuf=65536,response=0123456789abcdef0123456789abcdef,qop=auth,authzid="jaasuser"')
    responses = {
        'kazoo': kazoo, 'java': java, 'garbage': b'garbage', 'empty': b'',
        'escapes': b'username = "ja\\as\\"user" , realm="zk-sasl-md5" ,, nonce="@N", nonce-count=+1, maxbuf=x',
        'dup': kazoo + b',username="x"', 'qop-int': kazoo.replace(b'qop=auth', b'qop=auth-int'),
    }
    for name, text in responses.items():
        write(out, 'sasl', 'response-' + name, b'\x01' + chunk(b'') + text)
    for name, (user, cnonce, authzid, extra) in {
        'ok': (b'jaasuser', b'abc', b'', b''), 'authzid': (b'jaasuser', b'abc', b'jaasuser', b''),
        'kerberos': (b'jaasuser@EXAMPLE.COM', b'x', b'other', b''), 'extra': (b'jaasuser', b'c', b'', b',nc=2'),
    }.items():
        write(out, 'sasl', 'valid-' + name, b'\x02' + chunk(user) + chunk(cnonce) + chunk(authzid) + extra)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--capture', action='append', default=[])
    ap.add_argument('--datadir', action='append', default=[], help='a zkserver DATADIR/zkfs-v1')
    args = ap.parse_args()
    client_frames(args.out)
    fourlw(args.out)
    client_lib(args.out)
    peer(args.out)
    config(args.out)
    zkfs_map(args.out)
    sasl(args.out)
    for d in args.capture:
        capture(args.out, d)
    for d in args.datadir:
        datadir(args.out, d)


if __name__ == '__main__':
    main()
