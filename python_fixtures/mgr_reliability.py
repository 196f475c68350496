"""Real CPython clients for the reliability tests (compat_tests/reliability_test.go).

    python mgr_reliability.py --host H --port P --authkey-hex K MODE [--token T]

Modes (each prints JSON lines; the killed modes print a state line and then wait to be killed):
  probe     a client is served: get_queue().put(token) and qsize(); a new manager Queue: put(token),
            get(timeout=30)
  wrongkey  connect with the given (wrong) key: the server must answer with a failure, which
            Python raises as AuthenticationError
  getter    block in get_queue().get() and print the item received
  midframe  authenticate, then write the header of a frame and part of its payload, then wait
  holdlock  acquire get_lock() and get_rlock(), then wait
  checklock after a holder was killed: what the shared Lock and RLock look like
  dag       put a list DAG of depth 60 (2**60 paths) through a manager Queue and get it back
"""
import os
import struct
import sys
import time
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client
from multiprocessing.managers import AcquirerProxy, SyncManager

from mgr_common import parse_args, emit


class RelManager(SyncManager):
    pass


RelManager.register('get_queue')
RelManager.register('get_lock', proxytype=AcquirerProxy)
RelManager.register('get_rlock', proxytype=AcquirerProxy)


def connect(a):
    m = RelManager(address=a.address, authkey=a.authkey)
    m.connect()
    return m


def wait_to_be_killed():
    time.sleep(300)
    sys.exit('not killed within 300 s')


def probe(a):
    m = connect(a)
    q = m.get_queue()
    q.put(a.token)
    qsize = q.qsize()
    own = m.Queue()
    own.put(a.token)
    got = own.get(timeout=30)
    emit({'got': got, 'qsize': qsize})


def wrongkey(a):
    try:
        connect(a)
    except AuthenticationError as e:
        emit({'error': 'AuthenticationError', 'msg': str(e)})
        return
    emit({'error': None})


def getter(a):
    m = connect(a)
    q = m.get_queue()
    q.qsize()  # the method-call connection is open before the state line
    emit({'state': 'getting'})
    emit({'got': q.get()})


def midframe(a):
    c = Client(a.address, authkey=a.authkey)
    # A request announced as 1 MiB, of which 1000 bytes are sent.
    os.write(c.fileno(), struct.pack('!i', 1 << 20) + b'\x80\x02' + b'x' * 998)
    emit({'state': 'sent'})
    wait_to_be_killed()


def holdlock(a):
    m = connect(a)
    lock, rlock = m.get_lock(), m.get_rlock()
    got = [lock.acquire(), rlock.acquire()]
    emit({'state': 'locked', 'acquired': got})
    wait_to_be_killed()


def checklock(a):
    m = connect(a)
    lock, rlock = m.get_lock(), m.get_rlock()
    r = {}
    r['lock_free'] = lock.acquire(False)  # still held by the dead client?
    lock.release()  # a Lock has no owner: anyone may release it
    r['lock_reacquired'] = lock.acquire(False)
    lock.release()
    r['rlock_free'] = rlock.acquire(False)
    try:
        rlock.release()
        r['rlock_release'] = 'ok'
    except Exception as e:
        r['rlock_release'] = type(e).__name__
    emit(r)


def dag(a):
    m = connect(a)
    d = []
    for _ in range(60):
        d = [d, d]
    q = m.Queue()
    q.put(d)
    g = q.get(timeout=30)
    depth, shared = 0, True
    while g:
        shared = shared and g[0] is g[1]
        g = g[0]
        depth += 1
    emit({'depth': depth, 'shared': shared})


MODES = {'probe': probe, 'wrongkey': wrongkey, 'getter': getter, 'midframe': midframe,
         'holdlock': holdlock, 'checklock': checklock, 'dag': dag}


def main():
    def extra(p):
        p.add_argument('mode', choices=sorted(MODES))
        p.add_argument('--token', default='')
    a = parse_args(extra)
    MODES[a.mode](a)


if __name__ == '__main__':
    main()
