#!/usr/bin/python3
"""quota_ops.py - raw-protocol helper of test_quota.sh (zkwire, one session).

kazoo 2.8 has no exception for ZQUOTAEXCEEDED (-125): a reply with that code
kills kazoo's connection thread (RuntimeError 'Invalid error code'), so the
quota test writes through zkwire and prints the raw error codes.

Usage: quota_ops.py HOST:PORT CMD...
  c:PATH[:DATA]   create (persistent)      e:PATH[:DATA]  create ephemeral
  s:PATH[:DATA]   setData                  n:PATH         setData with null data
  d:PATH          delete                   dump           sync, then the /zookeeper/quota subtree
  m:PATH:DATA,PATH:DATA  a multi of creates
Each write prints "OP -> ERR"; dump prints one line per znode in sorted
order: path, data (repr), version, dataLength, numChildren and whether
mzxid == czxid (the stats znode's Stat must never move).
"""

import sys

sys.path.insert(0, __import__('os').path.dirname(__file__))
import zkwire as zw  # noqa: E402


def dump(c, path):
    r = c.call('getData', zw.enc_path_watch(path))
    if r.err != 0:
        print('%s err=%d' % (path, r.err))
        return
    st = r.decoded['stat']
    print('%s %r v=%d len=%d nc=%d mz==cz=%s' % (
        path, r.decoded['data'], st['version'], st['dataLength'], st['numChildren'],
        st['mzxid'] == st['czxid']))
    kids = c.call('getChildren', zw.enc_path_watch(path))
    for k in sorted(kids.decoded.get('children', [])):
        dump(c, path.rstrip('/') + '/' + k)


def main():
    host, port = sys.argv[1].rsplit(':', 1)
    c = zw.Conn(host, int(port), io_timeout=20.0)
    c.connect()
    for cmd in sys.argv[2:]:
        if cmd == 'dump':
            # sync first: on a follower the dump then shows every write
            # committed before it
            r = c.call('sync', zw.enc_path('/'))
            if r.err != 0:
                raise SystemExit('sync failed: %d' % r.err)
            dump(c, '/zookeeper/quota')
            continue
        kind, rest = cmd.split(':', 1)
        path, _, data = rest.partition(':')
        payload = data.encode()
        if kind == 'c':
            r = c.call('create', zw.enc_create(path, payload))
        elif kind == 'e':
            r = c.call('create', zw.enc_create(path, payload, flags=1))
        elif kind == 's':
            r = c.call('setData', zw.enc_set_data(path, payload))
        elif kind == 'n':
            r = c.call('setData', zw.enc_set_data(path, None))
        elif kind == 'd':
            r = c.call('delete', zw.enc_path_version(path))
        elif kind == 'm':
            ops = []
            for item in rest.split(','):
                p, _, d = item.partition(':')
                ops.append((zw.OP['create'], zw.enc_create(p, d.encode())))
            r = c.call('multi', zw.enc_multi(ops))
            subs = [x.get('err', 0) if isinstance(x, dict) else x
                    for x in (r.decoded or {}).get('results', [])]
            print('%s -> %d %s' % (cmd, r.err, subs))
            continue
        else:
            raise SystemExit('unknown command ' + cmd)
        print('%s -> %d' % (cmd, r.err))
    c.close_session()


if __name__ == '__main__':
    main()
