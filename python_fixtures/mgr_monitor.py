"""A client that stays connected while a test looks at mpgo serve --http's metrics and page.

    python mgr_monitor.py --host H --port P --authkey-hex K --put N

Against mpgo serve --queue jobs --queue release: puts N items on the named queue 'jobs' and
N // 2 + 1 on a new SyncManager Queue, prints {"ready": ...} as JSON, then blocks in
release.get() until the test puts an item there, prints {"released": item} and exits.
"""
from multiprocessing.managers import SyncManager

from mgr_common import parse_args, emit


class Manager(SyncManager):
    pass


Manager.register('jobs')
Manager.register('release')


def main():
    def extra(p):
        p.add_argument('--put', type=int, default=5)
    a = parse_args(extra)
    m = Manager(address=a.address, authkey=a.authkey)
    m.connect()
    jobs = m.jobs()
    for i in range(a.put):
        jobs.put(i)
    q = m.Queue()
    for i in range(a.put // 2 + 1):
        q.put(str(i))
    release = m.release()
    emit({'ready': True, 'jobs': jobs.qsize(), 'queue': q.qsize()})
    item = release.get(timeout=60)
    emit({'released': item})


if __name__ == '__main__':
    main()
