"""Many Python processes at once against one manager: each puts its number on the shared queue
and calls Maths.add; the parent collects everything."""
import multiprocessing
import sys
from multiprocessing.managers import BaseManager

from mgr_common import parse_args, emit


class QueueManager(BaseManager):
    pass


QueueManager.register('get_queue')
QueueManager.register('Maths')


def worker(address, authkey, i, results):
    m = QueueManager(address=address, authkey=authkey)
    m.connect()
    m.get_queue().put(i)
    results.put(m.Maths().add(i, 1000))


def main():
    def extra(p):
        p.add_argument('--procs', type=int, default=50)
    a = parse_args(extra)
    results = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=worker, args=(a.address, a.authkey, i, results))
             for i in range(a.procs)]
    for p in procs:
        p.start()
    sums = sorted(results.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(60)
    m = QueueManager(address=a.address, authkey=a.authkey)
    m.connect()
    q = m.get_queue()
    items = sorted(q.get(timeout=30) for _ in procs)
    emit({'items': items, 'sums': sums, 'exitcodes': sorted(set(p.exitcode for p in procs))})


if __name__ == '__main__':
    main()
