"""A client that dies without its decrefs, and one that stays idle (mpgo serve --reclaim-after).

    python mgr_reclaim.py --host H --port P --authkey-hex K --role dead
creates a Queue, a dict and a list and calls get_queue(), uses all but the list, prints
{"idents": {...}} and then waits to be killed (the test sends SIGKILL: no decref is ever sent).

    python mgr_reclaim.py --host H --port P --authkey-hex K --role live
creates a dict and calls get_queue(), uses both (so this thread's method connection stays open),
prints {"idents": {...}}, waits for a line on stdin, uses both again, prints the results and
exits normally (its proxies' decrefs are sent at exit).
"""
import sys
import time
from multiprocessing.managers import SyncManager

from mgr_common import parse_args, emit


class Manager(SyncManager):
    pass


Manager.register('get_queue')


def main():
    def extra(p):
        p.add_argument('--role', choices=['dead', 'live'], required=True)
    a = parse_args(extra)
    m = Manager(address=a.address, authkey=a.authkey)
    m.connect()
    if a.role == 'dead':
        q = m.Queue()
        d = m.dict()
        unused = m.list()
        shared = m.get_queue()
        q.put('item')
        d['k'] = 'v'
        shared.put('from the dead client')
        emit({'idents': {'queue': q._token.id, 'dict': d._token.id, 'list': unused._token.id,
                         'get_queue': shared._token.id}})
        while True:  # until SIGKILL
            time.sleep(3600)
    d = m.dict()
    shared = m.get_queue()
    d['k'] = 'v'
    shared.put('from the live client')
    emit({'idents': {'dict': d._token.id, 'get_queue': shared._token.id}})
    sys.stdin.readline()
    d['k2'] = 'v2'
    emit({'dict': sorted(d.items()), 'got': [shared.get(timeout=30), shared.get(timeout=30)]})


if __name__ == '__main__':
    main()
