"""A tour of a manager's features as a user program sees them: method_to_typeid proxies,
errors of every kind, fallbacks, nested proxies, unknown idents, unexposed methods and
reference counts back to their start. Prints one JSON object."""
import gc
import sys
from multiprocessing.managers import SyncManager, RemoteError, dispatch

try:
    import queue
except ImportError:  # Python 2
    import Queue as queue

from mgr_common import parse_args, emit, log

PY2 = sys.version_info[0] == 2


class MyManager(SyncManager):
    pass


MyManager.register('Counter', method_to_typeid={'child': 'Child'})
MyManager.register('Child', create_method=False)
MyManager.register('Errors')
MyManager.register('Bounded')


def public(m, name, *args):
    conn = m._Client(m._address, authkey=m._authkey)
    try:
        return dispatch(conn, None, name, args)
    finally:
        conn.close()


def outcome(f, *args, **kwargs):
    """Call f and describe what it raised: [class name, isinstance checks, text]."""
    try:
        r = f(*args, **kwargs)
    except queue.Empty as e:
        return ['queue.Empty', str(e)]
    except queue.Full as e:
        return ['queue.Full', str(e)]
    except RemoteError as e:
        return ['RemoteError', str(e)]
    except Exception as e:
        return [type(e).__name__, str(e)]
    return ['ok', repr(r)]


def main():
    a = parse_args()
    m = MyManager(address=a.address, authkey=a.authkey)
    m.connect()
    res = {}
    res['n_start'] = public(m, 'number_of_objects')
    res['debug_start'] = public(m, 'debug_info')

    c = m.Counter()
    c.incr(2)
    res['incr'] = c.incr(3)
    k = c.child()
    k.append(3)
    res['child'] = k._getvalue()
    res['child_proxy'] = type(k).__name__
    res['str'] = str(c)
    res['n_mid'] = public(m, 'number_of_objects')
    res['debug_mid'] = public(m, 'debug_info')

    e = m.Errors()
    errs = {}
    for name in ['key_error', 'index_error', 'value_error', 'type_error', 'attribute_error',
                 'empty', 'full', 'go_error', 'panic', 'unserializable']:
        errs[name] = outcome(getattr(e, name))
    errs['after_panic'] = outcome(e.key_error)
    b = m.Bounded()
    b.put_nowait(1)
    errs['put_full'] = outcome(b.put_nowait, 2)
    errs['put_timeout'] = outcome(b.put, 2, True, 0.05)
    b.get_nowait()
    errs['get_empty'] = outcome(b.get_nowait)
    errs['get_timeout'] = outcome(b.get, True, 0.05)
    errs['negative_timeout'] = outcome(b.get, True, -1)
    b.task_done()
    errs['task_done'] = outcome(b.task_done)
    errs['not_exposed'] = outcome(c._callmethod, 'nosuch')
    saved = c._id
    c._id = 'ffff0000'
    errs['unknown_ident'] = outcome(c._callmethod, 'incr', (1,))
    c._id = saved
    errs['getvalue_unpicklable'] = outcome(b._getvalue)
    res['errors'] = errs

    d = m.dict()
    lst = m.list([1])
    d['l'] = lst
    x = d['l']
    if PY2:
        res['nested'] = x  # 2.7 stores and returns the referent's value
    else:
        x.append(2)
        res['nested'] = lst._getvalue()
        del x
    del d, lst, c, k, e, b
    gc.collect()
    res['n_end'] = public(m, 'number_of_objects')
    res['debug_end'] = public(m, 'debug_info')
    emit(res)


if __name__ == '__main__':
    main()
