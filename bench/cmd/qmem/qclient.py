"""Client of bench/cmd/qmem: queue N small tuples in a manager server, then take them back.

    python qclient.py --address HOST:PORT --authkey-hex K --n N

Connects, creates q = m.Queue(), prints "READY" and waits for a line on stdin; then puts the N
items (i, 'task-%d' % i, 1.5) for i in range(N), prints "PUT <seconds>" and waits for a line;
then gets them all back (checking each), prints "GOT <seconds>" and exits. Standard library
only; Python 2.7 and 3.6+.
"""
from __future__ import print_function

import argparse
import binascii
import sys
import time

from multiprocessing.managers import SyncManager

try:
    clock = time.perf_counter
except AttributeError:  # 2.7
    clock = time.time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--address", required=True)
    ap.add_argument("--authkey-hex", required=True)
    ap.add_argument("--n", type=int, required=True)
    a = ap.parse_args()
    host, port = a.address.rsplit(":", 1)
    m = SyncManager(address=(host, int(port)), authkey=binascii.unhexlify(a.authkey_hex))
    m.connect()
    q = m.Queue()
    q.put(0)  # opens this thread's method-call connection
    q.get()
    print("READY")
    sys.stdout.flush()
    sys.stdin.readline()
    put, get = q.put, q.get
    t0 = clock()
    for i in range(a.n):
        put((i, 'task-%d' % i, 1.5))
    print("PUT %.6f" % (clock() - t0))
    sys.stdout.flush()
    sys.stdin.readline()
    t0 = clock()
    for i in range(a.n):
        item = get()
        if item != (i, 'task-%d' % i, 1.5):
            sys.exit("item %d is %r" % (i, item))
    print("GOT %.6f" % (clock() - t0))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
