"""Calls that block until their connection dies: --calls threads each call the wait method of a
Block object, which the server never answers. Prints {"started": N} once the calls are started,
then, when every call has ended (the test cuts the link), what each one raised and the spread
in seconds between the first and the last to end."""
import threading
import time
from multiprocessing.managers import BaseManager

from mgr_common import parse_args, emit


class BlockManager(BaseManager):
    pass


BlockManager.register('Block')


def main():
    def extra(p):
        p.add_argument('--calls', type=int, default=4)
    a = parse_args(extra)
    m = BlockManager(address=a.address, authkey=a.authkey)
    m.connect()
    blocks = [m.Block() for _ in range(a.calls)]
    outcomes = [None] * a.calls
    ended = [None] * a.calls

    def call(i):
        try:
            blocks[i].wait()
            outcomes[i] = 'returned'
        except Exception as e:
            outcomes[i] = type(e).__name__
        ended[i] = time.time()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(a.calls)]
    for t in threads:
        t.daemon = True
        t.start()
    emit({'started': a.calls})
    for t in threads:
        t.join(120)
    emit({'outcomes': outcomes, 'spread': max(ended) - min(ended) if all(ended) else -1})


if __name__ == '__main__':
    main()
