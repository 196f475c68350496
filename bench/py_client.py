"""Python client side of the mpgo benchmark harness: real SyncManager proxies.

Modes (one JSON line on stdout; diagnostics on stderr):

  --mode ops --duration S   connect, q = m.Queue(), print "READY", wait for a
                            line on stdin, then put/get round trips for S
                            seconds. Output: {"ops": n, "lat_us": [...]} with
                            one latency per round trip (a put or a get), in
                            microseconds.
  --mode connect --n N      N times: SyncManager(address, authkey).connect()
                            followed by m.Queue() (the first proxy), timed.
                            Output: {"connect_ms": [...], "cpu_ms": [...]}
                            (wall and this process's CPU time per sample).
  --mode floor --n N        (Python 3) against the harness's echo server: the transport
                            part of the above without a manager. Four fresh
                            connections (connect() and the three of m.Queue()),
                            each with the four round trips a one-shot manager
                            connection waits for (challenge, WELCOME, the
                            answer to our challenge, the reply), through
                            multiprocessing.connection.Connection. Same output.

Standard library only; the harness runs it with CPython 3.13 by default.
"""
from __future__ import print_function

import argparse
import binascii
import gc
import json
import socket
import sys
import time

from multiprocessing.connection import Connection
from multiprocessing.managers import SyncManager

PAYLOAD = "mpgo-bench-payload"

try:
    clock = time.perf_counter
except AttributeError:  # 2.7
    clock = time.time


def manager(address, key):
    host, port = address.rsplit(":", 1)
    return SyncManager(address=(host, int(port)), authkey=key)


def run_ops(address, key, duration):
    m = manager(address, key)
    m.connect()
    q = m.Queue()
    q.put(PAYLOAD)  # opens this thread's method-call connection
    q.get()
    print("READY")
    sys.stdout.flush()
    sys.stdin.readline()
    lat = []
    put, get = q.put, q.get
    end = clock() + duration
    while True:
        t0 = clock()
        if t0 >= end:
            break
        put(PAYLOAD)
        t1 = clock()
        get()
        t2 = clock()
        lat.append(int((t1 - t0) * 1e6))
        lat.append(int((t2 - t1) * 1e6))
    return {"ops": len(lat), "lat_us": lat}


try:
    cpu_clock = time.process_time
except AttributeError:  # 2.7
    cpu_clock = time.clock


def run_connect(address, key, n):
    out, cpu = [], []
    for _ in range(n):
        t0, c0 = clock(), cpu_clock()
        m = manager(address, key)
        m.connect()
        q = m.Queue()
        t1, c1 = clock(), cpu_clock()
        out.append((t1 - t0) * 1e3)
        cpu.append((c1 - c0) * 1e3)
        del q, m
        gc.collect()
    return {"connect_ms": out, "cpu_ms": cpu}


# Frame sizes of a one-shot manager connection from 3.13 (the challenge with
# its {sha256} prefix, the 32-byte digest, WELCOME, a small request).
FLOOR_FRAMES = (59, 40, 59, 80)


def run_floor(address, n):
    host, port = address.rsplit(":", 1)
    out, cpu = [], []
    for _ in range(n):
        t0, c0 = clock(), cpu_clock()
        for _conn in range(4):
            s = socket.create_connection((host, int(port)))
            c = Connection(s.detach())
            for size in FLOOR_FRAMES:
                c.send_bytes(b"x" * size)
                c.recv_bytes()
            c.close()
        t1, c1 = clock(), cpu_clock()
        out.append((t1 - t0) * 1e3)
        cpu.append((c1 - c0) * 1e3)
    return {"connect_ms": out, "cpu_ms": cpu}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--address", required=True)
    ap.add_argument("--authkey-hex", default="")
    ap.add_argument("--mode", choices=["ops", "connect", "floor"], default="ops")
    ap.add_argument("--duration", type=float, default=2.0)
    ap.add_argument("--n", type=int, default=20)
    a = ap.parse_args()
    key = binascii.unhexlify(a.authkey_hex)
    if a.mode == "ops":
        res = run_ops(a.address, key, a.duration)
    elif a.mode == "connect":
        res = run_connect(a.address, key, a.n)
    else:
        res = run_floor(a.address, a.n)
    print(json.dumps(res))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
