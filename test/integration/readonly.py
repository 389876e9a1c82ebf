#!/usr/bin/python3
"""readonly.py - the client side of test_readonly.sh: read-only mode
(readonlymode.enabled) of a replica that lost its quorum, through kazoo
(read_only=True) and raw sockets (zkwire.py).

Usage: readonly.py HOSTS SURVIVOR_PORT DIR

HOSTS is the kazoo connect string of all members, the survivor first (kazoo
walks it in order: randomize_hosts=False); SURVIVOR_PORT the client port of
the member that stays up.  The shell stops and starts the other members;
the two sides meet through files in DIR: this script creates DIR/ready.N
and waits (bounded) for the shell's DIR/go.N.

  phase 1  r/w: creates /ro, /ro/a, /ro/b (kazoo read_only=True client and
           a plain client, both r/w); ready.1, wait go.1 (others stopped)
  phase 2  the read-only client reaches CONNECTED_RO; every read and
           write it sends and their results; raw ConnectRequests with
           and without canBeReadOnly and the raw-only opcodes; ready.2,
           wait go.2 (others started again)
  phase 3  the read-only client is back in CONNECTED (not CONNECTED_RO),
           writes work, the watch it set in phase 2 fires for a write made
           now; the plain client writes too.

Prints one normalized line per observation (no session ids, zxids or
timings) so the shell can compare zkserver's output with Apache's.  Every
wait is bounded; exits non-zero on a timeout.
"""

import os
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.protocol.states import KazooState, KeeperState

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zkwire  # noqa: E402

HOSTS, PORT, DIR = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if os.environ.get('RO_DEBUG'):
    import logging
    logging.basicConfig(level=logging.DEBUG, format='%(asctime)s %(message)s')


def out(*words):
    print(' '.join(str(w) for w in words), flush=True)


def handshake(phase):
    open(os.path.join(DIR, 'ready.%d' % phase), 'w').close()
    go = os.path.join(DIR, 'go.%d' % phase)
    deadline = time.monotonic() + 240
    while not os.path.exists(go):
        if time.monotonic() > deadline:
            out('TIMEOUT waiting for', go)
            sys.exit(1)
        time.sleep(0.1)


def wait_for(pred, what, secs=90):
    deadline = time.monotonic() + secs
    while not pred():
        if time.monotonic() > deadline:
            out('TIMEOUT', what)
            sys.exit(1)
        time.sleep(0.05)


def result(fn):
    """The result of a call, or the class name of the exception it raised."""
    try:
        return repr(fn())
    except Exception as e:  # noqa: BLE001 - the class is the observation
        return type(e).__name__


states = []
states_lock = threading.Lock()


def listener(state):
    with states_lock:
        states.append(state)


def take_states():
    """The KazooState transitions since the last call, repeats folded."""
    with states_lock:
        got = list(states)
        del states[:]
    folded = []
    for s in got:
        if not folded or folded[-1] != s:
            folded.append(s)
    return ','.join(folded)


def client(hosts, read_only, listen=False):
    c = KazooClient(hosts=hosts, read_only=read_only, randomize_hosts=False, timeout=10,
                    connection_retry={'max_tries': -1, 'delay': 0.1, 'max_delay': 1})
    if listen:
        c.add_listener(listener)
    return c


# A plain client (no canBeReadOnly) on the survivor.
plain = client('127.0.0.1:%d' % PORT, False)
plain.start(timeout=60)

# ---------------------------------------------------------------- phase 1
out('1 state', plain.client_state)
plain.create('/ro', b'r')
plain.create('/ro/a', b'1')
plain.create('/ro/b', b'2')
out('1 written', plain.get('/ro/a')[0])
handshake(1)

