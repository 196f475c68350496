"""A user program of objects shared with `mpgo serve --shared NAME=TYPE(ARGS)`, reached the way
CPython scripts reach them: BaseManager.register('get_dict') (AutoProxy) and
register('get_dict', proxytype=DictProxy).

    python mgr_shared.py --host H --port P --authkey-hex K --round N

The server shares get_dict=dict, get_list=list, get_namespace=Namespace, get_value=Value("i", 0),
get_array=Array("d", [0.5, 1.5]), get_queue=Queue(10), get_lock=Lock, get_rlock=RLock,
get_event=Event, get_cond=Condition, get_sem=Semaphore(2) and (Python 3) get_barrier=Barrier(1).
Round N writes N into each object; round N > 1 also reads what round N-1 (another process) left.
Prints one JSON object with the state seen. Standard library only; Python 2.7 and 3.6+.
"""
import sys
from multiprocessing.managers import (BaseManager, DictProxy, ListProxy, NamespaceProxy,
                                      ValueProxy, ArrayProxy, AcquirerProxy, ConditionProxy,
                                      EventProxy, IteratorProxy)

from mgr_common import parse_args, emit

PY3 = sys.version_info[0] >= 3


class AutoManager(BaseManager):
    pass


class TypedManager(BaseManager):
    pass


for name in ('get_dict', 'get_list', 'get_queue', 'get_lock', 'get_event', 'get_value', 'get_sem'):
    AutoManager.register(name)
for name, proxy in (('get_dict', DictProxy), ('get_list', ListProxy), ('get_namespace', NamespaceProxy),
                    ('get_value', ValueProxy), ('get_array', ArrayProxy), ('get_rlock', AcquirerProxy),
                    ('get_cond', ConditionProxy), ('get_event', EventProxy)):
    TypedManager.register(name, proxytype=proxy)
# A dict's __iter__ returns an Iterator proxy: the client registry must know the typeid.
for M in (AutoManager, TypedManager):
    M.register('Iterator', proxytype=IteratorProxy, create_method=False)
if PY3:
    from multiprocessing.managers import BarrierProxy
    TypedManager.register('get_barrier', proxytype=BarrierProxy)


def main():
    a = parse_args(lambda p: p.add_argument('--round', type=int, required=True))
    r = a.round
    auto = AutoManager(address=a.address, authkey=a.authkey)
    auto.connect()
    typed = TypedManager(address=a.address, authkey=a.authkey)
    typed.connect()
    res = {}

    # register('NAME'): AutoProxy, with the methods the server lists.
    d = auto.get_dict()
    d['auto%d' % r] = r
    res['auto_dict_iter'] = sorted(iter(d))
    l = auto.get_list()
    l.append(r)
    q = auto.get_queue()
    res['queue_before'] = q.get_nowait() if r > 1 else None
    q.put(r)
    lock = auto.get_lock()
    res['lock'] = [lock.acquire(), lock.acquire(False)]
    lock.release()
    ev = auto.get_event()
    res['event_before'] = ev.is_set()
    ev.set()
    v = auto.get_value()
    v.set(v.get() + 1)
    sem = auto.get_sem()
    res['sem'] = [sem.acquire(), sem.acquire(), sem.acquire(False)]
    sem.release()
    sem.release()

    # register('NAME', proxytype=...): the proxies SyncManager uses.
    td = typed.get_dict()
    td['typed%d' % r] = [r, str(r)]
    res['dict'] = sorted(td.items())
    res['dict_iter'] = sorted(td)  # __iter__ returns an Iterator proxy
    tl = typed.get_list()
    tl += ['t%d' % r]
    res['list'] = list(tl)
    ns = typed.get_namespace()
    res['namespace_before'] = getattr(ns, 'x', None)
    ns.x = r
    tv = typed.get_value()
    tv.value += 10
    res['value'] = tv.value
    arr = typed.get_array()
    arr[0] = arr[0] + 1
    res['array'] = list(arr[:])
    res['event'] = typed.get_event().is_set()
    rl = typed.get_rlock()
    res['rlock'] = [bool(rl.acquire()), bool(rl.acquire())]
    rl.release()
    rl.release()
    cond = typed.get_cond()
    with cond:
        cond.notify_all()
        res['cond_wait'] = cond.wait(0.01)
    if PY3:
        res['barrier'] = [typed.get_barrier().parties, typed.get_barrier().wait()]
    emit(res)


if __name__ == '__main__':
    main()
