"""Differential check of SyncManager types: the same operations against a manager server,
recording each result (repr) or exception (class and message), so a test can compare mpgo with
CPython's own server operation by operation.

  --host H --port P --authkey-hex K     run against the server at H:P
  --cpython-server                      start CPython's own SyncManager server (get_server(),
                                        in a subprocess) and run against it
Prints one JSON line {"python", "results": {op: "ok: <repr>" | "exc: <Class>: <message>"}}.
Works on Python 2.7 and 3.6+. Standard library only.
"""

import argparse
import binascii
import warnings
import json
import multiprocessing
import multiprocessing.managers
import os
import subprocess
import sys
import time

PY2 = sys.version_info[0] == 2

SERVER_CODE = r'''
import sys, binascii, multiprocessing
from multiprocessing.managers import SyncManager
key = binascii.unhexlify(sys.argv[1])
multiprocessing.current_process().authkey = key
m = SyncManager(address=('127.0.0.1', 0), authkey=key)
s = m.get_server()
print('%s %d' % s.address)
sys.stdout.flush()
s.serve_forever()
'''


def outcome(f):
    try:
        r = f()
    except Exception as e:
        name = type(e).__name__
        msg = str(e)
        if name == 'RemoteError':
            # keep the last line of the remote traceback (the exception)
            lines = [l for l in msg.strip().splitlines() if l.strip() and not l.startswith('-----')]
            msg = lines[-1].strip() if lines else msg
        return 'exc: %s: %s' % (name, msg)
    return 'ok: %s' % (norm(r),)


def norm(r):
    if PY2 and isinstance(r, unicode):  # noqa: F821
        r = r.encode('utf-8')
    if isinstance(r, (list, tuple)):
        return type(r)(norm(x) for x in r).__repr__()
    return repr(r)


