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

  phase 1    r/w: a plain client creates /ro and /rp with children a, b;
             ready.1, wait go.1 (the other members are cut off)
  phase 2/4  a new read-only client reaches CONNECTED_RO; every read and
             write it sends and their results; raw ConnectRequests with
             and without canBeReadOnly and the raw-only opcodes; ready.2/4,
             wait go.2/4 (the other members are back)
  phase 3/5  the read-only client is back in CONNECTED (not CONNECTED_RO),
             writes work; the plain client writes too; ready.3, wait go.3
             (round two, on /rp, the members cut off another way)

Prints one normalized line per observation (no session ids, zxids or
timings) so the shell can compare zkserver's output with Apache's.  Every
wait is bounded; exits non-zero on a timeout.
"""

import os
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.protocol.states import KeeperState

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zkwire  # noqa: E402

HOSTS, PORT, DIR = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ROOTS = ('/ro', '/rp')
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


def take_states(c):
    """c's KazooState transitions since the last call, repeats folded."""
    got = c.seen_states[:]
    del c.seen_states[:len(got)]
    folded = []
    for st in got:
        if not folded or folded[-1] != st:
            folded.append(st)
    return ','.join(folded)


def client(hosts, read_only, listen=False):
    c = KazooClient(hosts=hosts, read_only=read_only, randomize_hosts=False, timeout=10,
                    connection_retry={'max_tries': -1, 'delay': 0.1, 'max_delay': 1})
    c.seen_states = []
    if listen:
        c.add_listener(c.seen_states.append)
    return c


# A plain client (no canBeReadOnly) on the survivor.
plain = client('127.0.0.1:%d' % PORT, False)
plain.start(timeout=60)

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


# ---------------------------------------------------------------- phase 1
out('1 state', plain.client_state)
for root in ROOTS:
    for path, data in ((root, b'r'), (root + '/a', b'1'), (root + '/b', b'2')):
        retry_write(lambda: plain.create(path, data))
out('1 written', plain.get('/ro/a')[0])
handshake(1)


def one_round(first, R):
    """A round: after handshake `first` the other members are gone (phase
    first+1: read-only), after handshake first+1 they are back (phase
    first+2).  R is the subtree of the round.  Returns the clients to stop."""
    P2, P3 = str(first + 1), str(first + 2)
    # ---------------------------------------------------------------- phase 2
    # A new canBeReadOnly client gets a read-only session from the survivor.
    ro = client(HOSTS, True, listen=True)
    ro.start(timeout=120)
    wait_for(lambda: ro.client_state == KeeperState.CONNECTED_RO, 'CONNECTED_RO', 120)
    out(P2, 'state', ro.client_state)
    ro_session = ro.client_id[0]
    out(P2, 'get', result(lambda: ro.get(R + '/a')[0]))
    out(P2, 'exists', result(lambda: ro.exists(R + '/a') is not None))
    out(P2, 'exists-missing', result(lambda: ro.exists('/nope')))
    out(P2, 'children', result(lambda: sorted(ro.get_children(R))))
    out(P2, 'acl', result(lambda: [str(a.perms) + a.id.scheme for a in ro.get_acls(R + '/a')[0]]))
    out(P2, 'create', result(lambda: ro.create('/x')))
    out(P2, 'set', result(lambda: ro.set(R + '/a', b'9')))
    out(P2, 'delete', result(lambda: ro.delete(R + '/b')))
    out(P2, 'set_acls', result(lambda: ro.set_acls(R + '/a', [])))
    out(P2, 'sync', result(lambda: ro.sync(R)))
    tx = ro.transaction()
    tx.check(R + '/a', 0)
    out(P2, 'multi-check', result(lambda: tx.commit()))
    out(P2, 'get-after', result(lambda: ro.get(R + '/a')[0]))
    watched = threading.Event()
    ro.get(R + '/a', watch=lambda ev: watched.set())

    # The plain client is refused now.
    out(P2, 'plain-connected', plain.client_state)

    # Raw ConnectRequests.
    for flag in (False, True):
        c = zkwire.Conn('127.0.0.1', PORT, io_timeout=10)
        try:
            resp = c.connect(read_only=flag)
            out(P2, 'raw-connect canBeReadOnly=%s' % flag, 'readOnly=%s' % resp['readOnly'],
                'timeOut=%d' % resp['timeOut'], 'session=%s' % ('yes' if resp['sessionId'] else 'no'))
        except (zkwire.ConnectionClosed, OSError):
            out(P2, 'raw-connect canBeReadOnly=%s' % flag, 'closed')
            c.disconnect()
            continue
        if flag:
            w = zkwire.Writer
            ops = [
                ('multiRead', zkwire.enc_multi([(zkwire.OP['getData'],
                                                  zkwire.enc_path_watch(R + '/a'))])),
                ('multi-write', zkwire.enc_multi([(zkwire.OP['create'],
                                                    zkwire.enc_create('/y'))])),
                ('getAllChildrenNumber', zkwire.enc_path(R)),
                ('getEphemerals', zkwire.enc_path('/')),
                ('addWatch', w().buffer(R.encode()).int(0).bytes()),
                ('check', zkwire.enc_path_version(R + '/a', 0)),
                ('createContainer', zkwire.enc_create('/c', flags=4)),
                ('getChildren2', zkwire.enc_path_watch(R)),
            ]
            for name, body in ops:
                op = 'multi' if name == 'multi-write' else name
                try:
                    rep = c.call(op, body)
                    out(P2, 'raw', name, 'err=%d' % rep.err)
                except (zkwire.ConnectionClosed, OSError):
                    out(P2, 'raw', name, 'closed')
                    break
            try:
                rep = c.set_watches(0, data=[R + '/a'])
                out(P2, 'raw setWatches err=%d' % rep.err)
                rep = c.close_session()
                out(P2, 'raw closeSession err=%d' % rep.err)
            except (zkwire.ConnectionClosed, OSError):
                out(P2, 'raw closed')
        c.disconnect()
    take_states(ro)
    handshake(first + 1)

    # ---------------------------------------------------------------- phase 3
    wait_for(lambda: ro.client_state == KeeperState.CONNECTED, 'CONNECTED again', 180)
    out(P3, 'state', ro.client_state)
    out(P3, 'transitions', take_states(ro))
    out(P3, 'session', 'ro' if ro.client_id[0] == ro_session else 'new')

    # A write whose reply was lost to a connection loss was applied: what
    # is printed is what the tree then holds (a retried create may meet
    # NodeExists, a retried set bump the version twice).
    r = retry_write(lambda: ro.create(R + '/c', b'3'))
    out(P3, 'create', r.replace(R, '$R') if r != 'NodeExistsError' else repr('$R/c'))
    retry_write(lambda: ro.set(R + '/a', b'4'))
    out(P3, 'set', ro.get(R + '/a')[0])
    out(P3, 'watch-fired', watched.wait(5))
    out(P3, 'children', sorted(ro.get_children(R)))
    wait_for(lambda: plain.client_state == KeeperState.CONNECTED, 'plain CONNECTED', 120)
    r = retry_write(lambda: plain.create(R + '/d'))
    out(P3, 'plain-create', r.replace(R, '$R') if r != 'NodeExistsError' else repr('$R/d'))
    ro.stop()
    ro.close()


one_round(1, '/ro')
handshake(3)
one_round(3, '/rp')
plain.stop()
plain.close()
out('done')
