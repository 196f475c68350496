"""A user program of a manager with serializer='xmlrpclib' (CPython's XmlListener/XmlClient),
next to a pickle client of the same server on the same port, used from two threads at once.

    python mgr_xmlrpc.py --host H --port P --authkey-hex K

The server registers get_queue (one shared queue), Errors (methods raising Python exceptions)
and every SyncManager typeid. Prints one JSON object:
  values       [[name, ok, repr of what came back]] for a queue round trip of each XML-RPC type
  cross        what the pickle client got from the xmlrpclib client and the other way round
  errors       {name: [exception class, last line of its text]}
  unserializable  [exception class, text] of a get whose item XML-RPC cannot carry, and
  after        the result of the next call on the same proxy (the connection is still usable)
  dict, list, value, array, namespace, lock, event: results of those shared types
  threads      calls made concurrently by both clients, and how many failed
  n_start, n_end  number_of_objects before and after (all proxies released)
Standard library only; Python 2.7 and 3.6+.
"""
import datetime
import gc
import sys
import threading
from multiprocessing.managers import SyncManager, RemoteError, dispatch

try:
    import xmlrpc.client as xmlrpclib
except ImportError:  # Python 2
    import xmlrpclib

from mgr_common import parse_args, emit

PY2 = sys.version_info[0] == 2


class XManager(SyncManager):
    pass


class PManager(SyncManager):
    pass


for M in (XManager, PManager):
    M.register('get_queue')
    M.register('Errors')


def public(m, name, *args):
    conn = m._Client(m._address, authkey=m._authkey)
    try:
        return dispatch(conn, None, name, args)
    finally:
        conn.close()


def last_line(e):
    lines = [l for l in str(e).splitlines() if l.strip() and not l.startswith('-----')]
    return lines[-1] if lines else ''


def outcome(f, *args):
    try:
        return ['ok', repr(f(*args))]
    except RemoteError as e:
        return ['RemoteError', last_line(e)]
    except Exception as e:
        return [type(e).__name__, last_line(e)]