def ops(m):
    """(name, callable) pairs; each builds what it needs."""
    out = []

    def add(name, f):
        out.append((name, f))

    l = m.list(list(range(6)))
    add('list.getitem_neg', lambda: l[-1])
    add('list.getitem_oob', lambda: l[10])
    add('list.getitem_str', lambda: l['x'])
    add('list.slice', lambda: l[1:4])
    add('list.slice_step', lambda: l[::-2])
    add('list.slice_step0', lambda: l[::0])
    add('list.contains', lambda: 3.0 in l)
    add('list.add', lambda: l + [9])
    add('list.add_tuple', lambda: l + (9,))
    add('list.mul', lambda: l * 2)
    add('list.rmul', lambda: 2 * l)
    add('list.mul_str', lambda: l * 'x')
    add('list.index', lambda: l.index(4))
    add('list.index_start', lambda: l.index(1, 2))
    add('list.index_missing', lambda: l.index(99))
    add('list.count', lambda: l.count(True))
    add('list.remove_missing', lambda: l.remove(99))
    add('list.pop_oob', lambda: l.pop(99))
    add('list.insert_str', lambda: l.insert('a', 1))

    def setslice_step():
        l2 = m.list([1, 2, 3])
        l2[::2] = [9]
    add('list.setslice_step_size', setslice_step)

    def setslice_noniter():
        l2 = m.list([1, 2, 3])
        l2[0:2] = 5
    add('list.setslice_noniter', setslice_noniter)

    def setslice_ok():
        l2 = m.list([1, 2, 3, 4])
        l2[1:3] = 'ab'
        del l2[::3]
        return l2[:]
    add('list.setslice_del', setslice_ok)

    def iadd_imul():
        l2 = m.list([1])
        l2 += [2]
        l2 *= 2
        return l2[:]
    add('list.iadd_imul', iadd_imul)

    def sort_mixed():
        l2 = m.list([3, 'a'])
        l2.sort()
    add('list.sort_mixed', sort_mixed)

    def sort_rev():
        l2 = m.list([3, 1, 2.5, True])
        l2.sort(reverse=True)
        return l2[:]
    add('list.sort_reverse', sort_rev)

    def reversed_():
        return list(reversed(m.list([1, 2, 3])))
    add('list.reversed', reversed_)

    def iter_list():
        return list(m.list([1, 2]))
    add('list.iter', iter_list)

    def pop_empty():
        m.list().pop()
    add('list.pop_empty', pop_empty)

    d = m.dict({1: 'one', 'k': [1]})
    add('dict.getitem_float', lambda: d[1.0])
    add('dict.getitem_missing', lambda: d['missing'])
    add('dict.getitem_unhashable', lambda: d[[1]])
    add('dict.get_default', lambda: d.get('x', 5))
    add('dict.keys', lambda: d.keys())
    add('dict.values', lambda: d.values())
    add('dict.items', lambda: d.items())
    add('dict.copy', lambda: sorted(d.copy().items(), key=repr))
    add('dict.pop_missing', lambda: d.pop('missing'))
    add('dict.pop_default', lambda: d.pop('missing', 7))
    add('dict.len', lambda: len(d))
    add('dict.contains', lambda: 'k' in d)

    def popitem_empty():
        m.dict().popitem()
    add('dict.popitem_empty', popitem_empty)

    def update_forms():
        d2 = m.dict()
        d2.update([('a', 1)], b=2)
        d2.update({'c': 3})
        return sorted(d2.items())
    add('dict.update', update_forms)
    add('dict.update_bad', lambda: m.dict().update([1]))
    add('dict.update_len3', lambda: m.dict().update([(1, 2, 3)]))
    add('dict.update_int', lambda: m.dict().update(1))

    def setdefault():
        d2 = m.dict()
        return (d2.setdefault('a', 1), d2.setdefault('a', 2), d2['a'])
    add('dict.setdefault', setdefault)

    def dict_iter():
        d2 = m.dict(a=1, b=2)
        return sorted(iter(d2))
    add('dict.iter', dict_iter)

    def dict_iter_changed():
        d2 = m.dict(a=1, b=2)
        it = iter(d2)
        d2['c'] = 3
        return next(it)
    add('dict.iter_changed', dict_iter_changed)

    ns = m.Namespace(a=1)
    add('ns.get', lambda: ns.a)
    add('ns.missing', lambda: ns.b)

    def ns_del_missing():
        del ns.zz
    add('ns.del_missing', ns_del_missing)

    def ns_repr():
        n2 = m.Namespace(b=2, a='x')
        n2.c = [1]
        return str(n2)
    add('ns.repr', ns_repr)

    v = m.Value('i', 1)
    add('value.get', lambda: v.value)

    def value_any():
        v2 = m.Value('i', 1)
        v2.value = 'not an int'
        return v2.value
    add('value.no_typecheck', value_any)
    add('value.repr', lambda: str(m.Value('d', 2.5)))

    a = m.Array('i', [1, 2, 3])
    add('array.getitem', lambda: a[-1])
    add('array.getitem_oob', lambda: a[5])
    add('array.getitem_str', lambda: a['x'])
    add('array.len', lambda: len(a))
    add('array.slice', lambda: a[0:2])
    add('array.list', lambda: list(a))
    add('array.str', lambda: str(a))

    def arr_set(i, x):
        def f():
            a2 = m.Array('i', [1, 2, 3])
            a2[i] = x
            return list(a2)
        return f
    add('array.set_overflow', arr_set(0, 2 ** 31))
    add('array.set_underflow', arr_set(0, -2 ** 31 - 1))
    add('array.set_float', arr_set(0, 1.5))
    add('array.set_str', arr_set(0, 'x'))
    add('array.set_oob', arr_set(5, 1))
    add('array.set_ok', arr_set(-1, 7))
    add('array.setslice_list', arr_set(slice(0, 2), [1, 2]))

    def arr_create(tc, seq):
        return lambda: list(m.Array(tc, seq))
    add('array.create_b_overflow', arr_create('b', [300]))
    add('array.create_B_neg', arr_create('B', [-1]))
    add('array.create_H_big', arr_create('H', [70000]))
    add('array.create_I_neg', arr_create('I', [-1]))
    add('array.create_d_str', arr_create('d', ['x']))
    add('array.create_d_int', arr_create('d', [1, 2]))
    add('array.create_f', arr_create('f', [0.1]))
    add('array.create_bad_typecode', arr_create('z', [1]))
    add('array.create_i_str', arr_create('i', 'abc'))
    ua = m.Array('u', u'h\xe9llo')
    add('array.u_getitem', lambda: ua[1])
    add('array.u_slice', lambda: ua[1:3])
    add('array.u_getvalue', lambda: ua._getvalue())

    def u_set_bad():
        ua[0] = u'ab'
    add('array.u_set_bad', u_set_bad)
    add('array.b_from_bytes', arr_create('b', b'\x01\xff'))
    if PY2:
        ca = m.Array('c', 'abc')
        add('array.c_getitem', lambda: ca[1])
        add('array.c_slice', lambda: ca[0:2])

        def c_set_bad():
            ca[0] = 'zz'
        add('array.c_set_bad', c_set_bad)
    else:
        qa = m.Array('Q', [2 ** 64 - 1, 5])
        add('array.Q_getitem', lambda: qa[0])
        add('array.Q_slice', lambda: qa[:])
        add('array.create_Q_big', arr_create('Q', [2 ** 64]))
        add('array.create_q_big', arr_create('q', [2 ** 63]))

    # '#GETVALUE' (proxy._getvalue()) and '__repr__' (str(proxy)) fallbacks
    add('getvalue.list', lambda: m.list([1, 'a', [2]])._getvalue())
    add('getvalue.dict', lambda: sorted(m.dict(a=1, b=[2])._getvalue().items()))
    add('getvalue.namespace', lambda: m.Namespace(a=1, b='x')._getvalue())
    add('getvalue.value', lambda: m.Value('i', 5)._getvalue())
    add('getvalue.array', lambda: m.Array('d', [1.5, 2])._getvalue())
    add('str.list', lambda: str(m.list([1, 'a', (2,)])))
    add('str.dict', lambda: str(m.dict([(1, 'x')])))
    add('str.array', lambda: str(m.Array('h', [1, -2])))
    add('str.array_empty', lambda: str(m.Array('i', [])))
    add('str.value', lambda: str(m.Value('c', b'x')))
    add('str.namespace_empty', lambda: str(m.Namespace()))

    lock = m.Lock()
    add('lock.acquire', lambda: lock.acquire())
    add('lock.acquire_nb', lambda: lock.acquire(False))
    add('lock.release', lambda: lock.release())
    add('lock.release_unlocked', lambda: lock.release())
    if not PY2:
        add('lock.acquire_timeout_nb', lambda: lock.acquire(False, 1))
        add('lock.acquire_timeout_neg', lambda: lock.acquire(True, -5))
    rl = m.RLock()
    add('rlock.release_unowned', lambda: rl.release())
    add('rlock.acquire_twice', lambda: (rl.acquire(), rl.acquire()))
    add('rlock.release_twice', lambda: (rl.release(), rl.release()))
    add('sem.negative', lambda: m.Semaphore(-1))
    bs = m.BoundedSemaphore(1)
    add('bsem.release_extra', lambda: bs.release())
    if not PY2:
        sem = m.Semaphore(0)
        add('sem.acquire_timeout_nb', lambda: sem.acquire(False, 1))
        add('sem.acquire_timeout', lambda: sem.acquire(True, 0.05))
    c = m.Condition()
    add('cond.wait_unowned', lambda: c.wait(0.01))
    add('cond.notify_unowned', lambda: c.notify())

    def cond_wait_timeout():
        with c:
            return c.wait(0.05)
    add('cond.wait_timeout', cond_wait_timeout)

    def cond_on(lockf):
        def f():
            c2 = m.Condition(lockf())
            with c2:
                return c2.wait(0.05)
        return f
    add('cond.on_lock', cond_on(m.Lock))
    add('cond.on_rlock', cond_on(m.RLock))

    def cond_notify_thread():
        import threading
        c2 = m.Condition(m.Lock())
        res = []
        ready = threading.Event()

        def w():
            with c2:
                ready.set()
                res.append(c2.wait(10))
        t = threading.Thread(target=w)
        t.start()
        ready.wait(10)
        with c2:  # only acquirable once w waits
            c2.notify()
        t.join(20)
        return res
    add('cond.notify_thread', cond_notify_thread)
    e = m.Event()
    add('event.wait_timeout', lambda: e.wait(0.05))
    add('event.is_set', lambda: e.is_set())
    if hasattr(m, 'Barrier'):
        b = m.Barrier(3)
        add('barrier.parties', lambda: b.parties)
        add('barrier.n_waiting', lambda: b.n_waiting)
        add('barrier.broken', lambda: b.broken)
        add('barrier.zero', lambda: m.Barrier(0))
        add('barrier.wait_timeout', lambda: b.wait(0.05))
        add('barrier.broken_after', lambda: b.broken)
    q = m.Queue(1)
    add('queue.put', lambda: q.put(1))
    add('queue.full', lambda: q.put_nowait(2))
    add('queue.get', lambda: q.get())
    add('queue.empty', lambda: q.get_nowait())
    add('queue.get_timeout', lambda: q.get(True, 0.05))
    jq = m.JoinableQueue()
    add('jqueue.task_done_extra', lambda: jq.task_done())
    return out


