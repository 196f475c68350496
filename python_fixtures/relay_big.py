"""A large value through the manager: puts --mib MiB of bytes on get_queue, gets it back and
checks it. Prints {"len": N, "same": true}."""
from multiprocessing.managers import BaseManager

from mgr_common import parse_args, emit


class QueueManager(BaseManager):
    pass


QueueManager.register('get_queue')


def main():
    def extra(p):
        p.add_argument('--mib', type=int, default=64)
    a = parse_args(extra)
    m = QueueManager(address=a.address, authkey=a.authkey)
    m.connect()
    q = m.get_queue()
    block = bytes(bytearray(range(256))) * 4096  # 1 MiB
    data = block * a.mib + b'end'
    q.put(data)
    got = q.get(timeout=120)
    emit({'len': len(got), 'same': got == data})


if __name__ == '__main__':
    main()