def run(x, p, res):
    xq = x.get_queue()
    pq = p.get_queue()
    when = datetime.datetime(2026, 1, 2, 15, 4, 5)
    values = [
        ('none', None, None),
        ('true', True, True),
        ('false', False, False),
        ('int', -7, -7),
        ('int32', 2 ** 31 - 1, 2 ** 31 - 1),
        ('float', 2.25, 2.25),
        ('inf', float('inf'), float('inf')),
        ('str', 'hello <&> world', 'hello <&> world'),
        ('unicode', u'hall\xe5 \u043f\u0440\u0438\u0432\u0456\u0442 \U0001F600', u'hall\xe5 \u043f\u0440\u0438\u0432\u0456\u0442 \U0001F600'),
        ('crlf', 'a\r\nb', 'a\nb'),  # XML's line-end normalisation, on the way to the server
        ('binary', xmlrpclib.Binary(b'hall\xe5 \x00v\xe4rlden'), xmlrpclib.Binary(b'hall\xe5 \x00v\xe4rlden')),
        ('tuple', (1, 'a', None), [1, 'a', None]),
        ('list', [1, [2, [3]]], [1, [2, [3]]]),
        ('dict', {'a': 1, 'b': [True, {'c': 2.5}]}, {'a': 1, 'b': [True, {'c': 2.5}]}),
        ('empty', ([], {}, ''), [[], {}, '']),
        ('datetime', xmlrpclib.DateTime(when), xmlrpclib.DateTime(when)),
    ]
    if not PY2:
        values.append(('bytes', b'hall\xe5 v\xe4rlden', b'hall\xe5 v\xe4rlden'))  # as Binary
    out = []
    for name, v, want in values:
        xq.put(v)
        got = xq.get()
        out.append([name, got == want, repr(got)])
    res['values'] = out

    # Across serializers, on the one shared queue.
    pq.put((1, u'\xe5', b'raw', {'k': [None]}))
    got = xq.get()
    xq.put([2, xmlrpclib.Binary(b'\x00\xff'), {'k': 1.5}])
    back = pq.get()
    res['cross'] = {
        'xml_got': [type(v).__name__ for v in got],
        'xml_equal': got == [1, u'\xe5', b'raw', {'k': [None]}],
        'pickle_got': [type(v).__name__ for v in back],
        'pickle_equal': back == [2, b'\x00\xff', {'k': 1.5}],
    }
    xq.put(xmlrpclib.DateTime(when))
    pdt = pq.get()
    res['cross']['pickle_datetime'] = [pdt.__class__.__name__, str(pdt)]

    # What XML-RPC cannot carry: a clear error for that call, the proxy keeps working.
    pq.put(set([1, 2]))
    res['unserializable'] = outcome(xq.get)
    pq.put(2 ** 40)  # beyond what xmlrpclib writes (<int>, 32 bits), within what it reads (<i8>)
    res['i8'] = outcome(xq.get)
    pq.put(2 ** 70)
    res['bigint'] = outcome(xq.get)
    xq.put('still usable')
    res['after'] = outcome(xq.get)
    res['client_side'] = outcome(xq.put, set([1]))  # refused by xmlrpclib itself, before sending

    errs = x.Errors()
    res['errors'] = {}
    for n in ('key_error', 'index_error', 'value_error', 'type_error', 'empty', 'go_error', 'unserializable'):
        res['errors'][n] = outcome(getattr(errs, n))
    res['errors']['after'] = outcome(errs.key_error)

    d = x.dict()
    d['a'] = 1
    d.update({'b': [1, 2]})
    res['dict'] = {
        'items': sorted(d.items()),
        'get': d.get('b'),
        'len': len(d),
        'contains': 'a' in d,
        'missing': outcome(lambda: d['nope']),
        'iter': outcome(lambda: list(iter(d))),  # __iter__ returns a proxy: cannot travel
        'copy': d.copy(),
    }
    l = x.list([1, 2, 3])
    l.append('x')
    res['list'] = {'len': len(l), 'item': l[3], 'index_error': outcome(lambda: l[10])}
    v = x.Value('i', 5)
    v.value = v.value + 37
    dv = x.Value('d', 0.5)
    arr = x.Array('i', [1, 2, 3])
    arr[0] = 10
    res['value'] = [v.value, dv.value]
    res['array'] = [len(arr), arr[0], [arr[i] for i in range(len(arr))]]
    ns = x.Namespace(a=1)
    ns.b = 'two'
    res['namespace'] = [ns.a, ns.b, outcome(lambda: ns.c)]
    lock = x.Lock()
    res['lock'] = [lock.acquire(), lock.acquire(False), lock.release()]
    ev = x.Event()
    ev.set()
    res['event'] = [ev.is_set(), ev.wait(1)]

    # Both clients at once, from two threads each.
    failures = []
    counts = [0]
    mu = threading.Lock()

    def worker(m, tag):
        try:
            q = m.get_queue()
            dd = m.dict()
            for i in range(25):
                dd[tag] = i
                q.put([tag, i])
                q.get()
            with mu:
                counts[0] += 25
        except Exception as e:
            with mu:
                failures.append('%s: %r' % (tag, e))

    threads = [threading.Thread(target=worker, args=(m, tag))
               for m, tag in ((x, 'x1'), (x, 'x2'), (p, 'p1'), (p, 'p2'))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    res['threads'] = {'calls': counts[0], 'failures': failures}


def main():
    a = parse_args()
    x = XManager(address=a.address, authkey=a.authkey, serializer='xmlrpclib')
    x.connect()
    # CPython proxies share one connection per thread and server address, whatever their
    # serializer: the pickle manager names the same server differently to get its own.
    paddr = a.address
    if isinstance(paddr, tuple) and paddr[0] == '127.0.0.1':
        paddr = ('localhost', paddr[1])
    p = PManager(address=paddr, authkey=a.authkey)
    p.connect()
    res = {'n_start': public(x, 'number_of_objects')}
    run(x, p, res)
    gc.collect()  # the proxies of run are gone: their decrefs were sent
    res['n_end'] = public(x, 'number_of_objects')
    emit(res)


if __name__ == '__main__':
    main()