def main():
    warnings.simplefilter('ignore')  # 3.13: the 'u' typecode is deprecated
    ap = argparse.ArgumentParser()
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int)
    ap.add_argument('--authkey-hex', default='')
    ap.add_argument('--cpython-server', action='store_true')
    opts = ap.parse_args()
    proc = None
    if opts.cpython_server:
        key = opts.authkey_hex or binascii.hexlify(os.urandom(16)).decode()
        proc = subprocess.Popen([sys.executable, '-c', SERVER_CODE, key], stdout=subprocess.PIPE)
        host, port = proc.stdout.readline().decode().split()
        address = (host, int(port))
    else:
        key = opts.authkey_hex
        address = (opts.host, opts.port)
    authkey = binascii.unhexlify(key)
    multiprocessing.current_process().authkey = authkey
    try:
        m = multiprocessing.managers.SyncManager(address=address, authkey=authkey)
        m.connect()
        results = {}
        for name, f in ops(m):
            t0 = time.time()
            results[name] = outcome(f)
            if time.time() - t0 > 1:
                sys.stderr.write('slow op %s: %.1fs\n' % (name, time.time() - t0))
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
    print(json.dumps({'python': '%d.%d' % sys.version_info[:2], 'results': results}, sort_keys=True))
    if proc is not None:
        # The server is gone: skip the proxies' exit-time decrefs (Python 2 retries a refused
        # connection for 20 s).
        sys.stdout.flush()
        os._exit(0)


if __name__ == '__main__':
    main()
