#!/usr/bin/python3
"""capture_proxy.py - a loopback TCP proxy that records every framed
ZooKeeper packet (4-byte big-endian length + payload) in each direction.

    capture_proxy.py --target HOST:PORT --out DIR [--listen PORT] [--duration SECS]

Prints the listening port on stdout (first line: "listening PORT") and runs
until SIGTERM/SIGINT or --duration.  For connection N, packet number S in
direction D (c2s = client to server, s2c = server to client) it writes the
payload WITHOUT the length prefix to DIR/cNN_SSSS_D.bin and appends one JSON
line to DIR/index.jsonl: {"conn", "seq", "dir", "len", "file", "summary"}.
The summary decodes the packet with zkwire (connect request/response first,
then request headers client->server and reply headers server->client).

SIGUSR1 drops every proxied connection (both sides), which makes real
clients reconnect and re-register their watches (setWatches).

Bytes that do not parse as frames (e.g. a four-letter word) are forwarded
untouched and logged as {"dir": ..., "raw": N}.
"""

import argparse
import json
import os
import signal
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zkwire as zw  # noqa: E402


class Recorder:
    """Owns the output directory and index file; thread-safe."""

    def __init__(self, out_dir):
        self.out_dir = out_dir
        os.makedirs(out_dir, exist_ok=True)
        self.lock = threading.Lock()
        self.index = open(os.path.join(out_dir, 'index.jsonl'), 'a', buffering=1)
        self.seq = 0

    def record(self, conn_no, direction, payload, summary):
        with self.lock:
            self.seq += 1
            name = 'c%02d_%04d_%s.bin' % (conn_no, self.seq, direction)
            with open(os.path.join(self.out_dir, name), 'wb') as f:
                f.write(payload)
            self.index.write(json.dumps({'conn': conn_no, 'seq': self.seq, 'dir': direction,
                                         'len': len(payload), 'file': name,
                                         'summary': summary}, default=repr) + '\n')

    def note(self, obj):
        with self.lock:
            self.index.write(json.dumps(obj, default=repr) + '\n')


def summarise(direction, nth, payload, pending):
    """Decodes one payload for the index (never raises).  pending maps the
    xids of requests seen on this connection to their opcodes, so replies
    can be decoded with the right record type."""
    try:
        if nth == 0:
            if direction == 'c2s':
                return {'record': 'ConnectRequest', **zw.decode_connect_request(payload)}
            return {'record': 'ConnectResponse', **zw.decode_connect_response(payload)}
        if direction == 'c2s':
            d = zw.decode_request(payload)
            pending[d['xid']] = zw.OP.get(d['op'], d['op'])
            return d
        r = zw.Reader(payload)
        xid, zxid, err = r.int(), r.long(), r.int()
        body = r.rest()
        d = {'xid': xid, 'zxid': zxid, 'err': zw.ERR.get(err, err)}
        if xid == zw.XID_NOTIFICATION:
            er = zw.Reader(body)
            d.update(event=zw.EVENT_NAME.get(er.int()), state=er.int(), path=er.string())
        elif xid in pending:
            op = pending.pop(xid)
            d['op'] = zw.OP_NAME.get(op, op)
            d['body'] = zw.decode_reply(op, err, body)
        return d
    except Exception as e:  # a summary is best effort
        return {'undecodable': str(e)}


def pump(src, dst, direction, conn_no, rec, pending, stop):
    """Copies src to dst, cutting the stream into frames and recording them."""
    buf = bytearray()
    nth = 0
    framed = True
    while not stop.is_set():
        try:
            chunk = src.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        try:
            dst.sendall(chunk)
        except OSError:
            break
        if not framed:
            rec.note({'conn': conn_no, 'dir': direction, 'raw': len(chunk)})
            continue
        buf += chunk
        while len(buf) >= 4:
            n = struct.unpack('>i', bytes(buf[:4]))[0]
            if n < 0 or n > 64 * 1024 * 1024:
                framed = False      # not the framed protocol (4lw?)
                rec.note({'conn': conn_no, 'dir': direction, 'raw': len(buf)})
                buf.clear()
                break
            if len(buf) < 4 + n:
                break
            payload = bytes(buf[4:4 + n])
            del buf[:4 + n]
            rec.record(conn_no, direction, payload, summarise(direction, nth, payload, pending))
            nth += 1
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--target', required=True, help='HOST:PORT of the real server')
    ap.add_argument('--out', required=True, help='directory for the captured frames')
    ap.add_argument('--listen', type=int, default=0, help='port on 127.0.0.1 (0 = pick a free one)')
    ap.add_argument('--duration', type=float, default=0, help='exit after this many seconds (0 = never)')
    args = ap.parse_args()
    thost, tport = zw.parse_hostport(args.target)
    rec = Recorder(args.out)
    stop = threading.Event()

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(('127.0.0.1', args.listen))
    lsock.listen(16)
    lsock.settimeout(0.2)
    print('listening %d' % lsock.getsockname()[1], flush=True)

    live = []   # sockets of the current connections, for SIGUSR1

    def on_signal(signum, frame):
        stop.set()

    def on_drop(signum, frame):
        rec.note({'event': 'SIGUSR1: dropping %d sockets' % len(live)})
        for s in live:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        live.clear()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGUSR1, on_drop)

    deadline = time.monotonic() + args.duration if args.duration else None
    conn_no = 0
    while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
        try:
            client, _ = lsock.accept()
        except socket.timeout:
            continue
        except OSError:
            break
        try:
            server = socket.create_connection((thost, tport), timeout=5)
        except OSError as e:
            rec.note({'conn': conn_no, 'error': 'cannot reach target: %s' % e})
            client.close()
            continue
        server.settimeout(None)
        client.settimeout(None)
        live.extend((client, server))
        pending = {}
        for a, b, d in ((client, server, 'c2s'), (server, client, 's2c')):
            threading.Thread(target=pump, args=(a, b, d, conn_no, rec, pending, stop),
                             daemon=True).start()
        conn_no += 1
    lsock.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