# ---------------------------------------------------------------- phase 2
# A new canBeReadOnly client gets a read-only session from the survivor.
ro = client(HOSTS, True, listen=True)
ro.start(timeout=120)
wait_for(lambda: ro.client_state == KeeperState.CONNECTED_RO, 'CONNECTED_RO', 120)
out('2 state', ro.client_state)
ro_session = ro.client_id[0]
out('2 get', result(lambda: ro.get('/ro/a')[0]))
out('2 exists', result(lambda: ro.exists('/ro/a') is not None))
out('2 exists-missing', result(lambda: ro.exists('/nope')))
out('2 children', result(lambda: sorted(ro.get_children('/ro'))))
out('2 acl', result(lambda: [str(a.perms) + a.id.scheme for a in ro.get_acls('/ro/a')[0]]))
out('2 create', result(lambda: ro.create('/x')))
out('2 set', result(lambda: ro.set('/ro/a', b'9')))
out('2 delete', result(lambda: ro.delete('/ro/b')))
out('2 set_acls', result(lambda: ro.set_acls('/ro/a', [])))
out('2 sync', result(lambda: ro.sync('/ro')))
tx = ro.transaction()
tx.check('/ro/a', 0)
out('2 multi-check', result(lambda: tx.commit()))
out('2 get-after', result(lambda: ro.get('/ro/a')[0]))
watched = threading.Event()
ro.get('/ro/a', watch=lambda ev: watched.set())

# The plain client is refused now.
out('2 plain-connected', plain.client_state)

# Raw ConnectRequests.
for flag in (False, True):
    c = zkwire.Conn('127.0.0.1', PORT, io_timeout=10)
    try:
        resp = c.connect(read_only=flag)
        out('2 raw-connect canBeReadOnly=%s' % flag, 'readOnly=%s' % resp['readOnly'],
            'timeOut=%d' % resp['timeOut'], 'session=%s' % ('yes' if resp['sessionId'] else 'no'))
    except (zkwire.ConnectionClosed, OSError) as e:
        out('2 raw-connect canBeReadOnly=%s' % flag, 'closed')
        c.disconnect()
        continue
    if flag:
        w = zkwire.Writer
        ops = [
            ('multiRead', zkwire.enc_multi([(zkwire.OP['getData'],
                                              zkwire.enc_path_watch('/ro/a'))])),
            ('multi-write', zkwire.enc_multi([(zkwire.OP['create'],
                                                zkwire.enc_create('/y'))])),
            ('getAllChildrenNumber', zkwire.enc_path('/ro')),
            ('getEphemerals', zkwire.enc_path('/')),
            ('addWatch', w().buffer(b'/ro').int(0).bytes()),
            ('check', zkwire.enc_path_version('/ro/a', 0)),
            ('createContainer', zkwire.enc_create('/c', flags=4)),
            ('getChildren2', zkwire.enc_path_watch('/ro')),
        ]
        for name, body in ops:
            op = 'multi' if name == 'multi-write' else name
            try:
                rep = c.call(op, body)
                out('2 raw', name, 'err=%d' % rep.err)
            except (zkwire.ConnectionClosed, OSError):
                out('2 raw', name, 'closed')
                break
        try:
            rep = c.set_watches(0, data=['/ro/a'])
            out('2 raw setWatches err=%d' % rep.err)
            rep = c.close_session()
            out('2 raw closeSession err=%d' % rep.err)
        except (zkwire.ConnectionClosed, OSError):
            out('2 raw closed')
    c.disconnect()
take_states()
handshake(2)

# ---------------------------------------------------------------- phase 3
wait_for(lambda: ro.client_state == KeeperState.CONNECTED, 'CONNECTED again', 180)
out('3 state', ro.client_state)
out('3 transitions', take_states())
out('3 session', 'ro' if ro.client_id[0] == ro_session else 'new')


def retry_write(fn):
    """A write, retried (bounded) across connection losses while the
    ensemble settles; the first result that is not a connection error."""
    deadline = time.monotonic() + 90
    while True:
        r = result(fn)
        if r not in ('ConnectionLoss', 'SessionExpiredError', 'ConnectionClosedError',
                     'NotReadOnlyCallError') or time.monotonic() > deadline:
            return r
        time.sleep(0.5)


out('3 create', retry_write(lambda: ro.create('/ro/c', b'3')))
out('3 set', retry_write(lambda: ro.set('/ro/a', b'4').version))
out('3 watch-fired', watched.wait(5))
out('3 children', sorted(ro.get_children('/ro')))
wait_for(lambda: plain.client_state == KeeperState.CONNECTED, 'plain CONNECTED', 120)
out('3 plain-create', retry_write(lambda: plain.create('/ro/d')))
for c in (ro, plain):
    c.stop()
    c.close()
out('done')
