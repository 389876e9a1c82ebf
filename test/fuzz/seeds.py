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
    # every case of the malformed-frame catalogue, after a ConnectRequest
    for case in md.catalogue():
        frames = [struct.pack('>ii', 900 + i, op) + body for i, (op, body) in enumerate(case.pre)]
        frames.append(case.body if case.op is None else struct.pack('>ii', 1000, case.op) + case.body)
        write(out, 'client_frames', 'catalogue-' + case.name.replace('/', '_').replace(' ', '_'),
              session(frames))
    for name, payload in md.connect_cases():
        write(out, 'client_frames', 'catalogue-' + name.replace('/', '_').replace(' ', '_'),
              rec(FRAME, 0, payload) + rec(DURABLE, 0))
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


def client_lib_input(stream):
    """fuzz_client_lib: [ops u8 count][op bytes...][server bytes].  The ops
    are the requests the client makes first (see the harness)."""
    ops = bytes(range(0, 16))
    return bytes([len(ops)]) + ops + stream


def client_lib(out):
    # the replies Apache sent, in the order of the kazoo session
    resp = ['connect_resp.bin', 'auth_resp.bin', 'create_resp.bin', 'create2_resp.bin',
            'getdata_resp.bin', 'setdata_resp.bin', 'getchildren2_resp.bin',
            'exists_nonode_resp.bin', 'watch_event.bin', 'create_watched_resp.bin',
            'multi_fail_resp.bin', 'ping_resp.bin', 'close_resp.bin']
    write(out, 'client_lib', 'kazoo-replies',
          client_lib_input(b''.join(zw.frame(vec(v)) for v in resp)))
    write(out, 'client_lib', 'climt-replies',
          client_lib_input(b''.join(zw.frame(vec(v)) for v in
                                    ('reconnect_resp.bin', 'setwatches_resp.bin',
                                     'watch_event_climt.bin', 'auth_failed_resp.bin'))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--capture', action='append', default=[])
    args = ap.parse_args()
    client_frames(args.out)
    fourlw(args.out)
    client_lib(args.out)
    for d in args.capture:
        capture(args.out, d)


if __name__ == '__main__':
    main()
