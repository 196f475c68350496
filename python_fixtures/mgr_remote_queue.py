"""The documentation's remote queue ("Using a remote manager"): one process puts, another gets.

    python mgr_remote_queue.py --host H --port P --authkey-hex K --put a b c --get 2
puts the given strings, then gets --get items (with a timeout) and prints them as JSON.
--put-records N puts N dicts {'id': i, 'name': 'job<i>', 'sizes': [i, 2*i], 'big': 2**40 + i}
first (str keys and values: Python 2 str on 2.7).
"""
from multiprocessing.managers import BaseManager

from mgr_common import parse_args, emit


class QueueManager(BaseManager):
    pass


QueueManager.register('get_queue')


def main():
    def extra(p):
        p.add_argument('--put', nargs='*', default=[])
        p.add_argument('--get', type=int, default=0)
        p.add_argument('--put-records', type=int, default=0)
    a = parse_args(extra)
    m = QueueManager(address=a.address, authkey=a.authkey)
    m.connect()
    queue = m.get_queue()
    for i in range(a.put_records):
        queue.put({'id': i, 'name': 'job%d' % i, 'sizes': [i, 2 * i], 'big': 2 ** 40 + i})
    for item in a.put:
        queue.put(item)
    got = [queue.get(timeout=30) for _ in range(a.get)]
    emit({'got': got, 'qsize': queue.qsize()})


if __name__ == '__main__':
    main()
