"""Python client of relaybench: real SyncManager proxies (standard library only).

  --mode connect --n N      N times: SyncManager(address, authkey).connect(), q = m.Queue(),
                            q.put(x), q.get(), timed as one sample. Output
                            {"ms": [...]}.
  --mode calls --n N        connect and make a queue, then N timed q.put(x) + q.get() pairs
                            on the open proxy. Output {"ms": [...]} (per pair).
  --mode ops --duration S   connect, make a queue, print READY, wait for a line on stdin,
                            then put/get pairs for S seconds. Output {"ops": n} (puts and
                            gets counted separately) and {"cpu": s}, the user and
                            system CPU time of the loop.
"""
from __future__ import print_function

import argparse
import binascii
import json
import os
import sys
import time

from multiprocessing.managers import SyncManager

try:
    clock = time.perf_counter
except AttributeError:  # 2.7
    clock = time.time

PAYLOAD = "relaybench-payload"


def manager(address, key):
    host, port = address.rsplit(":", 1)
    return SyncManager(address=(host, int(port)), authkey=key)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--address", required=True)
    p.add_argument("--authkey-hex", required=True)
    p.add_argument("--mode", required=True)
    p.add_argument("--n", type=int, default=5)
    p.add_argument("--duration", type=float, default=3)
    a = p.parse_args()
    key = binascii.unhexlify(a.authkey_hex)
    out = {}
    if a.mode == "connect":
        ms = []
        for _ in range(a.n):
            t0 = clock()
            m = manager(a.address, key)
            m.connect()
            q = m.Queue()
            q.put(PAYLOAD)
            q.get()
            ms.append((clock() - t0) * 1e3)
            del q
        out["ms"] = ms
    elif a.mode == "calls":
        m = manager(a.address, key)
        m.connect()
        q = m.Queue()
        q.put(PAYLOAD)
        q.get()
        ms = []
        for _ in range(a.n):
            t0 = clock()
            q.put(PAYLOAD)
            q.get()
            ms.append((clock() - t0) * 1e3)
        out["ms"] = ms
    elif a.mode == "ops":
        m = manager(a.address, key)
        m.connect()
        q = m.Queue()
        q.put(PAYLOAD)
        q.get()
        print("READY")
        sys.stdout.flush()
        sys.stdin.readline()
        n = 0
        put, get = q.put, q.get
        t = os.times()
        end = clock() + a.duration
        while clock() < end:
            put(PAYLOAD)
            get()
            n += 2
        t2 = os.times()
        out["ops"] = n
        out["cpu"] = (t2[0] - t[0]) + (t2[1] - t[1])
    else:
        sys.exit("unknown mode " + a.mode)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
